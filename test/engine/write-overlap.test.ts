import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Database } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { randomVectors } from '../helpers/vectors.js';

/**
 * An upsert reads the registry ahead of its turn and adds its vectors to faiss while LevelDB
 * commits them (Collection.writeDocuments): neither may change what is stored or found.
 */
describe('upserts overlapping their reads and index adds with the commit', () => {
  it('concurrent upserts of the same ids apply in call order, as if awaited one by one', async () => {
    const db = await Database.open(await tempDir());
    try {
      const c = await db.createCollection('c', { embedder: 'none', dimension: 8, metric: 'l2', index: 'flat' });
      const [first, second] = [randomVectors(50, 8, 1), randomVectors(50, 8, 2)];
      const docs = (vectors: Float32Array[]) => vectors.map((vector, i) => ({ id: `d${i}`, vector }));
      const [a, b, c3] = await Promise.all([c.upsert(docs(first)), c.upsert(docs(second)), c.upsert(docs(second))]);
      assert.deepEqual([a.added, a.updated], [50, 0]);
      assert.deepEqual([b.added, b.updated], [0, 50], 'the second call sees the first one written');
      assert.equal(c3.unchanged, 50, 'the third finds the second stored');
      assert.equal((await c.stats()).count, 50);
      for (const i of [0, 17, 49]) {
        const hit = (await c.search(second[i] as Float32Array, { k: 1 })).hits[0];
        assert.equal(hit?.id, `d${i}`);
        assert.equal(hit?.score, 0, 'the second vector is the one stored');
      }
    } finally {
      await db.close();
    }
  });

  it('searches during an upsert only return stored records', async () => {
    const db = await Database.open(await tempDir());
    try {
      const c = await db.createCollection('c', { embedder: 'none', dimension: 16, metric: 'cosine', index: 'flat' });
      const vectors = randomVectors(6000, 16, 3);
      await c.upsert(vectors.slice(0, 1000).map((vector, i) => ({ id: `d${i}`, vector })));
      const writing = c.upsert(vectors.slice(1000).map((vector, i) => ({ id: `d${1000 + i}`, vector })));
      let done = false;
      void writing.then(() => (done = true));
      let searches = 0;
      while (!done) {
        const { hits } = await c.search(vectors[1000 + (searches % 5000)] as Float32Array, { k: 5 });
        const found = await c.get(hits.map((h) => h.id));
        assert.ok(found.every((record) => record !== undefined), 'every hit is a stored record');
        searches += 1;
      }
      await writing;
      assert.ok(searches > 0);
      assert.equal((await c.stats()).count, 6000);
    } finally {
      await db.close();
    }
  });
});
