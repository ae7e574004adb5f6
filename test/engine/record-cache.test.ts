import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Database } from '../../src/index.js';
import { RecordCache } from '../../src/engine/store/record-cache.js';
import { tempDir } from '../helpers/temp-dir.js';
import { randomVectors } from '../helpers/vectors.js';

const DIM = 8;
const vectors = randomVectors(300, DIM, 5);

describe('record cache', () => {
  it('keeps the most recently used entries within its byte budget', () => {
    const entry = (n: number) => `{"id":"${String(n).padStart(8, '0')}"}`; // 21 chars: 106 bytes counted
    const cache = new RecordCache(106 * 3);
    for (const n of [1, 2, 3]) cache.set(n, entry(n));
    assert.equal(cache.get(1), entry(1)); // 1 is now the most recent: 2 goes first
    cache.set(4, entry(4));
    assert.equal(cache.size, 3);
    assert.equal(cache.get(2), undefined);
    assert.deepEqual([1, 3, 4].map((n) => cache.get(n)), [1, 3, 4].map(entry));
    cache.evict(3);
    assert.equal(cache.get(3), undefined);
    cache.set(5, 'x'.repeat(1000)); // larger than the whole budget: not kept, nothing evicted
    assert.equal(cache.size, 2);
    cache.clear();
    assert.equal(cache.size, 0);
  });

  for (const recordCacheBytes of [undefined, 0]) {
    it(`search answers stay exact across deletes, replacements and compaction (record cache ${recordCacheBytes === 0 ? 'off' : 'on'})`, async () => {
      const db = await Database.open(await tempDir(), recordCacheBytes === undefined ? {} : { recordCacheBytes });
      try {
        const c = await db.createCollection('c', { embedder: 'none', dimension: DIM, metric: 'l2', index: 'flat' });
        await c.upsert(vectors.map((v, i) => ({ id: `d${i}`, vector: v, text: `text ${i}`, metadata: { n: i } })));
        const top = async (i: number) => (await c.search(vectors[i] as Float32Array, { k: 1 })).hits[0];

        // Warm: every record read once.
        for (let i = 0; i < vectors.length; i++) assert.equal((await top(i))?.id, `d${i}`);
        // A caller changing what it was given changes nothing stored or cached.
        const hit = await top(7);
        (hit?.metadata as { n: number }).n = -1;
        assert.deepEqual((await top(7))?.metadata, { n: 7 });

        // Deleted: never returned again, though its record was cached.
        await c.delete(['d3']);
        assert.notEqual((await top(3))?.id, 'd3');
        // Replaced (same vector, new text): the new text, not the cached old one.
        await c.upsert([{ id: 'd5', vector: vectors[5] as Float32Array, text: 'changed', metadata: { n: 5 } }]);
        assert.equal((await top(5))?.text, 'changed');

        // Compaction renumbers labels: label L now holds another record than the one cached for it.
        await c.delete(['d0', 'd1', 'd2']);
        await db.compact('c');
        for (let i = 4; i < vectors.length; i++) {
          const found = await top(i);
          assert.equal(found?.id, `d${i}`);
          assert.equal(found?.text, i === 5 ? 'changed' : `text ${i}`);
          assert.ok((found?.score ?? 1) < 1e-3);
        }
      } finally {
        await db.close();
      }
    });
  }
});
