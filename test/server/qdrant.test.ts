import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { QdrantClient } from '@qdrant/js-client-rest';
import { bruteForce, randomVectors } from '../helpers/vectors.js';
import { startServer, type TestServer } from './helpers.js';

const RW = 'qdrant-rw-key';
const RO = 'qdrant-ro-key';
const DIM = 8;
const COLORS = ['red', 'green', 'blue'] as const;

type Id = number | string;
interface Point {
  id: Id;
  vector: number[];
  payload: { n: number; group: number; color: string; tags: string[] };
}

/** 900 integer ids (with gaps) and 100 UUIDs, payloads with integers, strings and arrays. */
function makePoints(): Point[] {
  const vectors = randomVectors(1000, DIM, 42);
  return vectors.map((v, i) => ({
    id: i < 900 ? i * 3 + 1 : randomUUID(),
    vector: Array.from(v),
    payload: { n: i, group: i % 5, color: COLORS[i % 3] as string, tags: i % 7 === 0 ? ['seven'] : [] },
  }));
}

/** Qdrant's client warns about an API key over plain http; the tests do that on purpose. */
function quietly<T>(make: () => T): T {
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    return make();
  } finally {
    console.warn = warn;
  }
}

const client = (url: string, apiKey: string | undefined): QdrantClient =>
  quietly(() => new QdrantClient({ url, checkCompatibility: false, ...(apiKey === undefined ? {} : { apiKey }) }));

async function rejection(promise: Promise<unknown>): Promise<{ status: number; data: { status: { error: string } } }> {
  try {
    await promise;
  } catch (err) {
    return err as { status: number; data: { status: { error: string } } };
  }
  throw new Error('expected a rejection');
}

const sortIds = (ids: Id[]): string[] => ids.map(String).sort();

describe('Qdrant-compatible API with the real @qdrant/js-client-rest', () => {
  let server: TestServer;
  let qdrant: QdrantClient;
  const points = makePoints();
  const byId = new Map(points.map((p) => [String(p.id), p]));

  before(async () => {
    server = await startServer({ apiKeys: { readWrite: [RW], readOnly: [RO] } });
    qdrant = client(server.url, RW);
  });
  after(() => server.close());

  it('creates a collection and describes it', async () => {
    // GET / is what the client's compatibility check reads.
    const version = await qdrant.versionInfo();
    assert.match(version.version, /^1\.\d+\.\d+$/);
    assert.equal(await qdrant.createCollection('q', { vectors: { size: DIM, distance: 'Cosine' } }), true);
    assert.deepEqual(await qdrant.collectionExists('q'), { exists: true });
    assert.deepEqual(await qdrant.collectionExists('nope'), { exists: false });
    const missing = await rejection(qdrant.getCollection('nope'));
    assert.equal(missing.status, 404);
    assert.match(missing.data.status.error, /^Not found: /);
    const duplicate = await rejection(qdrant.createCollection('q', { vectors: { size: DIM, distance: 'Cosine' } }));
    assert.equal(duplicate.status, 409);
    const manhattan = await rejection(qdrant.createCollection('m', { vectors: { size: DIM, distance: 'Manhattan' } }));
    assert.equal(manhattan.status, 400);
    assert.match(manhattan.data.status.error, /Manhattan/);
  });

  it('accepts Qdrant vector datatypes, stores them exactly, and refuses unknown ones by field', async () => {
    // uint8 values are exact in float32: they come back as given.
    assert.equal(await qdrant.createCollection('u8', { vectors: { size: 4, distance: 'Euclid', datatype: 'uint8' } }), true);
    await qdrant.upsert('u8', { wait: true, points: [{ id: 1, vector: [0, 17, 200, 255] }] });
    const [point] = await qdrant.retrieve('u8', { ids: [1], with_vector: true });
    assert.deepEqual(point?.vector, [0, 17, 200, 255]);
    const unknown = await rejection(qdrant.createCollection('i4', { vectors: { size: 4, distance: 'Dot', datatype: 'int4' as 'uint8' } }));
    assert.equal(unknown.status, 400);
    assert.match(unknown.data.status.error, /vectors\.datatype: "int4"/);
    assert.deepEqual(await qdrant.collectionExists('i4'), { exists: false });
    await qdrant.deleteCollection('u8');
  });

  it('upserts 1000 points (integer and UUID ids) and counts them', async () => {
    for (let i = 0; i < points.length; i += 250) {
      const result = await qdrant.upsert('q', { wait: true, points: points.slice(i, i + 250) });
      assert.equal(result.status, 'completed');
    }
    const info = await qdrant.getCollection('q');
    assert.equal(info.status, 'green');
    assert.equal(info.points_count, 1000);
    assert.deepEqual(info.config.params.vectors, { size: DIM, distance: 'Cosine' });
    assert.deepEqual(await qdrant.count('q'), { count: 1000 });
    assert.deepEqual(await qdrant.count('q', { filter: { must: [{ key: 'color', match: { value: 'red' } }] }, exact: true }), {
      count: points.filter((p) => p.payload.color === 'red').length,
    });
    assert.deepEqual(await qdrant.count('q', { filter: { must: [{ key: 'tags', match: { any: ['seven'] } }, { key: 'n', range: { gte: 500 } }] } }), {
      count: points.filter((p) => p.payload.n % 7 === 0 && p.payload.n >= 500).length,
    });
  });

  it('searches with a filter: the hits are brute force over the filtered points', async () => {
    const filter = { must: [{ key: 'color', match: { value: 'red' } }], must_not: [{ key: 'group', match: { value: 2 } }] };
    const accepted = points.filter((p) => p.payload.color === 'red' && p.payload.group !== 2);
    const query = Array.from(randomVectors(1, DIM, 7)[0] as Float32Array);
    const exact = bruteForce(accepted.map((p) => Float32Array.from(p.vector)), Float32Array.from(query), 10, 'cosine');

    const hits = await qdrant.search('q', { vector: query, limit: 10, filter, with_payload: true });
    assert.equal(hits.length, 10);
    hits.forEach((hit, i) => {
      const expected = accepted[(exact[i] as { index: number }).index] as Point;
      assert.deepEqual(hit.id, expected.id); // integer ids come back as numbers, UUIDs as strings
      assert.equal(hit.version, 0);
      assert.ok(Math.abs(hit.score - (exact[i] as { score: number }).score) < 1e-4);
      assert.deepEqual(hit.payload, expected.payload);
      assert.equal(hit.vector, undefined);
    });

    // The universal query API gives the same points; offset and score_threshold apply.
    const queried = await qdrant.query('q', { query, limit: 10, filter, with_payload: true });
    assert.deepEqual(queried.points.map((p) => p.id), hits.map((h) => h.id));
    const nearest = await qdrant.query('q', { query: { nearest: query }, limit: 5, offset: 5, filter, with_payload: ['color'] });
    assert.deepEqual(nearest.points.map((p) => p.id), hits.slice(5).map((h) => h.id));
    assert.deepEqual(nearest.points[0]?.payload, { color: 'red' });
    // Without a query: points in the order scroll gives them, score 0.
    const plain = await qdrant.query('q', { limit: 3, offset: 2, filter });
    const scrolled = await qdrant.scroll('q', { limit: 5, filter });
    assert.deepEqual(plain.points.map((p) => [p.id, p.score]), scrolled.points.slice(2).map((p) => [p.id, 0]));
    const threshold = (hits[4] as { score: number }).score;
    // The client asks for payloads by default (with_payload = true); the server's default is none.
    const above = await qdrant.search('q', { vector: query, limit: 10, filter, score_threshold: threshold, with_payload: false });
    assert.deepEqual(above.map((h) => h.id), hits.slice(0, 5).map((h) => h.id));
    assert.equal(above[0]?.payload, undefined);
  });

  it('gets points by ids, with payload and vector (normalised, as Qdrant does for Cosine)', async () => {
    const uuid = points[950] as Point;
    const got = await qdrant.retrieve('q', { ids: [4, uuid.id, 2, 99_999], with_vector: true });
    assert.deepEqual(got.map((p) => p.id), [4, uuid.id]);
    const first = got[0] as { payload: unknown; vector: number[] };
    assert.deepEqual(first.payload, (byId.get('4') as Point).payload);
    const original = (byId.get('4') as Point).vector;
    const norm = Math.hypot(...original);
    first.vector.forEach((x, i) => assert.ok(Math.abs(x - (original[i] as number) / norm) < 1e-5));
    // A UUID in another spelling names the same point.
    const upper = await qdrant.retrieve('q', { ids: [String(uuid.id).toUpperCase()], with_payload: { exclude: ['tags'] } });
    assert.deepEqual(upper, [{ id: uuid.id, payload: { n: 950, group: 0, color: COLORS[950 % 3] } }]);
    const bad = await rejection(qdrant.retrieve('q', { ids: ['not-a-uuid'] }));
    assert.equal(bad.status, 400);
  });

  it('scrolls through every point in pages, with and without a filter', async () => {
    const seen: Id[] = [];
    let offset: Id | null | undefined;
    let pages = 0;
    do {
      const page = await qdrant.scroll('q', { limit: 64, ...(offset === undefined || offset === null ? {} : { offset }), with_payload: false });
      seen.push(...page.points.map((p) => p.id));
      offset = page.next_page_offset as Id | null | undefined;
      pages += 1;
    } while (offset !== null && offset !== undefined);
    assert.equal(pages, Math.ceil(1000 / 64));
    assert.equal(new Set(seen.map(String)).size, 1000);
    assert.deepEqual(sortIds(seen), sortIds(points.map((p) => p.id)));

    const filter = { must: [{ key: 'group', match: { value: 3 } }] };
    const filtered: Id[] = [];
    offset = undefined;
    do {
      const page = await qdrant.scroll('q', { limit: 50, filter, ...(offset === undefined || offset === null ? {} : { offset }) });
      for (const p of page.points) assert.equal((p.payload as { group: number }).group, 3);
      filtered.push(...page.points.map((p) => p.id));
      offset = page.next_page_offset as Id | null | undefined;
    } while (offset !== null && offset !== undefined);
    assert.deepEqual(sortIds(filtered), sortIds(points.filter((p) => p.payload.group === 3).map((p) => p.id)));
  });

  it('deletes points by ids and by filter', async () => {
    const gone = [points[0], points[1], points[2], points[900], points[901]].map((p) => (p as Point).id);
    assert.equal((await qdrant.delete('q', { wait: true, points: gone })).status, 'completed');
    assert.deepEqual(await qdrant.retrieve('q', { ids: gone }), []);
    assert.deepEqual(await qdrant.count('q'), { count: 995 });

    const filter = { must: [{ key: 'group', match: { value: 4 } }] };
    const matching = points.slice(3).filter((p) => p.payload.group === 4 && !gone.includes(p.id)).length;
    await qdrant.delete('q', { wait: true, filter });
    assert.deepEqual(await qdrant.count('q', { filter }), { count: 0 });
    assert.deepEqual(await qdrant.count('q'), { count: 995 - matching });
    // has_id filters take integer and UUID ids.
    const keep = [points[5], points[950]].map((p) => (p as Point).id);
    assert.deepEqual(await qdrant.count('q', { filter: { must: [{ has_id: keep }] } }), { count: 2 });
  });

  it('checks API keys: none or unknown 401, read-only key reads but cannot write (403)', async () => {
    assert.equal((await rejection(client(server.url, undefined).getCollections())).status, 401);
    const unknown = await rejection(client(server.url, 'wrong').getCollections());
    assert.equal(unknown.status, 401);
    assert.equal(typeof unknown.data.status.error, 'string');
    const readOnly = client(server.url, RO);
    assert.deepEqual(await readOnly.count('q', { filter: { must: [{ has_id: [10] }] } }), { count: 1 });
    assert.equal((await rejection(readOnly.upsert('q', { points: [{ id: 1, vector: new Array(DIM).fill(1) }] }))).status, 403);
    // Bearer works too, and the envelope is Qdrant's.
    const raw = await server.call('GET', '/collections', undefined, { authorization: `Bearer ${RO}` });
    assert.equal(raw.status, 200);
    assert.equal(raw.json.status, 'ok');
    assert.equal(typeof raw.json.time, 'number');
  });

  it('Euclid and Dot collections: scores are distances and inner products; hnsw_config makes an HNSW index', async () => {
    await qdrant.createCollection('e', { vectors: { size: 2, distance: 'Euclid' }, hnsw_config: { m: 16 } });
    await qdrant.upsert('e', { wait: true, points: [{ id: 1, vector: [0, 0] }, { id: 2, vector: [3, 4] }, { id: '550E8400-E29B-41D4-A716-446655440000', vector: [1, 0], payload: { a: 1 } }] });
    const hits = await qdrant.search('e', { vector: [0, 0], limit: 3, with_vector: true });
    assert.deepEqual(hits.map((h) => [h.id, Math.round(h.score * 1000) / 1000]), [[1, 0], ['550e8400-e29b-41d4-a716-446655440000', 1], [2, 5]]);
    assert.deepEqual(hits[2]?.vector, [3, 4]);
    assert.deepEqual((await qdrant.search('e', { vector: [0, 0], limit: 3, score_threshold: 1 })).map((h) => h.id), [1, '550e8400-e29b-41d4-a716-446655440000']);
    assert.equal((await qdrant.getCollection('e')).config.hnsw_config.m, 16);
    const native = await server.call('GET', '/v1/collections/e', undefined, { 'api-key': RW });
    assert.equal(native.json.index, 'hnsw');
    assert.equal(native.json.metric, 'l2');

    await qdrant.createCollection('d', { vectors: { size: 2, distance: 'Dot' } });
    await qdrant.upsert('d', { wait: true, points: [{ id: 7, vector: [2, 1] }] });
    assert.equal((await qdrant.query('d', { query: [1, 1] })).points[0]?.score, 3);
  });

  it('lists and deletes collections', async () => {
    const { collections } = await qdrant.getCollections();
    assert.deepEqual(collections.map((c) => c.name).sort(), ['d', 'e', 'q']);
    assert.equal(await qdrant.deleteCollection('d'), true);
    assert.equal(await qdrant.deleteCollection('d'), false);
    assert.deepEqual(await qdrant.collectionExists('d'), { exists: false });
    assert.deepEqual((await qdrant.getCollections()).collections.map((c) => c.name).sort(), ['e', 'q']);
  });

  it('hnsw_config: m and ef_construct are kept at creation and reported as configured', async () => {
    const hnswOf = async (name: string): Promise<{ m: number; ef_construct: number }> => {
      const { m, ef_construct: efConstruct } = (await qdrant.getCollection(name)).config.hnsw_config;
      return { m, ef_construct: efConstruct };
    };
    const tuning = async (name: string): Promise<{ settings: Record<string, unknown>; effective: Record<string, unknown> }> =>
      (await server.call('GET', `/v1/collections/${name}/index`, undefined, { 'api-key': RW })).json;

    await qdrant.createCollection('h80', { vectors: { size: 4, distance: 'Cosine' }, hnsw_config: { m: 16, ef_construct: 80 } });
    assert.deepEqual(await hnswOf('h80'), { m: 16, ef_construct: 80 });
    // The engine holds the same settings: the graph is built with efConstruction 80.
    const h80 = await tuning('h80');
    assert.deepEqual(h80.settings, { m: 16, ef_construction: 80 });
    assert.equal(h80.effective.ef_construction, 80);
    // Changed later through the tuning route: the Qdrant view follows.
    assert.equal((await server.call('PATCH', '/v1/collections/h80', { ef_construction: 120 }, { 'api-key': RW })).status, 200);
    assert.deepEqual(await hnswOf('h80'), { m: 16, ef_construct: 120 });

    // Defaults: an empty hnsw_config is HNSW with the engine's m and efConstruction.
    await qdrant.createCollection('hdefault', { vectors: { size: 4, distance: 'Cosine' }, hnsw_config: {} });
    assert.deepEqual(await hnswOf('hdefault'), { m: 32, ef_construct: 40 });
    // No hnsw_config (auto) or m 0 (flat): no graph, m 0; ef_construct is the default an HNSW index would use.
    await qdrant.createCollection('plain', { vectors: { size: 4, distance: 'Cosine' } });
    assert.deepEqual(await hnswOf('plain'), { m: 0, ef_construct: 40 });
    await qdrant.createCollection('flat', { vectors: { size: 4, distance: 'Cosine' }, hnsw_config: { m: 0, ef_construct: 80 } });
    assert.deepEqual(await hnswOf('flat'), { m: 0, ef_construct: 40 });
    assert.equal((await server.call('GET', '/v1/collections/flat', undefined, { 'api-key': RW })).json.index, 'flat');

    // The hnsw_config in vectors overrides the top-level one field by field, as in Qdrant.
    await qdrant.createCollection('merged', { vectors: { size: 4, distance: 'Cosine', hnsw_config: { ef_construct: 100 } }, hnsw_config: { m: 8, ef_construct: 64 } });
    assert.deepEqual(await hnswOf('merged'), { m: 8, ef_construct: 100 });

    const tooSmall = await rejection(qdrant.createCollection('bad', { vectors: { size: 4, distance: 'Cosine' }, hnsw_config: { ef_construct: 2 } }));
    assert.equal(tooSmall.status, 400);
    assert.match(tooSmall.data.status.error, /hnsw_config\.ef_construct: must be from 4 to 4096; got 2/);
    assert.deepEqual(await qdrant.collectionExists('bad'), { exists: false });

    for (const name of ['h80', 'hdefault', 'plain', 'flat', 'merged']) assert.equal(await qdrant.deleteCollection(name), true);
  });
});
