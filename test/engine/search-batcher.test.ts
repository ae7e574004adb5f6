// Coalesced searches (Collection.coalesceSearches, SearchBatcher) on real LevelDB + faiss: the
// same answers as one query at a time, errors confined to their query, writes seen by later batches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Database } from '../../src/index.js';
import { loadFaissBinding } from '../../src/engine/index/faiss-binding.js';
import { FaissVectorIndex } from '../../src/engine/index/faiss-index.js';
import { SearchBatcher } from '../../src/engine/query/search-batcher.js';
import type { SearchHit, SearchOptions, SearchResult } from '../../src/engine/types.js';
import { tempDir } from '../helpers/temp-dir.js';
import { clusteredVectors, type TestMetric } from '../helpers/vectors.js';

const docsOf = (vectors: Float32Array[], prefix = 'v') => vectors.map((vector, i) => ({ id: `${prefix}${i}`, vector: Array.from(vector), metadata: { n: i } }));
const brief = (hits: SearchHit[]) => hits.map((h) => ({ id: h.id, score: h.score }));

async function collectionWith(kind: 'flat' | 'hnsw' | 'ivf', metric: TestMetric, count: number, dimension: number) {
  const db = await Database.open(await tempDir());
  const collection = await db.createCollection('c', { embedder: 'none', dimension, index: kind, metric });
  const vectors = clusteredVectors(count, dimension, 20, 7);
  for (let i = 0; i < count; i += 1000) await collection.upsert(docsOf(vectors.slice(i, i + 1000)).map((d, j) => ({ ...d, id: `v${i + j}` })));
  return { db, collection, vectors };
}

describe('search batcher', () => {
  for (const [kind, metric] of [
    ['hnsw', 'cosine'],
    ['flat', 'l2'],
    ['flat', 'dot'],
    ['ivf', 'cosine'],
  ] as const) {
    it(`answers concurrent ${kind}/${metric} queries exactly as sequential single queries`, async () => {
      const { db, collection } = await collectionWith(kind, metric, kind === 'ivf' ? 6000 : 3000, 24);
      const queries = clusteredVectors(100, 24, 20, 7, 99);
      const options = [{ k: 10 }, { k: 3 }, { k: 10, offset: 5 }, { k: 7, efSearch: 32 }, { k: 10, withVector: true }, { k: 5, scoreThreshold: metric === 'l2' ? 100 : -100 }];
      const sequential: SearchResult[] = [];
      for (const [i, q] of queries.entries()) sequential.push(await collection.search(q, options[i % options.length]));
      assert.equal(collection.searchBatches.calls, 0, 'off by default');

      collection.coalesceSearches = true;
      const concurrent = await Promise.all(queries.map((q, i) => collection.search(q, options[i % options.length])));
      for (const [i, result] of concurrent.entries()) {
        assert.deepEqual(result.hits, sequential[i]?.hits, `query ${i}`);
        assert.deepEqual(result.plan, sequential[i]?.plan, `plan of query ${i}`);
      }
      const stats = collection.searchBatches;
      assert.equal(stats.queries, queries.length);
      assert.ok(stats.batched > 0 && stats.largest > 1 && stats.largest <= 16, JSON.stringify(stats));
      assert.ok(stats.calls < queries.length, JSON.stringify(stats));

      // A lone query takes the single-query call.
      const lone = await collection.search(queries[0] as Float32Array, { k: 10 });
      assert.deepEqual(brief(lone.hits), brief(sequential[0]?.hits ?? []));
      assert.equal(collection.searchBatches.calls, stats.calls + 1);
      await db.close();
    });
  }

  it('keeps filtered, grouped and exact queries off the batch, with the same answers', async () => {
    const { db, collection } = await collectionWith('hnsw', 'cosine', 2000, 16);
    const queries = clusteredVectors(20, 16, 20, 7, 5);
    const options: SearchOptions[] = [{ k: 5, filter: { must: [{ key: 'n', range: { lt: 1000 } }] } }, { k: 5, groupByDocument: true }, { k: 5, exact: true }];
    const sequential: SearchResult[] = [];
    for (const [i, q] of queries.entries()) sequential.push(await collection.search(q, options[i % options.length]));
    collection.coalesceSearches = true;
    const concurrent = await Promise.all(queries.map((q, i) => collection.search(q, options[i % options.length])));
    concurrent.forEach((result, i) => assert.deepEqual(result.hits, sequential[i]?.hits));
    assert.equal(collection.searchBatches.queries, 0);
    await db.close();
  });

  it('fails only the query that fails when its batch throws', async () => {
    // A real flat index behind a search function that refuses any call holding a NaN query.
    const dimension = 8;
    const index = FaissVectorIndex.create(loadFaissBinding(), dimension, 'l2', 'Flat');
    const vectors = clusteredVectors(500, dimension, 10, 3);
    const packed = new Float32Array(vectors.length * dimension);
    vectors.forEach((v, i) => packed.set(v, i * dimension));
    index.add(packed);
    let calls = 0;
    const batcher = new SearchBatcher((queries, k, params) => {
      calls += 1;
      if (queries.some((x) => Number.isNaN(x))) throw new Error('poisoned query');
      return index.search(queries, k, params);
    }, dimension);
    const queries = clusteredVectors(12, dimension, 10, 3, 44);
    const poisoned = new Float32Array(dimension).fill(Number.NaN);
    const settled = await Promise.allSettled([...queries.slice(0, 6), poisoned, ...queries.slice(6)].map((q) => batcher.submit(q, 5)));
    assert.equal(settled.length, 13);
    settled.forEach((outcome, i) => {
      if (i === 6) {
        assert.equal(outcome.status, 'rejected');
        assert.match(String((outcome as PromiseRejectedResult).reason), /poisoned/);
        return;
      }
      assert.equal(outcome.status, 'fulfilled', `query ${i}`);
      const q = queries[i < 6 ? i : i - 1] as Float32Array;
      const alone = index.search(q, 5, {});
      assert.deepEqual(Array.from((outcome as PromiseFulfilledResult<{ labels: Float64Array }>).value.labels), Array.from(alone.labels));
    });
    // The first query runs at once (nothing else in sight yet); the other 12 are gathered into one
    // call, which fails on the poisoned one, then each of the 12 runs alone.
    assert.equal(calls, 1 + 1 + 12);
    assert.throws(() => batcher.submit(new Float32Array(3), 5), TypeError);
  });

  it('runs a query with no other in sight at once, and gathers once a turn has two', async () => {
    const dimension = 8;
    const index = FaissVectorIndex.create(loadFaissBinding(), dimension, 'cosine', 'Flat');
    const vectors = clusteredVectors(200, dimension, 10, 3);
    const packed = new Float32Array(vectors.length * dimension);
    vectors.forEach((v, i) => packed.set(v, i * dimension));
    index.add(packed);
    const sizes: number[] = [];
    const batcher = new SearchBatcher((queries, k, params) => {
      sizes.push(queries.length / dimension);
      return index.search(queries, k, params);
    }, dimension);
    const [a, b, c, d] = clusteredVectors(4, dimension, 10, 3, 8) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const first = batcher.submit(a, 3);
    assert.deepEqual(sizes, [1], 'searched before submit returned');
    const rest = [batcher.submit(b, 3), batcher.submit(c, 3)];
    assert.deepEqual(sizes, [1], 'the second and third wait for the end of the turn');
    await Promise.all([first, ...rest]);
    assert.deepEqual(sizes, [1, 2]);
    // Load was seen: the next query waits for its turn's end too, then alone; after that, at once.
    const next = batcher.submit(d, 3);
    assert.deepEqual(sizes, [1, 2]);
    await next;
    assert.deepEqual(sizes, [1, 2, 1]);
    await new Promise((resolve) => setImmediate(resolve));
    void batcher.submit(a, 3);
    assert.deepEqual(sizes, [1, 2, 1, 1]);
    assert.deepEqual(batcher.stats, { calls: 4, queries: 5, batched: 2, largest: 2 });
  });

  it('shows a write acknowledged between batches to every later query', async () => {
    const { db, collection } = await collectionWith('hnsw', 'cosine', 2000, 16);
    collection.coalesceSearches = true;
    const queries = clusteredVectors(24, 16, 20, 7, 11);
    const before = await Promise.all(queries.map((q) => collection.search(q, { k: 3 })));
    assert.ok(before.every((r) => !r.hits.some((h) => h.id.startsWith('new-'))));
    // Each query's own vector becomes a document: it must be the top hit of the next batch.
    await collection.upsert(queries.map((q, i) => ({ id: `new-${i}`, vector: Array.from(q) })));
    const after = await Promise.all(queries.map((q) => collection.search(q, { k: 3 })));
    after.forEach((r, i) => assert.equal(r.hits[0]?.id, `new-${i}`));
    // A delete, too: the next batch no longer sees them.
    await collection.delete(queries.map((_, i) => `new-${i}`));
    const gone = await Promise.all(queries.map((q) => collection.search(q, { k: 3 })));
    gone.forEach((r, i) => assert.deepEqual(brief(r.hits), brief(before[i]?.hits ?? [])));
    // Writes and searches issued together: each search sees the index as it stands when its batch runs.
    const mixed = await Promise.all([...queries.map((q) => collection.search(q, { k: 3 })), collection.upsert([{ id: 'late', vector: Array.from(queries[0] as Float32Array) }])]);
    assert.equal(mixed.length, queries.length + 1);
    const afterLate = await Promise.all(queries.slice(0, 4).map((q) => collection.search(q, { k: 3 })));
    assert.equal(afterLate[0]?.hits[0]?.id, 'late');
    await db.close();
  });
});
