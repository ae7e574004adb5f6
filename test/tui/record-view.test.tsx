import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { render } from 'ink-testing-library';
import { RecordView } from '../../src/tui/record-view.js';
import { DEFAULT_THEME } from '../../src/tui/theme.js';
import { loadRecord } from '../../src/tui/use-record.js';
import { KEY, smallDatabase, tick, waitFor, type TestDatabase } from './helpers.js';

const noop = (): void => {};

describe('RecordView', () => {
  let data: TestDatabase;
  after(() => data.close());
  before(async () => {
    data = await smallDatabase();
  });

  it('shows the full text, the metadata as a tree and the vector summary, within 80×24', async () => {
    const app = render(<RecordView backend={data.backend} collection="notes" id="note-07" width={80} height={22} theme={DEFAULT_THEME} active onSwitch={noop} onBack={noop} onHelp={noop} />);
    const frame = await waitFor(() => {
      const f = app.lastFrame() ?? '';
      assert.match(f, /Vector/);
      return f;
    });
    const lines = frame.split('\n');
    assert.equal(lines.length, 22);
    for (const line of lines) assert.ok(line.length <= 80, `wider than 80: ${line}`);
    assert.match(lines[0] ?? '', /^ note-07$/);
    assert.match(frame, /^Text\n {2}Note 7: growing tomatoes in the garden\.$/m);
    assert.match(frame, /^Metadata\n {2}├─ topic: 3\n {2}├─ year: 2007\n {2}└─ tags\n {5}└─ even: false$/m);
    // The word-hash model's vectors are L2-normalised: the norm is 1.
    assert.match(frame, /^ {2}32 dims · norm 1\.0000 · min -?\d\.\d{4} · max \d\.\d{4}$/m);
    assert.match(frame, /^ {2}first 32: {2}[▁▂▃▄▅▆▇█]{32}$/m);
    assert.doesNotMatch(frame, /Chunks of/, 'a whole document has no chunks');
    app.unmount();
  });

  it('lists the chunks of the same document, moves to the next and previous with n/p, and scrolls the lines', async () => {
    const switched: string[] = [];
    const expected = await loadRecord(data.backend, 'book', 'chapter#1');
    assert.ok(expected.siblings.length >= 4, `the long chapter is in several chunks (${expected.siblings.length})`);
    assert.deepEqual(
      expected.siblings.map((s) => s.chunk?.index),
      expected.siblings.map((_, i) => i),
      'in chunk order',
    );
    const app = render(<RecordView backend={data.backend} collection="book" id="chapter#1" width={80} height={14} theme={DEFAULT_THEME} active onSwitch={(id) => switched.push(id)} onBack={noop} onHelp={noop} />);
    await waitFor(() => assert.match(app.lastFrame() ?? '', /lines 1–12 of \d+ · chunk 2\//));
    const first = app.lastFrame() ?? '';
    assert.match(first, new RegExp(`chapter#1 · chunk 2 of ${expected.siblings.length} of chapter · chars \\d+–\\d+`));
    assert.match(first, /^Text\n {2}harbour, the lighthouse and the keeper\. Sentence number 6 talks/m);
    // The chunk list is further down: G goes to the bottom.
    app.stdin.write('G');
    const bottom = await waitFor(() => {
      const f = app.lastFrame() ?? '';
      assert.match(f, new RegExp(`Chunks of chapter \\(${expected.siblings.length}\\)`));
      return f;
    });
    assert.match(bottom, /● chapter#1\s+\d+–\d+\s+\S/);
    assert.match(bottom, / {4}chapter#0\s+0–\d+\s+Sentence number 1 talks/);
    app.stdin.write('g');
    await waitFor(() => assert.match(app.lastFrame() ?? '', /lines 1–12 of/));
    app.stdin.write('j');
    await waitFor(() => assert.match(app.lastFrame() ?? '', /lines 2–13 of/));
    app.stdin.write(KEY.pageDown);
    await waitFor(() => assert.match(app.lastFrame() ?? '', /lines 10–21 of 21/)); // a page down stops at the bottom
    app.stdin.write('n');
    await tick();
    app.stdin.write('p');
    await waitFor(() => assert.deepEqual(switched, ['chapter#2', 'chapter#0']));
    app.unmount();
  });

  it('says so when the record is gone', async () => {
    const app = render(<RecordView backend={data.backend} collection="notes" id="nope" width={80} height={10} theme={DEFAULT_THEME} active onSwitch={noop} onBack={noop} onHelp={noop} />);
    await waitFor(() => assert.match(app.lastFrame() ?? '', /Error \[DOCUMENT_NOT_FOUND\]: Record "nope" is not in notes \(deleted since\?\)\./));
    app.unmount();
  });
});
