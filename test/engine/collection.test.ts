import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Database, PiramidError } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { bruteForce, clusteredVectors, randomVectors, recallAtK, type TestMetric } from '../helpers/vectors.js';
import { WordHashEmbedder } from '../helpers/word-embedder.js';

const docsOf = (vectors: Float32Array[], prefix = 'v') =>
  vectors.map((vector, i) => ({ id: `${prefix}${i}`, vector: Array.from(vector), metadata: { n: i } }));

async function openVectorsOnly(dimension: number, index: 'flat' | 'hnsw' | 'ivf' = 'flat', metric: TestMetric = 'cosine') {
  const dir = await tempDir();
  const db = await Database.open(dir);
  const collection = await db.createCollection('c', { embedder: 'none', dimension, index, metric });
  return { dir, db, collection };
}

describe('collection basics', () => {
  it('upserts, gets, counts, deletes and searches', async () => {
    const { db, collection } = await openVectorsOnly(4);
    const result = await collection.upsert([
      { id: 'a', vector: [1, 0, 0, 0], text: 'alpha', metadata: { tag: 'x' } },
      { id: 'b', vector: [0, 1, 0, 0], text: 'beta' },
      { vector: [0, 0, 1, 0], text: 'generated id' },
    ]);
    assert.deepEqual([result.added, result.updated], [3, 0]);
    assert.equal(result.ids.length, 3);
    assert.match(result.ids[2] as string, /^doc-[\w-]{24}$/); // derived from the content: stable across re-runs
    assert.equal(await collection.count(), 3);

    const [a, missing] = await collection.get(['a', 'nope'], { withVector: true });
    assert.deepEqual(a, { id: 'a', text: 'alpha', metadata: { tag: 'x' }, vector: [1, 0, 0, 0] });
    assert.equal(missing, undefined);

    const { hits } = await collection.search([0.9, 0.1, 0, 0], { k: 2 });
    assert.deepEqual(hits.map((h) => h.id), ['a', 'b']);
    assert.ok((hits[0]?.score ?? 0) > 0.99);

    assert.deepEqual(await collection.delete(['b', 'zzz']), { deleted: 1, notFound: ['zzz'] });
    assert.equal(await collection.count(), 2);
    const after = await collection.search([0, 1, 0, 0], { k: 3 });
    assert.ok(!after.hits.some((h) => h.id === 'b'));
    assert.equal(after.hits.length, 2);
    const stats = await collection.stats();
    assert.equal(stats.count, 2);
    assert.equal(stats.deleted, 1);
    await db.close();
  });

  it('persists across close and reopen', async () => {
    const { dir, db, collection } = await openVectorsOnly(8);
    const vectors = randomVectors(200, 8, 1);
    await collection.upsert(docsOf(vectors));
    const before = await collection.search(vectors[7] as Float32Array, { k: 5 });
    await db.close();

    const reopened = await Database.open(dir);
    const again = await reopened.collection('c');
    assert.equal(await again.count(), 200);
    const after = await again.search(vectors[7] as Float32Array, { k: 5 });
    assert.deepEqual(after.hits, before.hits);
    assert.equal(after.hits[0]?.id, 'v7');
    assert.equal((await reopened.listCollections()).map((c) => c.name).join(), 'c');
    await reopened.close();
  });

  it('replaces an updated document in results, never returning the old version', async () => {
    const { db, collection } = await openVectorsOnly(4);
    await collection.upsert([
      { id: 'moving', vector: [1, 0, 0, 0], text: 'old' },
      { id: 'other', vector: [0.7, 0.7, 0, 0] },
    ]);
    const update = await collection.upsert([{ id: 'moving', vector: [0, 0, 0, 1], text: 'new' }]);
    assert.deepEqual([update.added, update.updated], [0, 1]);
    const near = await collection.search([1, 0, 0, 0], { k: 10 });
    assert.deepEqual(near.hits.map((h) => h.id), ['other', 'moving']);
    assert.equal(near.hits[1]?.text, 'new');
    const top = await collection.search([0, 0, 0, 1], { k: 1 });
    assert.equal(top.hits[0]?.id, 'moving');
    assert.equal(await collection.count(), 2);
    await db.close();
  });

  it('returns k live hits after most top candidates are deleted', async () => {
    const { db, collection } = await openVectorsOnly(16);
    const vectors = randomVectors(1000, 16, 2);
    await collection.upsert(docsOf(vectors));
    const query = vectors[0] as Float32Array;
    const top = bruteForce(vectors, query, 300, 'cosine');
    const doomed = top.slice(0, 290).map((t) => `v${t.index}`);
    await collection.delete(doomed);
    const { hits } = await collection.search(query, { k: 10 });
    assert.equal(hits.length, 10);
    const deleted = new Set(doomed);
    assert.ok(hits.every((h) => !deleted.has(h.id)));
    assert.deepEqual(hits.map((h) => h.id), top.slice(290, 300).map((t) => `v${t.index}`));
    await db.close();
  });

  it('refuses bad input with the field named, storing nothing from the bad call', async () => {
    const { db, collection } = await openVectorsOnly(3);
    await collection.upsert([{ id: 'keep', vector: [1, 2, 3] }]);
    await assert.rejects(collection.upsert([{ id: 'ok', vector: [1, 2, 3] }, { id: 'bad', vector: [1, 2] }]), (err: PiramidError) => {
      assert.equal(err.code, 'DIMENSION_MISMATCH');
      assert.equal(err.location?.field, 'documents[1].vector');
      return true;
    });
    await assert.rejects(collection.upsert([{ id: 'nan', vector: [1, Number.NaN, 3] }]), { code: 'INVALID_INPUT' });
    await assert.rejects(collection.upsert([{ id: 'empty' }]), { code: 'INVALID_INPUT' });
    await assert.rejects(collection.upsert([{ text: 'needs a model' }]), { code: 'EMBEDDER_REQUIRED' });
    assert.equal(await collection.count(), 1);
    await db.close();
  });

  it('embeds text with the collection embedder and refuses a different model', async () => {
    const dir = await tempDir();
    const embedder = new WordHashEmbedder(32);
    const db = await Database.open(dir, { embedderFactory: async () => embedder });
    const notes = await db.createCollection('notes');
    assert.equal(notes.config.dimension, 32);
    await notes.upsert([
      { id: 'bread', text: 'how to bake bread with flour and yeast' },
      { id: 'stocks', text: 'the stock market fell today' },
    ]);
    const { hits } = await notes.search('bake bread', { k: 1 });
    assert.equal(hits[0]?.id, 'bread');
    await db.close();

    const other = await Database.open(dir, { embedderFactory: async () => new WordHashEmbedder(32, 'another-model') });
    const reopened = await other.collection('notes');
    await assert.rejects(reopened.search('bread'), { code: 'EMBEDDER_MISMATCH' });
    await other.close();
  });

  it('validates names and refuses duplicates and unknown collections', async () => {
    const dir = await tempDir();
    const db = await Database.open(dir);
    await assert.rejects(db.createCollection('../evil', { embedder: 'none', dimension: 2 }), { code: 'INVALID_NAME' });
    await db.createCollection('x', { embedder: 'none', dimension: 2 });
    await assert.rejects(db.createCollection('x', { embedder: 'none', dimension: 2 }), { code: 'COLLECTION_EXISTS' });
    await assert.rejects(db.collection('nope'), { code: 'COLLECTION_NOT_FOUND' });
    await assert.rejects(db.createCollection('y', { embedder: 'none' }), { code: 'INVALID_ARGUMENT' });
    await db.dropCollection('x');
    assert.equal((await db.listCollections()).length, 0);
    const fresh = await db.createCollection('x', { embedder: 'none', dimension: 2 });
    assert.equal(await fresh.count(), 0);
    await db.close();
  });
});

describe('search quality', () => {
  for (const metric of ['cosine', 'dot', 'l2'] as const) {
    it(`flat ${metric} equals brute force`, async () => {
      const { db, collection } = await openVectorsOnly(24, 'flat', metric);
      const vectors = randomVectors(2000, 24, 3);
      await collection.upsert(docsOf(vectors));
      for (const query of randomVectors(20, 24, 4)) {
        const exact = bruteForce(vectors, query, 10, metric);
        const { hits } = await collection.search(query, { k: 10 });
        assert.deepEqual(hits.map((h) => h.id), exact.map((e) => `v${e.index}`));
        hits.forEach((hit, i) => assert.ok(Math.abs(hit.score - (exact[i]?.score ?? 0)) < 1e-3, `${metric} score ${hit.score}`));
      }
      await db.close();
    });
  }

  for (const kind of ['hnsw', 'ivf'] as const) {
    it(`${kind} reaches recall@10 >= 0.95 against flat on 20k clustered vectors with default parameters`, async () => {
      const dimension = 32;
      const vectors = clusteredVectors(20_000, dimension, 100, 5);
      const queries = clusteredVectors(100, dimension, 100, 5, 999);
      const flat = await openVectorsOnly(dimension, 'flat');
      const approx = await openVectorsOnly(dimension, kind);
      const docs = docsOf(vectors);
      for (let i = 0; i < docs.length; i += 5000) {
        await flat.collection.upsert(docs.slice(i, i + 5000));
        await approx.collection.upsert(docs.slice(i, i + 5000));
      }
      const stats = await approx.collection.stats();
      assert.match(stats.indexState, kind === 'hnsw' ? /^HNSW/ : /^IVF/);
      let recall = 0;
      for (const query of queries) {
        const exact = (await flat.collection.search(query, { k: 10 })).hits.map((h) => h.id);
        const found = (await approx.collection.search(query, { k: 10 })).hits.map((h) => h.id);
        recall += recallAtK(exact, found);
      }
      recall /= queries.length;
      assert.ok(recall >= 0.95, `${kind} recall@10 = ${recall}`);
      await flat.db.close();
      await approx.db.close();
    });
  }
});
