import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadFaissBinding } from '../../src/engine/index/faiss-binding.js';
import { FaissVectorIndex } from '../../src/engine/index/faiss-index.js';
import { indexDimension } from '../../src/engine/index/index-plan.js';
import { Database, PiramidError, type EngineWarning, type IvfDatatype, type Metric } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { bruteForce, clusteredVectors } from '../helpers/vectors.js';

// 20 is not a multiple of 8: float16 lists are zero-padded to 24 floats inside faiss.
const DIMENSION = 20;
const COUNT = 6000;
const NLIST = 16;

async function fill(dir: string, datatype: IvfDatatype, metric: Metric, warnings: EngineWarning[] = []): Promise<{ data: Float32Array[]; db: Database }> {
  const db = await Database.open(dir, { onWarning: (warning) => warnings.push(warning) });
  const collection = await db.createCollection('c', { embedder: 'none', dimension: DIMENSION, metric, index: { kind: 'ivf', nlist: NLIST, datatype } });
  const data = clusteredVectors(COUNT, DIMENSION, 40, 11);
  for (let i = 0; i < COUNT; i += 1000) {
    await collection.upsert(data.slice(i, i + 1000).map((vector, j) => ({ id: `v${i + j}`, vector })));
  }
  return { data, db };
}

function indexFileBytes(dir: string): number {
  const folder = join(dir, 'indexes');
  return readdirSync(folder)
    .filter((name) => name.endsWith('.pidx'))
    .reduce((sum, name) => sum + statSync(join(folder, name)).size, 0);
}

/** Largest score difference between the collection's top 10 (all lists probed) and brute force, after checking both rank the same ids. */
async function worstScoreError(db: Database, data: Float32Array[], metric: Metric): Promise<number> {
  const collection = await db.collection('c');
  const queries = clusteredVectors(20, DIMENSION, 40, 11, 99);
  let worst = 0;
  let sameIds = 0;
  for (const query of queries) {
    const exact = bruteForce(data, query, 10, metric);
    const { hits } = await collection.search(query, { k: 10, nprobe: NLIST });
    assert.equal(hits.length, 10);
    const exactScores = new Map(exact.map((hit) => [`v${hit.index}`, hit.score]));
    for (const hit of hits) {
      const expected = exactScores.get(hit.id);
      if (expected === undefined) continue; // a near-tie at rank 10 may differ after rounding
      sameIds += 1;
      worst = Math.max(worst, Math.abs(hit.score - expected));
    }
  }
  assert.ok(sameIds >= 0.98 * queries.length * 10, `top-10 ids should match brute force (${sameIds} of ${queries.length * 10})`);
  return worst;
}

describe('IVF list datatype', () => {
  it('float16 lists (the default) answer like exact search, with scores within rounding, across reopen and later writes', async () => {
    const dir = await tempDir();
    const warnings: EngineWarning[] = [];
    const { data, db } = await fill(dir, 'float16', 'cosine', warnings);
    const collection = await db.collection('c');
    assert.equal((await collection.stats()).indexState, `IVF${NLIST},SQfp16`);
    const before = await worstScoreError(db, data, 'cosine');
    assert.ok(before > 0, 'float16 rounding shows in the scores (otherwise this test would not tell the datatypes apart)');
    assert.ok(before < 2e-3, `cosine scores within 2e-3 of exact (worst ${before})`);
    await db.close();

    // Reopen: the checkpoint (padded inside faiss) is read back, not rebuilt, and keeps answering.
    const reopened = await Database.open(dir, { onWarning: (warning) => warnings.push(warning) });
    try {
      assert.ok(await worstScoreError(reopened, data, 'cosine') < 2e-3);
      const again = await reopened.collection('c');
      const fresh = Float32Array.from({ length: DIMENSION }, (_, i) => (i % 3 === 0 ? 5 : -1));
      await again.upsert([{ id: 'fresh', vector: fresh }]);
      const { hits } = await again.search(fresh, { k: 1, nprobe: NLIST });
      assert.equal(hits[0]?.id, 'fresh');
      assert.ok(Math.abs((hits[0]?.score ?? 0) - 1) < 2e-3, `a vector matches itself (score ${hits[0]?.score})`);
    } finally {
      await reopened.close();
    }
    assert.deepEqual(
      warnings.filter((warning) => warning.code === 'INDEX_REBUILT'),
      [],
      'the float16 checkpoint loads as written',
    );
  });

  it('float32 lists keep exact scores; float16 ones take about half the index file', async () => {
    const exactDir = await tempDir();
    const { data, db } = await fill(exactDir, 'float32', 'cosine');
    assert.equal((await (await db.collection('c')).stats()).indexState, `IVF${NLIST},Flat`);
    assert.ok((await worstScoreError(db, data, 'cosine')) < 1e-5);
    await db.close();

    const halfDir = await tempDir();
    const half = await fill(halfDir, 'float16', 'cosine');
    await half.db.close();
    // 24 padded dims × 2 bytes against 20 × 4 bytes per vector, plus ids and centroids in both.
    const ratio = indexFileBytes(halfDir) / indexFileBytes(exactDir);
    assert.ok(ratio > 0.5 && ratio < 0.8, `float16 file / float32 file = ${ratio.toFixed(2)}`);
  });

  it('float16 lists under l2 report distances within rounding', async () => {
    const dir = await tempDir();
    const { data, db } = await fill(dir, 'float16', 'l2');
    try {
      const worst = await worstScoreError(db, data, 'l2');
      assert.ok(worst < 5e-3, `l2 distances within 5e-3 of exact (worst ${worst})`);
    } finally {
      await db.close();
    }
  });

  it('verify passes on float16 lists, and compact rebuilds them padded, answering as before', async () => {
    const dir = await tempDir();
    const { data, db } = await fill(dir, 'float16', 'cosine');
    try {
      const collection = await db.collection('c');
      await collection.delete(Array.from({ length: 1000 }, (_, i) => `v${i * 2}`));
      const report = await db.verify();
      assert.equal(report.ok, true, JSON.stringify(report));
      const result = await db.compact('c');
      assert.equal(result.records, COUNT - 1000);
      assert.equal(result.dropped, 1000);
      assert.equal((await collection.stats()).indexState, `IVF${NLIST},SQfp16`);
      const live = data.filter((_, i) => i % 2 === 1 || i >= 2000);
      const liveIds = data.map((_, i) => `v${i}`).filter((_, i) => i % 2 === 1 || i >= 2000);
      for (const query of clusteredVectors(10, DIMENSION, 40, 11, 77)) {
        const exact = bruteForce(live, query, 5, 'cosine').map((hit) => liveIds[hit.index]);
        const { hits } = await collection.search(query, { k: 5, nprobe: NLIST });
        const found = hits.filter((hit) => exact.includes(hit.id)).length;
        assert.ok(found >= 4, `top 5 after compact: ${found} of the exact 5`);
      }
      assert.equal((await db.verify()).ok, true);
    } finally {
      await db.close();
    }
  });

  it('rejects an unknown datatype, naming it', async () => {
    const db = await Database.open(await tempDir());
    try {
      await assert.rejects(
        db.createCollection('c', { embedder: 'none', dimension: 4, index: { kind: 'ivf', datatype: 'float8' as IvfDatatype } }),
        (err: unknown) => err instanceof PiramidError && err.code === 'INVALID_ARGUMENT' && /float8/.test(err.message) && /float16, float32/.test(err.hint ?? ''),
      );
      assert.deepEqual(await db.listCollections(), []);
    } finally {
      await db.close();
    }
  });

  it('pads one query, packed queries and training rows alike (FaissVectorIndex)', () => {
    const binding = loadFaissBinding();
    const description = 'IVF4,SQfp16';
    assert.equal(indexDimension(description, 10), 16);
    assert.equal(indexDimension('IVF4,Flat', 10), 10);
    const index = FaissVectorIndex.create(binding, 10, 'l2', description);
    assert.equal(index.dimension, 10);
    const data = clusteredVectors(400, 10, 8, 5);
    const packed = new Float32Array(400 * 10);
    data.forEach((vector, i) => packed.set(vector, i * 10));
    index.train(packed);
    index.add(packed);
    assert.equal(index.size, 400);
    const queries = packed.subarray(0, 3 * 10);
    const together = index.search(queries, 5, { nprobe: 4 });
    for (let q = 0; q < 3; q++) {
      const alone = index.search(queries.subarray(q * 10, (q + 1) * 10), 5, { nprobe: 4 });
      assert.deepEqual(Array.from(alone.labels), Array.from(together.labels.subarray(q * 5, (q + 1) * 5)));
      assert.equal(alone.labels[0], q, 'each stored vector is its own nearest');
    }
    const batch = index.searchBatch(queries, 5, { nprobe: 4 });
    assert.deepEqual(Array.from(batch.labels), Array.from(together.labels));
  });
});
