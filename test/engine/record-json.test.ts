import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { documentEntryJson, recordJson } from '../../src/engine/store/record-json.js';
import type { DocumentEntry } from '../../src/engine/store/collection-store.js';
import type { StoredRecord } from '../../src/engine/types.js';

const ids = ['0', 'plain', 'quote"s and \\back\\slashes', 'new\nline\ttab', 'naïve ☃ 🐋', '\u0000\u001f control', '\ud800 lone surrogate', 'doc#x'];

describe('record and registry JSON', () => {
  it('writes exactly what JSON.stringify writes, on the fast path and off it', () => {
    for (const id of ids) {
      const records: StoredRecord[] = [
        { id },
        { id, text: 'a text' },
        { id, metadata: { lang: 'en', n: 3 } },
        { id: `${id}#0`, text: 't', parent: id, chunk: { index: 0, start: 0, end: 1 } },
      ];
      for (const record of records) assert.equal(recordJson(record), JSON.stringify(record));
      const entries: DocumentEntry[] = [
        { hash: 'abcDEF_-0123', records: [id] },
        { hash: 'h', records: [id], source: '/some/folder' },
        { hash: 'h', records: [`${id}#0`, `${id}#1`] },
        { hash: '', records: [] },
      ];
      for (const entry of entries) assert.equal(documentEntryJson(entry), JSON.stringify(entry));
    }
    // A key present with undefined is left out by JSON.stringify: so it is here.
    assert.equal(recordJson({ id: 'x', text: undefined }), '{"id":"x"}');
    assert.equal(documentEntryJson({ hash: 'h', records: ['x'], source: undefined }), '{"hash":"h","records":["x"]}');
  });
});
