import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeVectorBase64 } from '../../src/engine/vector-base64.js';
import { startServer, type TestServer } from './helpers.js';

/** As stored: float32, shown to 6 decimals. */
const asFloat32 = (v: number[]): number[] => v.map((x) => Math.round(Math.fround(x) * 1e6) / 1e6);

describe('native REST API', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  it('creates, lists, describes and drops collections', async () => {
    const { call } = server;
    const created = await call('PUT', '/v1/collections/vecs', { embedder: 'none', dimension: 3, metric: 'cosine', index: { kind: 'hnsw', m: 16 }, payload_indexes: { year: 'integer' } });
    assert.equal(created.status, 201);
    assert.equal(created.json.name, 'vecs');
    assert.equal(created.json.dimension, 3);
    assert.equal(created.json.index, 'hnsw');
    assert.equal(created.json.embedder, 'none');
    assert.equal((await call('PUT', '/v1/collections/vecs', { embedder: 'none', dimension: 3 })).json.error.code, 'COLLECTION_EXISTS');
    assert.equal((await call('PUT', '/v1/collections/vecs', { embedder: 'none', dimension: 3 })).status, 409);

    const list = await call('GET', '/v1/collections');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.collections.map((c: { name: string }) => c.name), ['vecs']);
    const info = await call('GET', '/v1/collections/vecs');
    assert.equal(info.status, 200);
    // Same shape as `piramid info --json`.
    assert.deepEqual(Object.keys(info.json).sort(), ['count', 'deleted', 'dimension', 'documents', 'embedder', 'embedding_cache', 'index', 'index_state', 'metric', 'name', 'size_bytes']);

    await call('PUT', '/v1/collections/gone', { embedder: 'none', dimension: 2 });
    const dropped = await call('DELETE', '/v1/collections/gone');
    assert.equal(dropped.status, 200);
    assert.deepEqual(dropped.json, { dropped: 'gone' });
    assert.equal((await call('GET', '/v1/collections/gone')).status, 404);
  });

  it('takes vectors as base64 float32 in upserts and queries, with the same answers as numbers', async () => {
    const { call } = server;
    await call('PUT', '/v1/collections/b64', { embedder: 'none', dimension: 3, index: 'flat' });
    const vectors = [[0.9, 0.1, 0.2], [0.1, 0.8, 0.3], [0.2, 0.2, 0.95], [0.5, 0.5, 0.1]];
    const put = await call('PUT', '/v1/collections/b64/documents', {
      documents: vectors.map((v, i) => ({ id: `d${i}`, vector: i % 2 === 0 ? encodeVectorBase64(v) : v })),
    });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const got = await call('POST', '/v1/collections/b64/documents/get', { ids: ['d0', 'd2'], with_vector: true });
    assert.deepEqual(got.json.documents.map((d: { vector: number[] }) => d.vector.map((x) => Math.round(x * 1e6) / 1e6)), [
      asFloat32(vectors[0] as number[]),
      asFloat32(vectors[2] as number[]),
    ]);
    const query = [0.3, 0.6, 0.4];
    const asNumbers = await call('POST', '/v1/collections/b64/query', { vector: query, k: 4 });
    const asBase64 = await call('POST', '/v1/collections/b64/query', { vector: encodeVectorBase64(query), k: 4 });
    assert.equal(asBase64.status, 200, JSON.stringify(asBase64.json));
    assert.deepEqual(asBase64.json.hits, asNumbers.json.hits);
    assert.equal(asNumbers.json.hits.length, 4);

    const notBase64 = await call('POST', '/v1/collections/b64/query', { vector: 'not base64!', k: 1 });
    assert.equal(notBase64.status, 400);
    assert.match(notBase64.json.error.message, /not base64/);
    assert.equal(notBase64.json.error.location.field, 'vector');
    const withNaN = await call('POST', '/v1/collections/b64/query', { vector: encodeVectorBase64([1, Number.NaN, 0]), k: 1 });
    assert.equal(withNaN.status, 400);
    assert.match(withNaN.json.error.message, /vector\[1\] is NaN, not a finite number/);
    const wrongSize = await call('PUT', '/v1/collections/b64/documents', { documents: [{ id: 'x', vector: encodeVectorBase64([1, 2]) }] });
    assert.equal(wrongSize.status, 400);
    assert.equal(wrongSize.json.error.code, 'DIMENSION_MISMATCH');
    assert.match(wrongSize.json.error.location.field, /documents\[0\]\.vector/);
    assert.deepEqual((await call('POST', '/v1/collections/b64/documents/get', { ids: ['x'] })).json.not_found, ['x']);
  });

  it('upserts, gets, counts and deletes documents', async () => {
    const { call } = server;
    await call('PUT', '/v1/collections/docs', { embedder: 'none', dimension: 3 });
    const upsert = await call('PUT', '/v1/collections/docs/documents', {
      documents: [
        { id: 'a', vector: [1, 0, 0], metadata: { color: 'red', year: 2020 } },
        { id: 'b', vector: [0, 1, 0], metadata: { color: 'blue', year: 2021 } },
        { id: 'c', vector: [0, 0, 1], text: 'third', metadata: { color: 'red', year: 2022 } },
      ],
    });
    assert.equal(upsert.status, 200);
    assert.deepEqual(upsert.json, { added: 3, updated: 0, unchanged: 0, records: 3, ids: ['a', 'b', 'c'] });
    const again = await call('PUT', '/v1/collections/docs/documents', { documents: [{ id: 'a', vector: [1, 0, 0], metadata: { color: 'red', year: 2020 } }] });
    assert.equal(again.json.unchanged, 1);

    const got = await call('POST', '/v1/collections/docs/documents/get', { ids: ['c', 'nope'], with_vector: true });
    assert.equal(got.status, 200);
    assert.deepEqual(got.json.documents, [{ id: 'c', text: 'third', metadata: { color: 'red', year: 2022 }, vector: [0, 0, 1] }]);
    assert.deepEqual(got.json.not_found, ['nope']);
    assert.deepEqual((await call('GET', '/v1/collections/docs/count')).json, { collection: 'docs', count: 3, documents: 3 });

    const deleted = await call('POST', '/v1/collections/docs/documents/delete', { ids: ['b', 'zzz'] });
    assert.deepEqual(deleted.json, { deleted: 1, not_found: ['zzz'] });
    assert.equal((await call('GET', '/v1/collections/docs/count')).json.count, 2);

    // By filter: every record it matches, and only those.
    await call('PUT', '/v1/collections/docs/documents', { documents: [{ id: 'd', vector: [1, 1, 0], metadata: { color: 'red', year: 2023 } }] });
    const byWhere = await call('POST', '/v1/collections/docs/documents/delete', { where: 'color = "red" and year >= 2022' });
    assert.deepEqual(byWhere.json, { deleted: 2, not_found: [] });
    const byFilter = await call('POST', '/v1/collections/docs/documents/delete', { filter: { must: [{ key: 'color', match: { value: 'red' } }] } });
    assert.deepEqual(byFilter.json, { deleted: 1, not_found: [] });
    assert.equal((await call('GET', '/v1/collections/docs/count')).json.count, 0);
    const both = await call('POST', '/v1/collections/docs/documents/delete', { ids: ['a'], where: 'year > 1' });
    assert.equal(both.status, 400);
  });

  it('answers queries by vector, filter JSON and where text, in the shape of query --json', async () => {
    const { call } = server;
    await call('PUT', '/v1/collections/q', { embedder: 'none', dimension: 2, metric: 'l2' });
    await call('PUT', '/v1/collections/q/documents', {
      documents: Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, vector: [i, 0], metadata: { even: i % 2 === 0, n: i } })),
    });
    const plain = await call('POST', '/v1/collections/q/query', { vector: [0, 0], k: 3 });
    assert.equal(plain.status, 200);
    assert.deepEqual(Object.keys(plain.json).sort(), ['collection', 'hits', 'k', 'plan', 'took_ms']);
    assert.deepEqual(plain.json.hits.map((h: { id: string }) => h.id), ['p0', 'p1', 'p2']);
    assert.equal(plain.json.hits[1].score, 1);

    const filtered = await call('POST', '/v1/collections/q/query', { vector: [0, 0], k: 3, filter: { must: [{ key: 'even', match: { value: false } }] } });
    assert.deepEqual(filtered.json.hits.map((h: { id: string }) => h.id), ['p1', 'p3', 'p5']);
    const where = await call('POST', '/v1/collections/q/query', { vector: [0, 0], k: 2, where: 'n >= 10 and even = true', offset: 1 });
    assert.deepEqual(where.json.hits.map((h: { id: string }) => h.id), ['p12', 'p14']);
    assert.equal(where.json.plan.filter, 'n >= 10 and even = true');

    const badWhere = await call('POST', '/v1/collections/q/query', { vector: [0, 0], where: 'n >=' });
    assert.equal(badWhere.status, 400);
    assert.equal(badWhere.json.error.location.field, 'where');
    const badFilter = await call('POST', '/v1/collections/q/query', { vector: [0, 0], filter: { must: [{ key: 'n', range: { gte: 'x' } }] } });
    assert.equal(badFilter.status, 400);
    assert.match(badFilter.json.error.location.field, /^filter\.must\[0\]/);
    const both = await call('POST', '/v1/collections/q/query', { vector: [0, 0], where: 'n = 1', filter: { must: [] } });
    assert.equal(both.status, 400);
    const wrongDim = await call('POST', '/v1/collections/q/query', { vector: [0, 0, 0] });
    assert.equal(wrongDim.status, 400);
    assert.equal(wrongDim.json.error.code, 'DIMENSION_MISMATCH');
  });

  it('embeds text with the collection model and runs keyword and hybrid modes', async () => {
    const { call } = server;
    assert.equal((await call('PUT', '/v1/collections/texts', { embedder: 'use' })).status, 201);
    await call('PUT', '/v1/collections/texts/documents', {
      documents: [
        { id: 'whale', text: 'the white whale swims in the deep sea' },
        { id: 'bread', text: 'bake bread with flour water and yeast' },
      ],
    });
    for (const mode of ['vector', 'keyword', 'hybrid']) {
      const result = await call('POST', '/v1/collections/texts/query', { text: 'whale in the sea', k: 1, mode });
      assert.equal(result.status, 200, JSON.stringify(result.json));
      assert.equal(result.json.hits[0].id, 'whale', mode);
    }
  });

  it('streams a JSONL body through ingest, creating the collection', async () => {
    const { call } = server;
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: `d${i}`, vector: [i, 1, 2, 3], metadata: { i } })).join('\n');
    const result = await call('POST', '/v1/collections/streamed/ingest?batch_size=64', `${lines}\n`, { 'content-type': 'application/x-ndjson' });
    assert.equal(result.status, 200, JSON.stringify(result.json));
    assert.equal(result.json.created, true);
    assert.equal(result.json.read, 300);
    assert.equal(result.json.added, 300);
    assert.equal((await call('GET', '/v1/collections/streamed')).json.dimension, 4);

    const skip = await call('POST', '/v1/collections/streamed/ingest?on_error=skip', '{"id":"ok","vector":[1,1,1,1]}\n{"id":"bad","vector":[1]}\nnot json\n', {
      'content-type': 'application/x-ndjson',
    });
    assert.equal(skip.status, 200);
    assert.equal(skip.json.added, 1);
    assert.equal(skip.json.skipped, 2);
    assert.deepEqual(skip.json.errors.map((e: { location: { line: number } }) => e.location.line), [2, 3]);

    const abort = await call('POST', '/v1/collections/streamed/ingest', '{"id":"x","vector":[1,1,1,1]}\n{"id":"y","vector":[1]}\n', { 'content-type': 'application/x-ndjson' });
    assert.equal(abort.status, 400);
    assert.equal(abort.json.error.location.line, 2);
    const noCreate = await call('POST', '/v1/collections/nothere/ingest?create=false', '{"vector":[1]}\n', { 'content-type': 'application/x-ndjson' });
    assert.equal(noCreate.status, 404);
    const json = await call('POST', '/v1/collections/streamed/ingest', { documents: [] });
    assert.equal(json.status, 415);
    assert.equal(json.json.error.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('reports schema errors as 400 with the path of the bad field', async () => {
    const { call } = server;
    await call('PUT', '/v1/collections/strict', { embedder: 'none', dimension: 2 });
    const cases: [string, string, unknown, string][] = [
      ['PUT', '/v1/collections/x1', { embedder: 'none', dimension: 'two' }, 'dimension'],
      ['PUT', '/v1/collections/x1', { embedder: 'none', dimensions: 2 }, 'dimensions'],
      ['PUT', '/v1/collections/x1', { metric: 'hamming' }, 'metric'],
      ['PUT', '/v1/collections/strict/documents', { documents: [{ id: 'a', vector: [1, 'x'] }] }, 'documents[0].vector[1]'],
      ['PUT', '/v1/collections/strict/documents', { documents: [{ id: 'a', vector: [1, 2], extra: 1 }] }, 'documents[0].extra'],
      ['PUT', '/v1/collections/strict/documents', {}, 'documents'],
      ['POST', '/v1/collections/strict/query', { vector: [1, 2], k: 0 }, 'k'],
      ['POST', '/v1/collections/strict/query', { vector: [1, 2], mode: 'fuzzy' }, 'mode'],
      ['POST', '/v1/collections/strict/documents/get', { ids: [] }, 'ids'],
    ];
    for (const [method, path, body, field] of cases) {
      const result = await call(method, path, body);
      assert.equal(result.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.equal(result.json.error.code, 'INVALID_ARGUMENT');
      assert.equal(result.json.error.location.field, field, JSON.stringify(result.json));
    }
    const engine = await call('PUT', '/v1/collections/strict/documents', { documents: [{ id: 'a', vector: [1, 2, 3] }] });
    assert.equal(engine.status, 400);
    assert.equal(engine.json.error.location.field, 'documents[0].vector');
    const notJson = await call('PUT', '/v1/collections/strict/documents', '{"documents": [', { 'content-type': 'application/json' });
    assert.equal(notJson.status, 400);
  });

  it('answers 404 for unknown collections and routes, 400 for invalid names', async () => {
    const { call } = server;
    for (const [method, path, body] of [
      ['GET', '/v1/collections/missing', undefined],
      ['GET', '/v1/collections/missing/count', undefined],
      ['DELETE', '/v1/collections/missing', undefined],
      ['POST', '/v1/collections/missing/query', { vector: [1] }],
      ['PUT', '/v1/collections/missing/documents', { documents: [] }],
    ] as const) {
      const result = await call(method, path, body);
      assert.equal(result.status, 404, path);
      assert.equal(result.json.error.code, 'COLLECTION_NOT_FOUND');
    }
    const route = await call('GET', '/v2/nothing');
    assert.equal(route.status, 404);
    assert.equal(route.json.error.code, 'ROUTE_NOT_FOUND');
    for (const name of ['..%2F..%2Fetc', '.hidden', 'a%20b']) {
      const result = await call('GET', `/v1/collections/${name}`);
      assert.equal(result.status, 400, name);
      assert.equal(result.json.error.code, 'INVALID_NAME');
    }
  });

  it('serves health, readiness, the OpenAPI document and metrics', async () => {
    const { call } = server;
    assert.deepEqual((await call('GET', '/healthz')).json, { status: 'ok' });
    assert.equal((await call('GET', '/readyz')).status, 200);
    const openapi = await call('GET', '/openapi.json');
    assert.equal(openapi.status, 200);
    assert.equal(openapi.json.openapi, '3.0.3');
    const paths = openapi.json.paths as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(paths['/v1/collections/{name}'] ?? {}).sort(), ['delete', 'get', 'patch', 'put']); // patch: tuning (routes/tuning.ts)
    for (const path of ['/healthz', '/readyz', '/v1/collections', '/v1/collections/{name}/documents', '/v1/collections/{name}/documents/get', '/v1/collections/{name}/documents/delete', '/v1/collections/{name}/query', '/v1/collections/{name}/ingest', '/v1/collections/{name}/count']) {
      assert.ok(paths[path] !== undefined, path);
    }
    assert.ok(openapi.json.components.schemas.Error !== undefined);
    assert.ok(openapi.json.components.securitySchemes.apiKey !== undefined);

    await call('POST', '/v1/collections/docs/query', { vector: [1, 0, 0] });
    const cacheFigure = async (kind: 'hits' | 'misses'): Promise<number> => {
      const match = new RegExp(`piramid_embedding_cache_${kind}\\{model="use:word-hash-test"\\} (\\d+)`).exec(await (await fetch(`${server.url}/metrics`)).text());
      return Number(match?.[1] ?? 0);
    };
    const [hitsBefore, missesBefore] = [await cacheFigure('hits'), await cacheFigure('misses')];
    await call('PUT', '/v1/collections/texts', {});
    await call('PUT', '/v1/collections/texts/documents', { documents: [{ id: 'a', text: 'lamp oil for metrics' }, { id: 'b', text: 'lamp oil for metrics' }] });
    // The same new text twice: one embedder call, one cache hit.
    assert.deepEqual([(await cacheFigure('hits')) - hitsBefore, (await cacheFigure('misses')) - missesBefore], [1, 1]);
    const metrics = await fetch(`${server.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await metrics.text();
    assert.match(text, /piramid_http_request_duration_seconds_count\{method="POST",route="\/v1\/collections\/:name\/query",status="200"\} \d+/);
    assert.match(text, /piramid_query_duration_seconds_count\{collection="docs",mode="vector"\} \d+/);
    assert.match(text, /piramid_collection_records\{collection="docs"\} 0/); // emptied by the delete-by-filter test above
  });
});

describe('index-field and embedding cache routes', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  it('indexes a metadata key: a filtered query is then answered from that index', async () => {
    const { call } = server;
    await call('PUT', '/v1/collections/idx', { embedder: 'none', dimension: 2 });
    const documents = Array.from({ length: 50 }, (_, i) => ({ id: `d${i}`, vector: [1, i + 1], metadata: { tag: i === 7 ? 'rare' : 'common' } }));
    await call('PUT', '/v1/collections/idx/documents', { documents });
    const before = await call('POST', '/v1/collections/idx/query', { vector: [1, 1], k: 3, where: 'tag = "rare"' });
    assert.equal(before.json.plan.indexedKeys, undefined);

    const indexed = await call('PUT', '/v1/collections/idx/index-fields', { key: 'tag', kind: 'keyword' });
    assert.equal(indexed.status, 200);
    assert.deepEqual(indexed.json, { collection: 'idx', key: 'tag', kind: 'keyword', indexed: 50 });
    const after = await call('POST', '/v1/collections/idx/query', { vector: [1, 1], k: 3, where: 'tag = "rare"' });
    assert.deepEqual(after.json.plan.indexedKeys, ['tag']);
    assert.equal(after.json.plan.strategy, 'exact-candidates');
    assert.deepEqual(after.json.hits.map((h: { id: string }) => h.id), ['d7']);

    assert.equal((await call('PUT', '/v1/collections/idx/index-fields', { key: 'tag', kind: 'text' })).status, 400);
    assert.equal((await call('PUT', '/v1/collections/nope/index-fields', { key: 'tag', kind: 'keyword' })).json.error.code, 'COLLECTION_NOT_FOUND');
  });

  it('lists the embedding cache per model and clears it', async () => {
    const { call } = server;
    await call('PUT', '/v1/collections/texts', {});
    await call('PUT', '/v1/collections/texts/documents', { documents: [{ id: 'a', text: 'cache one' }, { id: 'b', text: 'cache one' }, { id: 'c', text: 'cache two' }] });
    const list = await call('GET', '/v1/cache');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json, { models: [{ model: 'use:word-hash-test', entries: 2, hits: 1, misses: 2, hit_rate: 1 / 3 }] });
    assert.equal((await call('DELETE', '/v1/cache?model=other:model')).json.removed, 0);
    const cleared = await call('DELETE', '/v1/cache?model=use:word-hash-test');
    assert.equal(cleared.status, 200);
    assert.deepEqual(cleared.json, { removed: 2 });
    assert.equal((await call('DELETE', '/v1/cache')).json.removed, 0);
    assert.equal((await call('GET', '/v1/cache')).json.models[0]?.entries ?? 0, 0);
  });

  it('records the source folder of an ingest and prunes its documents not sent again', async () => {
    const { call } = server;
    const folder = '/tmp/piramid-route-folder';
    const ingest = async (ids: string[], query: string): Promise<{ status: number; json: Record<string, unknown> }> => {
      const response = await fetch(`${server.url}/v1/collections/files/ingest?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: ids.map((id) => `${JSON.stringify({ id, vector: [1, 0] })}\n`).join(''),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };
    await call('PUT', '/v1/collections/files', { embedder: 'none', dimension: 2 });
    const first = await ingest(['a', 'b', 'c'], `source=${encodeURIComponent(folder)}`);
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.equal(first.json.pruned, 0);
    await call('PUT', '/v1/collections/files/documents', { documents: [{ id: 'other', vector: [0, 1] }] });
    const second = await ingest(['a', 'c'], `source=${encodeURIComponent(folder)}&prune=true`);
    assert.equal(second.status, 200, JSON.stringify(second.json));
    assert.equal(second.json.pruned, 1);
    assert.equal(second.json.unchanged, 2);
    const got = await call('POST', '/v1/collections/files/documents/get', { ids: ['a', 'b', 'c', 'other'] });
    assert.deepEqual(got.json.not_found, ['b']);
    const everything = await ingest([], `source=${encodeURIComponent(folder)}&prune=true`);
    assert.equal(everything.json.pruned, 2);

    assert.equal((await ingest(['x'], 'prune=true')).status, 400);
    assert.equal((await ingest(['x'], 'source=relative/folder')).status, 400);
  });
});

describe('body limit', () => {
  it('answers 413 PAYLOAD_TOO_LARGE over the limit', async () => {
    const server = await startServer({ bodyLimit: 4096 });
    after(() => server.close());
    const { call } = server;
    await call('PUT', '/v1/collections/small', { embedder: 'none', dimension: 4 });
    const documents = Array.from({ length: 200 }, (_, i) => ({ id: `d${i}`, vector: [1, 2, 3, 4] }));
    const result = await call('PUT', '/v1/collections/small/documents', { documents });
    assert.equal(result.status, 413);
    assert.equal(result.json.error.code, 'PAYLOAD_TOO_LARGE');
    const ok = await call('PUT', '/v1/collections/small/documents', { documents: documents.slice(0, 5) });
    assert.equal(ok.status, 200);
  });
});
