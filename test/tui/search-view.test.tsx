import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { render } from 'ink-testing-library';
import { EmbeddedBackend } from '../../src/client/backend.js';
import type { QueryJson, QuerySpec } from '../../src/cli/query-runner.js';
import { SearchView } from '../../src/tui/search-view.js';
import { DEFAULT_THEME } from '../../src/tui/theme.js';
import { KEY, smallDatabase, tick, waitFor, type TestDatabase } from './helpers.js';

const noop = (): void => {};

/** The engine backend, remembering the queries the view ran. */
class RecordingBackend extends EmbeddedBackend {
  readonly specs: QuerySpec[] = [];
  override query(spec: QuerySpec): Promise<QueryJson> {
    this.specs.push(spec);
    return super.query(spec);
  }
}

/** Hit rows of a frame: rank, score and id. */
function hits(frame: string): { rank: number; score: number; id: string }[] {
  return frame
    .split('\n')
    .map((line) => /^ {0,4}(\d+) [█▏▎▍▌▋▊▉ ]{10}\s+(-?\d+\.\d+)\s+(\S+)/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ rank: Number(m[1]), score: Number(m[2]), id: m[3] as string }));
}

async function type(stdin: { write: (s: string) => void }, text: string): Promise<void> {
  for (const char of text) {
    stdin.write(char);
    await tick(10);
  }
}

describe('SearchView', () => {
  let data: TestDatabase;
  let backend: RecordingBackend;
  after(() => data.close());
  before(async () => {
    data = await smallDatabase();
    backend = new RecordingBackend(data.db);
  });

  it('runs the query once typing pauses, and shows rank, score bars, ids and the latency', async () => {
    const opened: string[] = [];
    let back = 0;
    const app = render(
      <SearchView backend={backend} collection="notes" metric="cosine" width={80} height={22} theme={DEFAULT_THEME} active debounceMs={300} onOpenRecord={(id) => opened.push(id)} onBack={() => (back += 1)} onHelp={noop} />,
    );
    assert.match(app.lastFrame() ?? '', /Type a query/);
    await type(app.stdin, 'bread baking');
    const frame = await waitFor(() => {
      const f = app.lastFrame() ?? '';
      assert.ok(hits(f).length > 0);
      return f;
    });
    // Debounced: the query runs when typing pauses, not for every key (a slow first render may
    // count as a pause, so a partial text or two may run too).
    assert.ok(backend.specs.length <= 3, `queries run: ${backend.specs.map((s) => s.text).join(' | ')}`);
    assert.deepEqual(
      backend.specs.map((s) => [s.text, s.mode, s.k]).at(-1),
      ['bread baking', 'vector', 18],
    );
    const lines = frame.split('\n');
    assert.equal(lines.length, 22);
    for (const line of lines) assert.ok(line.length <= 80, `wider than 80: ${line}`);
    assert.match(lines[0] ?? '', /^ Query {2}bread baking█\s+\[vector\] keyword {2}hybrid$/);
    assert.match(frame, /^ {2}18 hits · \d+\.\d+ ms · vector · ann$/m);
    const shown = hits(frame);
    assert.deepEqual(
      shown.map((h) => h.rank),
      shown.map((_, i) => i + 1),
    );
    // Notes i with i % 4 == 0 are about bread: they come first, best score first, with a full bar.
    assert.ok(shown.slice(0, 15).every((h) => Number(h.id.slice(5)) % 4 === 0), JSON.stringify(shown));
    assert.deepEqual(
      shown.map((h) => h.score),
      [...shown.map((h) => h.score)].sort((a, b) => b - a),
    );
    assert.match(frame, /^ {4}1 ██████████\s+\d\.\d{4} note-\d\d\s+Note \d+: bread baking/m);

    // Tab: keyword mode, the same query again.
    app.stdin.write(KEY.tab);
    await waitFor(() => {
      assert.match(app.lastFrame() ?? '', /^ {2}15 hits · \d+\.\d+ ms · keyword$/m);
      assert.equal(backend.specs.at(-1)?.mode, 'keyword');
    });
    assert.match(app.lastFrame() ?? '', / vector \[keyword\] hybrid/);

    // The filter line: a parse error points at its column; nothing runs until it parses.
    app.stdin.write(KEY.down);
    await tick();
    const before = backend.specs.length;
    await type(app.stdin, 'year >');
    const error = await waitFor(() => {
      const line = (app.lastFrame() ?? '').split('\n')[2] ?? '';
      assert.match(line, /\^ .*at column 7/);
      return line;
    });
    assert.equal(error.indexOf('^'), ' Where  '.length + 7 - 1, `the caret under column 7:\n${app.lastFrame()}`);
    await tick(250);
    assert.equal(backend.specs.length, before, 'no query while the filter does not parse');
    await type(app.stdin, ' 2040');
    await waitFor(() => {
      const shown = hits(app.lastFrame() ?? '');
      assert.deepEqual(
        shown.map((h) => h.id),
        ['note-44', 'note-48', 'note-52', 'note-56'].filter((id) => shown.some((h) => h.id === id)),
      );
      assert.equal(shown.length, 4);
    });
    assert.deepEqual(backend.specs.at(-1)?.filter, { must: [{ key: 'year', range: { gt: 2040 } }] });

    // Enter: to the results; j moves; Enter opens; Esc goes back.
    app.stdin.write(KEY.enter);
    await tick();
    app.stdin.write('j');
    await tick();
    const second = hits(app.lastFrame() ?? '')[1]?.id;
    app.stdin.write(KEY.enter);
    await waitFor(() => assert.deepEqual(opened, [second]));
    app.stdin.write(KEY.escape);
    await waitFor(() => assert.equal(back, 1));
    app.unmount();
  });

  it('searches by vector when the query is a JSON array, and shows engine errors on one line', async () => {
    const app = render(<SearchView backend={backend} collection="vec" metric="cosine" width={80} height={16} theme={DEFAULT_THEME} active debounceMs={30} onOpenRecord={noop} onBack={noop} onHelp={noop} />);
    app.stdin.write('[1, 0, 0, 0]');
    await waitFor(() => {
      const f = app.lastFrame() ?? '';
      assert.match(f, /12 hits · \d+\.\d+ ms · vector \(by vector\) · ann/);
      assert.ok(hits(f).slice(0, 5).every((h) => h.id.startsWith('fruit-')), f);
    });
    app.stdin.write(KEY.ctrlU);
    await tick();
    app.stdin.write('apple');
    await waitFor(() => assert.match(app.lastFrame() ?? '', /^ {2}Error \[EMBEDDER_REQUIRED\]: Collection "vec" has no embedder, so text cannot/m));
    // Keyword search needs no model.
    app.stdin.write(KEY.tab);
    await waitFor(() => assert.deepEqual(hits(app.lastFrame() ?? '').map((h) => h.id), ['fruit-apple']));
    app.unmount();
  });
});
