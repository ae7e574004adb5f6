import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clusteredVectors } from '../helpers/vectors.js';
import { startServer, type TestServer } from './helpers.js';

describe('tuning routes', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
    const { call } = server;
    await call('PUT', '/v1/collections/h', { embedder: 'none', dimension: 16, index: { kind: 'hnsw', m: 16 } });
    await call('PUT', '/v1/collections/a', { embedder: 'none', dimension: 16, index: 'auto' });
    const documents = clusteredVectors(1500, 16, 10, 3).map((vector, i) => ({ id: `v${i}`, vector: Array.from(vector) }));
    for (const name of ['h', 'a']) assert.equal((await call('PUT', `/v1/collections/${name}/documents`, { documents })).status, 200);
  });
  after(() => server.close());

  it('GET /v1/collections/:name/index shows stored and effective settings', async () => {
    const { status, json } = await server.call('GET', '/v1/collections/h/index');
    assert.equal(status, 200);
    assert.deepEqual(json, { collection: 'h', kind: 'hnsw', index_state: 'HNSW16,Flat', settings: { m: 16 }, effective: { m: 16, ef_search: 128, ef_construction: 40 } });
    const auto = await server.call('GET', '/v1/collections/a/index');
    assert.deepEqual(auto.json, { collection: 'a', kind: 'auto', index_state: 'Flat', settings: {}, effective: {} }); // small: exact
  });

  it('PATCH /v1/collections/:name changes search defaults, null restores them; wrong knobs are 400', async () => {
    const { call } = server;
    const patched = await call('PATCH', '/v1/collections/h', { ef_search: 24, ef_construction: 80 });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.json.settings, { m: 16, ef_search: 24, ef_construction: 80 });
    assert.deepEqual(patched.json.effective, { m: 16, ef_search: 24, ef_construction: 80 });
    assert.deepEqual((await call('GET', '/v1/collections/h/index')).json.settings, { m: 16, ef_search: 24, ef_construction: 80 });
    const restored = await call('PATCH', '/v1/collections/h', { ef_search: null });
    assert.deepEqual(restored.json.settings, { m: 16, ef_construction: 80 });
    assert.equal(restored.json.effective.ef_search, 128);

    const wrongKnob = await call('PATCH', '/v1/collections/h', { nprobe: 4 });
    assert.equal(wrongKnob.status, 400);
    assert.equal(wrongKnob.json.error.code, 'INVALID_ARGUMENT');
    assert.match(wrongKnob.json.error.message, /nprobe does not apply/);
    assert.equal((await call('PATCH', '/v1/collections/h', { m: 8 })).status, 400); // rebuild-only settings are not knobs
    assert.equal((await call('PATCH', '/v1/collections/h', { ef_search: 0 })).status, 400);
    assert.equal((await call('PATCH', '/v1/collections/a', { nprobe: 12 })).json.settings.nprobe, 12);
    assert.equal((await call('PATCH', '/v1/collections/nope', { nprobe: 12 })).status, 404);
  });

  it('PUT /v1/collections/:name takes the IVF datatype; the index route shows it stored and in force', async () => {
    const { call } = server;
    assert.equal((await call('PUT', '/v1/collections/exact', { embedder: 'none', dimension: 12, index: { kind: 'ivf', nlist: 8, datatype: 'float32' } })).status, 201);
    assert.equal((await call('PUT', '/v1/collections/half', { embedder: 'none', dimension: 12, index: { kind: 'ivf', nlist: 8 } })).status, 201);
    // ivf trains its lists at 4096 vectors (IVF_MIN_TRAIN_VECTORS).
    const documents = clusteredVectors(4200, 12, 10, 4).map((vector, i) => ({ id: `v${i}`, vector: Array.from(vector) }));
    for (const name of ['exact', 'half']) assert.equal((await call('PUT', `/v1/collections/${name}/documents`, { documents })).status, 200);
    const exact = (await call('GET', '/v1/collections/exact/index')).json;
    assert.equal(exact.index_state, 'IVF8,Flat');
    assert.equal(exact.settings.datatype, 'float32');
    assert.equal(exact.effective.datatype, 'float32');
    const half = (await call('GET', '/v1/collections/half/index')).json;
    assert.equal(half.index_state, 'IVF8,SQfp16');
    assert.equal(half.settings.datatype, undefined, 'not stored: the default');
    assert.equal(half.effective.datatype, 'float16');
    const bad = await call('PUT', '/v1/collections/bad', { embedder: 'none', dimension: 12, index: { kind: 'ivf', datatype: 'float8' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.message, 'field index.datatype must be one of: float16, float32.');
    assert.equal(bad.json.error.location.field, 'index.datatype');
  });

  it('POST /v1/collections/:name/bench measures recall against exact search, with a sweep', async () => {
    const { status, json } = await server.call('POST', '/v1/collections/h/bench', { queries: 40, k: 5, seed: 9, ef: [5, 64] });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.collection, 'h');
    assert.equal(json.index_state, 'HNSW16,Flat');
    assert.equal(json.count, 1500);
    assert.equal(json.queries, 40);
    assert.equal(json.k, 5);
    assert.deepEqual(json.runs.map((run: { setting: string }) => run.setting), ['default', 'ef_search=5', 'ef_search=64']);
    for (const run of json.runs) {
      assert.ok(run.recall >= 0 && run.recall <= 1 && run.recall_min <= run.recall);
      assert.deepEqual(Object.keys(run.latency).sort(), ['mean_ms', 'p50_ms', 'p90_ms', 'p99_ms', 'qps']);
    }
    assert.ok(json.runs[2].recall >= 0.95);
    const refused = await server.call('POST', '/v1/collections/a/bench', { nprobe: [4] });
    assert.equal(refused.status, 400);
    assert.match(refused.json.error.message, /IVF/);
    assert.equal((await server.call('POST', '/v1/collections/h/bench', { queries: 0 })).status, 400);
  });
});
