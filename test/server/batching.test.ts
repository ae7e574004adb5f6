// Concurrent query requests through a real server (buildApp on 127.0.0.1, real LevelDB + faiss):
// the search batcher must answer each exactly as the same request sent alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clusteredVectors } from '../helpers/vectors.js';
import { startServer, type Json, type TestServer } from './helpers.js';

const DIM = 32;
const docs = (vectors: Float32Array[], prefix: string) => vectors.map((v, i) => ({ id: `${prefix}${i}`, vector: Array.from(v), metadata: { n: i } }));

describe('serve: concurrent queries share faiss calls', () => {
  let server: TestServer;
  const queries = clusteredVectors(96, DIM, 20, 5, 77);
  before(async () => {
    server = await startServer();
    const { call } = server;
    assert.equal((await call('PUT', '/v1/collections/b', { embedder: 'none', dimension: DIM, index: 'hnsw' })).status, 201);
    assert.equal((await call('PUT', '/v1/collections/f', { embedder: 'none', dimension: DIM, index: 'flat', metric: 'l2' })).status, 201);
    const vectors = clusteredVectors(3000, DIM, 20, 5);
    for (let i = 0; i < vectors.length; i += 1000) {
      const batch = docs(vectors.slice(i, i + 1000), `d${i}-`);
      assert.equal((await call('PUT', '/v1/collections/b/documents', { documents: batch })).status, 200);
      assert.equal((await call('PUT', '/v1/collections/f/documents', { documents: batch })).status, 200);
    }
  });
  after(() => server.close());

  const bodies = (collection: string): { path: string; body: Json }[] =>
    queries.map((q, i) => ({ path: `/v1/collections/${collection}/query`, body: { vector: Array.from(q), k: [10, 5, 10, 3][i % 4], ...(i % 5 === 0 ? { offset: 2 } : {}), ...(i % 7 === 0 ? { ef: 40 } : {}) } }));
  const hitsOf = (json: Json) => json.hits as { id: string; score: number }[];

  for (const collection of ['b', 'f']) {
    it(`answers ${collection === 'b' ? 'HNSW/cosine' : 'flat/l2'} queries sent together exactly as sent one by one`, async () => {
      const { call, db } = server;
      const requests = bodies(collection);
      const alone: { status: number; json: Json }[] = [];
      for (const r of requests) alone.push(await call('POST', r.path, r.body));
      // Open a connection per request first, so that the concurrent round meets the server together.
      await Promise.all(requests.map(() => call('GET', '/healthz')));
      const before = (await db.collection(collection)).searchBatches;
      const together = await Promise.all(requests.map((r) => call('POST', r.path, r.body)));
      together.forEach((response, i) => {
        assert.equal(response.status, 200, JSON.stringify(response.json));
        assert.deepEqual(hitsOf(response.json), hitsOf(alone[i]?.json), `request ${i}`);
        assert.deepEqual(response.json.plan, alone[i]?.json.plan);
      });
      const stats = (await db.collection(collection)).searchBatches;
      // Every query went through the batcher (calls <= queries; how many shared a call depends on
      // how the requests reached the server, so it is reported, not asserted).
      assert.ok(stats.queries - before.queries >= requests.length, JSON.stringify(stats));
      console.log(`# ${collection}: ${stats.queries - before.queries} queries in ${stats.calls - before.calls} faiss calls (largest ${stats.largest})`);
    });
  }

  it('fails only the bad requests among many sent together', async () => {
    const { call } = server;
    const good = bodies('b').slice(0, 40);
    const alone: { status: number; json: Json }[] = [];
    for (const r of good) alone.push(await call('POST', r.path, r.body));
    const bad = [
      { path: '/v1/collections/b/query', body: { vector: [1, 2, 3], k: 5 } }, // wrong dimension
      { path: '/v1/collections/b/query', body: { vector: Array.from(queries[0] as Float32Array), k: 0 } }, // k out of range
      { path: '/v1/collections/b/query', body: { vector: Array(DIM).fill('x'), k: 5 } }, // not numbers
      { path: '/v1/collections/nope/query', body: { vector: Array.from(queries[0] as Float32Array), k: 5 } },
    ];
    const mixed = [...good.slice(0, 10), bad[0], ...good.slice(10, 20), bad[1], bad[2], ...good.slice(20), bad[3]] as { path: string; body: Json }[];
    const responses = await Promise.all(mixed.map((r) => call('POST', r.path, r.body)));
    let g = 0;
    responses.forEach((response, i) => {
      const request = mixed[i] as { path: string; body: Json };
      const badIndex = bad.indexOf(request);
      if (badIndex >= 0) {
        assert.equal(response.status, badIndex === 3 ? 404 : 400, JSON.stringify(response.json));
        assert.equal(response.json.error.code, ['DIMENSION_MISMATCH', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'COLLECTION_NOT_FOUND'][badIndex]);
        return;
      }
      assert.equal(response.status, 200);
      assert.deepEqual(hitsOf(response.json), hitsOf(alone[g]?.json), `good request ${g}`);
      g += 1;
    });
    assert.equal(g, good.length);
  });

  it('shows a write acknowledged between two rounds of concurrent queries to the later round', async () => {
    const { call } = server;
    const round = () => Promise.all(queries.slice(0, 32).map((q) => call('POST', '/v1/collections/b/query', { vector: Array.from(q), k: 3 })));
    const first = await round();
    assert.ok(first.every((r) => r.status === 200 && !hitsOf(r.json).some((h) => h.id.startsWith('w'))));
    const written = await call('PUT', '/v1/collections/b/documents', { documents: queries.slice(0, 32).map((q, i) => ({ id: `w${i}`, vector: Array.from(q) })) });
    assert.equal(written.status, 200);
    const second = await round();
    second.forEach((r, i) => assert.equal(hitsOf(r.json)[0]?.id, `w${i}`));
    assert.equal((await call('POST', '/v1/collections/b/documents/delete', { ids: queries.slice(0, 32).map((_, i) => `w${i}`) })).status, 200);
    const third = await round();
    third.forEach((r, i) => assert.deepEqual(hitsOf(r.json), hitsOf(first[i]?.json)));
  });

  it('answers Qdrant search and query requests sent together as sent one by one', async () => {
    const { call } = server;
    const requests = queries.slice(0, 48).map((q, i) =>
      i % 2 === 0 ? { path: '/collections/b/points/search', body: { vector: Array.from(q), limit: 5 } } : { path: '/collections/b/points/query', body: { query: Array.from(q), limit: 5 } },
    );
    const alone: { status: number; json: Json }[] = [];
    for (const r of requests) alone.push(await call('POST', r.path, r.body));
    const together = await Promise.all(requests.map((r) => call('POST', r.path, r.body)));
    together.forEach((response, i) => {
      assert.equal(response.status, 200, JSON.stringify(response.json));
      assert.deepEqual(response.json.result, alone[i]?.json.result);
    });
  });
});
