import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { render } from 'ink-testing-library';
import type { CollectionStats } from '../../src/engine/types.js';
import { CollectionView } from '../../src/tui/collection-view.js';
import { DEFAULT_THEME } from '../../src/tui/theme.js';
import { KEY, smallDatabase, tick, waitFor, type TestDatabase } from './helpers.js';

const noop = (): void => {};

/** Ids of the record rows of a frame, and the selected one. */
function rows(frame: string): { ids: string[]; selected: string | undefined } {
  const lines = frame.split('\n').filter((l) => /^[› ] note-\d\d /.test(l));
  return { ids: lines.map((l) => l.slice(2).split(/\s+/)[0] as string), selected: lines.find((l) => l.startsWith('›'))?.slice(2).split(/\s+/)[0] };
}

const ids = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `note-${String(from + i).padStart(2, '0')}`);

describe('CollectionView', () => {
  let data: TestDatabase;
  let stats: CollectionStats;
  after(() => data.close());
  before(async () => {
    data = await smallDatabase();
    stats = await data.backend.collectionStats('notes');
  });

  it('pages through records in id order: arrows, PgDn/PgUp, g/G, and Enter opens the selected record', async () => {
    const opened: string[] = [];
    // 22 lines: a summary, a header, 19 rows, the position.
    const app = render(
      <CollectionView backend={data.backend} name="notes" stats={stats} width={80} height={22} theme={DEFAULT_THEME} active onOpenRecord={(id) => opened.push(id)} onSearch={noop} onBack={noop} onHelp={noop} onReload={noop} />,
    );
    const frame = await waitFor(() => {
      const f = app.lastFrame() ?? '';
      assert.deepEqual(rows(f).ids, ids(0, 18));
      return f;
    });
    const lines = frame.split('\n');
    assert.equal(lines.length, 22);
    for (const line of lines) assert.ok(line.length <= 80, `wider than 80: ${line}`);
    assert.match(lines[0] ?? '', /notes · 60 records · 60 documents · 32d cosine · \w+ · use:word-hash-test/);
    assert.match(lines[1] ?? '', /id\s+text\s+metadata/);
    assert.match(frame, /› note-00\s+Note 0: bread baking with flour an… topic, year, tags/);
    assert.match(frame, /records 1–19 of 60 · page 1\/4/);

    app.stdin.write('j');
    await tick();
    app.stdin.write(KEY.down);
    await waitFor(() => assert.equal(rows(app.lastFrame() ?? '').selected, 'note-02'));
    app.stdin.write('k');
    await waitFor(() => assert.equal(rows(app.lastFrame() ?? '').selected, 'note-01'));

    app.stdin.write(KEY.pageDown);
    await waitFor(() => {
      const f = app.lastFrame() ?? '';
      assert.deepEqual(rows(f).ids, ids(19, 37));
      assert.equal(rows(f).selected, 'note-20', 'the row is kept');
      assert.match(f, /records 20–38 of 60 · page 2\/4/);
    });
    app.stdin.write('G');
    await waitFor(() => {
      const f = app.lastFrame() ?? '';
      assert.deepEqual(rows(f).ids, ids(57, 59));
      assert.equal(rows(f).selected, 'note-59');
      assert.match(f, /records 58–60 of 60 · page 4\/4/);
    });
    app.stdin.write(KEY.pageUp);
    await waitFor(() => assert.deepEqual(rows(app.lastFrame() ?? '').ids, ids(38, 56)));
    // Down from the last row of a page goes on to the next page.
    app.stdin.write('G');
    await waitFor(() => assert.equal(rows(app.lastFrame() ?? '').selected, 'note-59'));
    app.stdin.write('g');
    await waitFor(() => assert.equal(rows(app.lastFrame() ?? '').selected, 'note-00'));
    for (let i = 0; i < 19; i++) {
      app.stdin.write('j');
      await tick(15);
    }
    await waitFor(() => {
      const f = app.lastFrame() ?? '';
      assert.equal(rows(f).selected, 'note-19');
      assert.equal(rows(f).ids[0], 'note-19');
    });
    app.stdin.write('k');
    await waitFor(() => assert.equal(rows(app.lastFrame() ?? '').selected, 'note-18'));
    app.stdin.write(KEY.enter);
    await waitFor(() => assert.deepEqual(opened, ['note-18']));
    app.unmount();
  });

  it('shows the chunk ids of a chunked document, and goes back with q or Esc', async () => {
    let back = 0;
    const app = render(
      <CollectionView backend={data.backend} name="book" stats={await data.backend.collectionStats('book')} width={80} height={12} theme={DEFAULT_THEME} active onOpenRecord={noop} onSearch={noop} onBack={() => (back += 1)} onHelp={noop} onReload={noop} />,
    );
    await waitFor(() => {
      const f = app.lastFrame() ?? '';
      assert.match(f, /› chapter#0\s+Sentence number 1 talks/);
      assert.match(f, /chapter#1\s/);
      assert.match(f, /preface\s+A short preface\.\s/);
      assert.match(f, /book · 6 records · 2 documents/);
    });
    app.stdin.write('q');
    await tick();
    app.stdin.write(KEY.escape);
    await waitFor(() => assert.equal(back, 2));
    app.unmount();
  });
});
