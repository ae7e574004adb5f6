import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Database, type Collection } from '../../src/index.js';
import type { Filter } from '../../src/engine/query/filter.js';
import { matchesFilter } from '../../src/engine/query/filter.js';
import { tempDir } from '../helpers/temp-dir.js';
import { bruteForce, clusteredVectors, seededRandom } from '../helpers/vectors.js';

const DIM = 16;
const N = 6000; // enough for the IVF collections to train their lists
const LANGS = ['en', 'fr', 'de', 'es'];
const TAGS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
const random = seededRandom(77);
const vectors = clusteredVectors(N, DIM, 40, 7);
const docs = vectors.map((vector, i) => ({
  id: `r${i}`,
  vector: Array.from(vector),
  metadata: {
    lang: LANGS[Math.floor(random() * LANGS.length)] as string,
    year: 1900 + Math.floor(random() * 125),
    score: Math.round(random() * 1000) / 10,
    tags: TAGS.filter(() => random() < 0.2),
    ...(random() < 0.1 ? { rare: 'yes' } : {}),
  },
}));
const records = docs.map((d) => ({ id: d.id, metadata: d.metadata }));

/** Random filters of every shape, from very selective to matching almost everything. */
function randomFilter(r: () => number): Filter {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const condition = (): Filter['must'] => {
    switch (Math.floor(r() * 6)) {
      case 0:
        return { key: 'lang', match: { value: pick(LANGS) } };
      case 1: {
        const from = 1900 + Math.floor(r() * 125);
        return { key: 'year', range: { gte: from, lt: from + 1 + Math.floor(r() * 40) } };
      }
      case 2:
        return { key: 'tags', match: { any: [pick(TAGS), pick(TAGS)] } };
      case 3:
        return { key: 'rare', match: { value: 'yes' } };
      case 4:
        return { key: 'score', range: { gt: r() * 100 } };
      default:
        return { has_id: Array.from({ length: 5 + Math.floor(r() * 20) }, () => `r${Math.floor(r() * N)}`) };
    }
  };
  const must = Array.from({ length: 1 + Math.floor(r() * 3) }, condition) as NonNullable<Filter['must']>[];
  const filter: Filter = { must: must.flat() };
  if (r() < 0.3) filter.must_not = [{ key: 'lang', match: { value: pick(LANGS) } }];
  if (r() < 0.2) filter.should = [{ key: 'tags', match: { value: pick(TAGS) } }, { key: 'year', range: { lt: 1950 } }];
  return filter;
}

/** The reference answer: brute force over the matching records. */
function reference(filter: Filter, query: Float32Array, k: number): string[] {
  const matching = records.map((r, i) => ({ r, i })).filter(({ r }) => matchesFilter(filter, r));
  const exact = bruteForce(matching.map(({ i }) => vectors[i] as Float32Array), query, k, 'cosine');
  return exact.map((e) => (matching[e.index] as { r: { id: string } }).r.id);
}

describe('filtered search', () => {
  const collections: Record<string, Collection> = {};

  before(async () => {
    const dir = await tempDir();
    const db = await Database.open(dir);
    for (const kind of ['flat', 'hnsw', 'ivf'] as const) {
      const indexed = await db.createCollection(`${kind}-indexed`, { embedder: 'none', dimension: DIM, index: kind, payloadIndexes: { lang: 'keyword', year: 'integer', tags: 'keyword', rare: 'keyword' } });
      const plain = await db.createCollection(`${kind}-plain`, { embedder: 'none', dimension: DIM, index: kind });
      await indexed.upsert(docs.slice(0, N / 2));
      await plain.upsert(docs);
      // Indexes added after the data exist are backfilled.
      await indexed.indexField('score', 'float');
      await indexed.upsert(docs.slice(N / 2));
      collections[`${kind}-indexed`] = indexed;
      collections[`${kind}-plain`] = plain;
    }
  });

  it('always returns min(k, matching records) hits, all matching, for random filters on every index kind', async () => {
    const r = seededRandom(5);
    const queries = clusteredVectors(25, DIM, 40, 7, 99);
    let checked = 0;
    for (const [name, collection] of Object.entries(collections)) {
      for (const [q, query] of queries.entries()) {
        const filter = randomFilter(r);
        const k = 1 + Math.floor(r() * 20);
        const matching = records.filter((rec) => matchesFilter(filter, rec)).length;
        const { hits, plan } = await collection.search(query, { k, filter });
        assert.equal(hits.length, Math.min(k, matching), `${name} query ${q}: ${JSON.stringify(filter)} plan ${JSON.stringify(plan)}`);
        for (const hit of hits) assert.ok(matchesFilter(filter, { id: hit.id, metadata: hit.metadata ?? {} }), `${name}: ${hit.id} does not match`);
        // Exact where it must be: flat, and the exact strategies, equal the reference top-k.
        if (name.startsWith('flat') || plan.strategy.startsWith('exact')) {
          assert.deepEqual(hits.map((h) => h.id), reference(filter, query, k), `${name} ${plan.strategy}`);
        }
        checked += 1;
      }
    }
    assert.equal(checked, 150);
    assert.match((await (collections['ivf-plain'] as Collection).stats()).indexState, /^IVF/);
  });

  it('answers a selective filter on indexed keys by exact scoring of its candidates', async () => {
    const query = vectors[11] as Float32Array;
    const filter: Filter = { must: [{ key: 'rare', match: { value: 'yes' } }, { key: 'lang', match: { value: 'fr' } }] };
    const { hits, plan } = await (collections['hnsw-indexed'] as Collection).search(query, { k: 10, filter });
    assert.equal(plan.strategy, 'exact-candidates');
    assert.deepEqual(plan.indexedKeys?.sort(), ['lang', 'rare']);
    assert.deepEqual(hits.map((h) => h.id), reference(filter, query, 10));
    const plain = await (collections['hnsw-plain'] as Collection).search(query, { k: 10, filter });
    assert.equal(plain.plan.strategy === 'ann-postfilter' || plain.plan.strategy === 'exact-scan', true);
    assert.equal(plain.hits.length, hits.length);
  });

  it('keeps payload postings in step with updates and deletes', async () => {
    const dir = await tempDir();
    const db = await Database.open(dir);
    const c = await db.createCollection('p', { embedder: 'none', dimension: 2, payloadIndexes: { lang: 'keyword' } });
    await c.upsert([{ id: 'x', vector: [1, 0], metadata: { lang: 'en' } }, { id: 'y', vector: [0, 1], metadata: { lang: 'en' } }]);
    await c.upsert([{ id: 'x', vector: [1, 0], metadata: { lang: 'fr' } }]);
    await c.delete(['y']);
    const en = await c.search([1, 0], { k: 5, filter: { must: [{ key: 'lang', match: { value: 'en' } }] } });
    assert.deepEqual([en.hits.length, en.plan.strategy, en.plan.candidates], [0, 'exact-candidates', 0]);
    const fr = await c.search([1, 0], { k: 5, filter: { must: [{ key: 'lang', match: { value: 'fr' } }] } });
    assert.deepEqual(fr.hits.map((h) => h.id), ['x']);
    await db.close();
  });

  it('pages with offset and cuts with a score threshold', async () => {
    const c = collections['flat-plain'] as Collection;
    const query = vectors[3] as Float32Array;
    const all = (await c.search(query, { k: 20 })).hits;
    const page = (await c.search(query, { k: 5, offset: 10 })).hits;
    assert.deepEqual(page.map((h) => h.id), all.slice(10, 15).map((h) => h.id));
    const threshold = all[6]?.score ?? 0;
    const cut = (await c.search(query, { k: 20, scoreThreshold: threshold })).hits;
    assert.deepEqual(cut.map((h) => h.id), all.slice(0, 7).map((h) => h.id));
  });
});
