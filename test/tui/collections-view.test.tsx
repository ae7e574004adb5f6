import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { render } from 'ink-testing-library';
import type { CollectionStats } from '../../src/engine/types.js';
import { CollectionsView } from '../../src/tui/collections-view.js';
import { DEFAULT_THEME } from '../../src/tui/theme.js';
import { KEY, smallDatabase, tick, waitFor, type TestDatabase } from './helpers.js';

const noop = (): void => {};

function selectedLine(frame: string): string {
  const line = frame.split('\n').find((l) => l.startsWith('›'));
  assert.ok(line !== undefined, `no selected row in:\n${frame}`);
  return line;
}

describe('CollectionsView', () => {
  let data: TestDatabase;
  let collections: CollectionStats[];
  after(() => data.close());
  before(async () => {
    data = await smallDatabase();
    collections = await data.backend.listCollections();
  });

  function view(overrides: Partial<Parameters<typeof CollectionsView>[0]> = {}) {
    const calls: { open: string[]; search: string[]; quit: number; help: number } = { open: [], search: [], quit: 0, help: 0 };
    const app = render(
      <CollectionsView
        collections={collections}
        loading={false}
        error={undefined}
        source="/data"
        width={80}
        height={22}
        theme={DEFAULT_THEME}
        active
        onOpen={(s) => calls.open.push(s.name)}
        onSearch={(s) => calls.search.push(s.name)}
        onReload={noop}
        onQuit={() => (calls.quit += 1)}
        onHelp={() => (calls.help += 1)}
        {...overrides}
      />,
    );
    return { app, calls };
  }

  it('lists every collection with records, dimension, metric, index, embedder and size, within 80 columns', () => {
    const { app } = view();
    const frame = app.lastFrame() ?? '';
    const lines = frame.split('\n');
    assert.match(lines[0] ?? '', /name\s+records\s+dim\s+metric\s+index\s+embedder\s+size/);
    assert.match(frame, /› book\s+6\s+32 cosine \w+\s+use:word-hash-test\s+\d/);
    assert.match(frame, / {2}notes\s+60\s+32 cosine \w+\s+use:word-hash-test/);
    assert.match(frame, / {2}vec\s+20\s+4 cosine \w+\s+none/);
    assert.match(frame, /3 collections/);
    assert.equal(lines.length, 22);
    for (const line of lines) assert.ok(line.length <= 80, `wider than 80: ${line}`);
    app.unmount();
  });

  it('moves the selection with arrows and j/k, opens with Enter, searches with s, quits with q and Esc', async () => {
    const { app, calls } = view();
    app.stdin.write('j');
    await tick();
    assert.match(selectedLine(app.lastFrame() ?? ''), /notes/);
    app.stdin.write(KEY.down);
    await tick();
    assert.match(selectedLine(app.lastFrame() ?? ''), /vec/);
    app.stdin.write(KEY.down);
    await tick();
    assert.match(selectedLine(app.lastFrame() ?? ''), /vec/, 'stays on the last row');
    app.stdin.write('k');
    await tick();
    app.stdin.write(KEY.enter);
    await tick();
    app.stdin.write('s');
    await tick();
    assert.deepEqual(calls.open, ['notes']);
    assert.deepEqual(calls.search, ['notes']);
    app.stdin.write('?');
    await tick();
    app.stdin.write('q');
    await tick();
    app.stdin.write(KEY.escape);
    await waitFor(() => assert.equal(calls.quit, 2));
    assert.equal(calls.help, 1);
    app.unmount();
  });

  it('filters by name with /, keeps the filter on Enter and clears it on Esc', async () => {
    const { app, calls } = view();
    app.stdin.write('/');
    await tick();
    app.stdin.write('o');
    await tick();
    app.stdin.write('t');
    await tick();
    let frame = app.lastFrame() ?? '';
    assert.match(frame, /^\/ ot/m);
    assert.match(frame, /notes/);
    assert.doesNotMatch(frame, /book|vec/);
    assert.match(frame, /1 of 3 collections/);
    app.stdin.write(KEY.enter);
    await tick();
    app.stdin.write(KEY.enter);
    await tick();
    assert.deepEqual(calls.open, ['notes']);
    app.stdin.write('/');
    await tick();
    app.stdin.write(KEY.ctrlU);
    await tick();
    app.stdin.write('zzz');
    await tick();
    assert.match(app.lastFrame() ?? '', /No collection name contains "zzz"/);
    app.stdin.write(KEY.escape);
    await waitFor(() => assert.match(app.lastFrame() ?? '', /^ +3 collections/m));
    frame = app.lastFrame() ?? '';
    assert.match(frame, /book/);
    assert.equal(calls.quit, 0, 'Esc in the filter closes the filter, not the app');
    app.unmount();
  });

  it('says how to create a collection when there is none', () => {
    const { app } = view({ collections: [] });
    assert.match(app.lastFrame() ?? '', /No collections in \/data\. Create one with: piramid create <name>/);
    app.unmount();
  });
});
