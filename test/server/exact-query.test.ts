// Exact search over HTTP: `exact` on the native query route (and through RemoteBackend, as
// `piramid query --exact` sends it to a server), and Qdrant's `params.exact` on search and query.
// The collection is an HNSW graph searched with a tiny candidate list, so the approximate answer
// misses true neighbours; the exact answer must be the brute-force top-k.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PiramidClient } from '../../src/client/http-client.js';
import { RemoteBackend, queryBody } from '../../src/client/remote-backend.js';
import { bruteForce, randomVectors } from '../helpers/vectors.js';
import { startServer, type TestServer } from './helpers.js';

const DIM = 32;
const COUNT = 2000;
const K = 10;
const GROUPS = 4;

describe('exact search through the server', () => {
  let server: TestServer;
  const vectors = randomVectors(COUNT, DIM, 11);
  const queries = randomVectors(20, DIM, 12).map((q) => Array.from(q));
  /** The true top-k ids (document ids are the indexes), best first, with their distances. */
  const truth = (query: number[], group?: number): { ids: string[]; scores: number[] } => {
    const pool = vectors.map((vector, i) => ({ vector, i })).filter(({ i }) => group === undefined || i % GROUPS === group);
    const top = bruteForce(pool.map((p) => p.vector), Float32Array.from(query), K, 'l2');
    return { ids: top.map((t) => String((pool[t.index] as { i: number }).i)), scores: top.map((t) => t.score) };
  };
  const assertScores = (got: number[], expected: number[]): void => got.forEach((score, i) => assert.ok(Math.abs(score - (expected[i] as number)) < 1e-3, `score ${score} vs ${expected[i]}`));

  before(async () => {
    server = await startServer();
    const created = await server.call('PUT', '/v1/collections/h', { embedder: 'none', dimension: DIM, metric: 'l2', index: { kind: 'hnsw', m: 4, ef_search: 1 } });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const documents = vectors.map((v, i) => ({ id: String(i), vector: Array.from(v), metadata: { g: i % GROUPS } }));
    for (let i = 0; i < documents.length; i += 500) {
      const put = await server.call('PUT', '/v1/collections/h/documents', { documents: documents.slice(i, i + 500) });
      assert.equal(put.status, 200, JSON.stringify(put.json));
    }
  });
  after(() => server.close());

  it('native query: exact: true returns the brute-force top-k; the approximate default misses neighbours', async () => {
    let missed = 0;
    for (const vector of queries) {
      const expected = truth(vector);
      const exact = await server.call('POST', '/v1/collections/h/query', { vector, k: K, exact: true });
      assert.equal(exact.status, 200, JSON.stringify(exact.json));
      assert.equal(exact.json.plan.strategy, 'exact-scan');
      assert.deepEqual(exact.json.hits.map((h: { id: string }) => h.id), expected.ids);
      assertScores(exact.json.hits.map((h: { score: number }) => h.score), expected.scores);

      const ann = await server.call('POST', '/v1/collections/h/query', { vector, k: K });
      assert.equal(ann.json.plan.strategy, 'ann');
      const found = new Set(ann.json.hits.map((h: { id: string }) => h.id));
      missed += expected.ids.filter((id) => !found.has(id)).length;
    }
    // Without this the test would prove nothing: the index must be approximate here.
    assert.ok(missed > 0, 'the HNSW index with ef_search 1 found every true neighbour: the setup does not exercise exact search');
    // exact: false is the default.
    const off = await server.call('POST', '/v1/collections/h/query', { vector: queries[0], k: K, exact: false });
    assert.equal(off.json.plan.strategy, 'ann');
  });

  it('native query: exact with a filter scores every matching record', async () => {
    const vector = queries[3] as number[];
    const expected = truth(vector, 1);
    const { status, json } = await server.call('POST', '/v1/collections/h/query', { vector, k: K, where: 'g = 1', exact: true });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.plan.strategy, 'exact-scan');
    assert.deepEqual(json.hits.map((h: { id: string }) => h.id), expected.ids);
  });

  it('native query: a non-boolean exact is a 400 naming the field', async () => {
    const { status, json } = await server.call('POST', '/v1/collections/h/query', { vector: queries[0], k: K, exact: 'yes' });
    assert.equal(status, 400);
    assert.deepEqual(json.error, { code: 'INVALID_ARGUMENT', message: 'field exact must be boolean.', location: { field: 'exact' } });
  });

  it('RemoteBackend (piramid query --exact through a server) sends exact and gets the brute-force top-k', async () => {
    assert.equal(queryBody({ collection: 'h', k: K, vector: [1], exact: true }).exact, true);
    assert.equal(queryBody({ collection: 'h', k: K, vector: [1] }).exact, undefined);
    const backend = new RemoteBackend(new PiramidClient(server.url), { kind: 'explicit' });
    for (const vector of queries.slice(0, 5)) {
      const result = await backend.query({ collection: 'h', k: K, vector, exact: true });
      assert.equal(result.plan.strategy, 'exact-scan');
      assert.deepEqual(result.hits.map((h) => h.id), truth(vector).ids);
    }
  });

  it('Qdrant search and query: params.exact returns the brute-force top-k', async () => {
    let missed = 0;
    for (const vector of queries) {
      const expected = truth(vector);
      const ids = expected.ids.map(Number); // canonical digit ids come back as integers
      const search = await server.call('POST', '/collections/h/points/search', { vector, limit: K, params: { exact: true } });
      assert.equal(search.status, 200, JSON.stringify(search.json));
      assert.deepEqual(search.json.result.map((p: { id: number }) => p.id), ids);
      assertScores(search.json.result.map((p: { score: number }) => p.score), expected.scores);
      const query = await server.call('POST', '/collections/h/points/query', { query: { nearest: vector }, limit: K, params: { exact: true, hnsw_ef: 1 } });
      assert.equal(query.status, 200, JSON.stringify(query.json));
      assert.deepEqual(query.json.result.points.map((p: { id: number }) => p.id), ids);

      const ann = await server.call('POST', '/collections/h/points/search', { vector, limit: K, params: { exact: false } });
      const found = new Set(ann.json.result.map((p: { id: number }) => p.id));
      missed += ids.filter((id) => !found.has(id)).length;
    }
    assert.ok(missed > 0, 'the approximate Qdrant search found every true neighbour: the setup does not exercise exact search');
  });
});
