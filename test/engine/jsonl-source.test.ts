import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { PiramidError } from '../../src/engine/errors.js';
import { jsonlSource, type SourceItem } from '../../src/engine/ingest/sources.js';
import { parseDocument } from '../../src/engine/document.js';

/** Every item of a JSONL source fed `chunks` exactly as given (chunk boundaries matter here). */
async function itemsOf(chunks: readonly (Buffer | string)[]): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  for await (const item of jsonlSource(Readable.from(chunks), 'in.jsonl').items) items.push(item);
  return items;
}

/** The same bytes cut at every possible place into two chunks. */
function everySplit(text: string): Buffer[][] {
  const bytes = Buffer.from(text, 'utf8');
  return Array.from({ length: bytes.length + 1 }, (_, at) => [bytes.subarray(0, at), bytes.subarray(at)]);
}

describe('JSONL source', () => {
  it('reads the same items, lines and byte counts wherever the stream cuts the bytes', async () => {
    // CRLF and LF endings, a blank line, a multi-byte text, and no newline after the last line.
    const text = '{"id":"a","text":"naïve ☃ 🐋"}\r\n\n  \n{"id":"b","vector":[1,2]}\n{"id":"c"}';
    const expected = [
      { value: { id: 'a', text: 'naïve ☃ 🐋' }, location: { file: 'in.jsonl', line: 1 } },
      { value: { id: 'b', vector: [1, 2] }, location: { file: 'in.jsonl', line: 4 } },
      { value: { id: 'c' }, location: { file: 'in.jsonl', line: 5 } },
    ];
    for (const chunks of everySplit(text)) {
      const items = await itemsOf(chunks);
      assert.deepEqual(
        items.map(({ value, location }) => ({ value, location })),
        expected,
      );
      // Blank lines count for line numbers, not for progress; every byte is accounted for otherwise.
      const blankBytes = '\n  \n'.length;
      assert.equal(
        items.reduce((sum, item) => sum + item.bytes, 0),
        Buffer.byteLength(text) - blankBytes,
      );
    }
  });

  it('skips a byte order mark before the first line, and only there', async () => {
    const bom = '\ufeff';
    const [first, second] = await itemsOf([`${bom}{"id":"a"}\n${bom}{"id":"b"}\n`]);
    assert.deepEqual(first?.value, { id: 'a' });
    assert.ok(second?.value instanceof PiramidError, 'a mark inside the file is not JSON');
    assert.deepEqual(second.value.location, { file: 'in.jsonl', line: 2 });
  });

  it('reports a line that is not JSON with its line number, and goes on', async () => {
    const items = await itemsOf(['{"id":"a"}\n{"id": oops}\n', '{"id":"c"}\n']);
    assert.equal(items.length, 3);
    const bad = items[1]?.value;
    assert.ok(bad instanceof PiramidError);
    assert.equal(bad.code, 'INVALID_INPUT');
    assert.match(bad.message, /not valid JSON/);
    assert.deepEqual(bad.location, { file: 'in.jsonl', line: 2 });
    assert.deepEqual(items[2]?.value, { id: 'c' });
  });

  it('joins a line longer than many chunks', async () => {
    const vector = Array.from({ length: 5000 }, (_, i) => i / 7);
    const line = `${JSON.stringify({ id: 'long', vector })}\n`;
    const chunks = Array.from({ length: Math.ceil(line.length / 100) }, (_, i) => line.slice(i * 100, (i + 1) * 100));
    const items = await itemsOf(chunks);
    assert.equal(items.length, 1);
    assert.deepEqual(items[0]?.value, { id: 'long', vector });
  });
});

describe('document vectors parsed from JSON', () => {
  it('become the same float32 values as through the checked path, and bad ones are named by field', () => {
    const values = [0.1, -2.5, 1e-30, 3.4e38, 0];
    const doc = parseDocument({ id: 'v', vector: values }, 5, { file: 'in.jsonl', line: 7 });
    assert.deepEqual(Array.from(doc.vector ?? []), Array.from(Float32Array.from(values)));
    // Two documents parsed one after the other do not share their vectors' memory.
    const other = parseDocument({ id: 'w', vector: [9, 9, 9, 9, 9] }, 5);
    assert.deepEqual(Array.from(doc.vector ?? []), Array.from(Float32Array.from(values)));
    assert.deepEqual(Array.from(other.vector ?? []), [9, 9, 9, 9, 9]);
    for (const [vector, message] of [
      [[1, 2, Number.NaN, 4, 5], /vector\[2\] is NaN, not a finite number/],
      [[1, 2, '3', 4, 5], /vector\[2\] is "3", not a finite number/],
      [[1, 2, 3], /vector has 3 dimensions; the collection expects 5/],
    ] as const) {
      assert.throws(
        () => parseDocument({ id: 'bad', vector }, 5, { file: 'in.jsonl', line: 9 }),
        (err: unknown) => err instanceof PiramidError && message.test(err.message) && err.location?.line === 9 && err.location.field === 'vector',
      );
    }
  });
});
