/**
 * Core hot paths at 100k vectors, piramid beside raw faiss-node (the same patched binding, the same
 * index description and parameters) measured in the same run:
 *   - ingest with vectors given (engine API, batches of 1000) vs one raw faiss add
 *   - single-query latency in-process (k=10), median and p99 over the query set, against raw
 *     faiss-node searching the very index piramid built (read from piramid's checkpoint file)
 *   - one-shot `piramid query --vector` wall time vs a bare node process that reads a faiss file
 *     and searches once
 *
 * Run: npm run build && node dist/bench/core.js [--n 100000] [--dim 384] [--queries 300]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Database } from '../src/index.js';
import { MetricType, loadFaissNative } from '../src/engine/index/faiss-native.js';
import { DEFAULT_EF_SEARCH } from '../src/engine/index/index-plan.js';
import { packIndexVectors } from '../src/engine/vectors.js';
import { clusteredVectors } from '../test/helpers/vectors.js';
import { fmt, median, nowMs, percentile, timedPass } from './stats.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    dim: { type: 'string', default: '384' },
    queries: { type: 'string', default: '300' },
    oneshot: { type: 'string', default: '15' },
  },
});
const N = Number(values.n);
const DIM = Number(values.dim);
const QUERIES = Number(values.queries);
const ONESHOT_RUNS = Number(values.oneshot);
const K = 10;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const faiss = loadFaissNative();
faiss.setOmpThreads(1);
const data = clusteredVectors(N, DIM, 200, 42);
const queries = clusteredVectors(QUERIES, DIM, 200, 42, 4242);
const packed = packIndexVectors(data, DIM, 'cosine');
const rows: string[] = [];
const row = (...cells: string[]) => rows.push(`| ${cells.join(' | ')} |`);

function searchLatencies(search: (i: number) => unknown): number[] {
  for (let i = 0; i < 20; i++) search(i % queries.length); // warm up
  return queries.map((_, i) => {
    const start = nowMs();
    search(i);
    return nowMs() - start;
  });
}

async function asyncLatencies(search: (q: Float32Array) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await search(queries[i % queries.length] as Float32Array);
  return timedPass(queries, search);
}

function oneShot(args: string[]): number[] {
  const times: number[] = [];
  for (let i = 0; i < ONESHOT_RUNS; i++) {
    const start = nowMs();
    const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
    times.push(nowMs() - start);
    if (result.status !== 0) throw new Error(`one-shot failed: ${result.stderr}`);
  }
  return times;
}

for (const kind of ['flat', 'hnsw'] as const) {
  const description = kind === 'flat' ? 'Flat' : 'HNSW32,Flat';
  const dir = mkdtempSync(join(tmpdir(), `piramid-bench-${kind}-`));

  // Raw faiss: one add of the whole normalised matrix (the floor for our ingest path).
  faiss.setOmpThreads(2);
  const rawStart = nowMs();
  const raw = faiss.Index.fromFactory(DIM, description, MetricType.METRIC_INNER_PRODUCT);
  raw.add(packed);
  const rawAddMs = nowMs() - rawStart;
  faiss.setOmpThreads(1);

  // piramid: batches of 1000 through the engine API (LevelDB batch + faiss add each).
  const db = await Database.open(dir);
  const collection = await db.createCollection('bench', { embedder: 'none', dimension: DIM, index: kind });
  const ingestStart = nowMs();
  for (let i = 0; i < N; i += 1000) {
    await collection.upsert(data.slice(i, i + 1000).map((vector, j) => ({ id: `d${i + j}`, vector })));
  }
  const ingestMs = nowMs() - ingestStart;
  const checkpointStart = nowMs();
  await db.close();
  const checkpointMs = nowMs() - checkpointStart;

  // Query the very index piramid built (its checkpoint is a faiss file with a trailer faiss
  // ignores): HNSW graphs built in one add and in batches differ, so only this is like for like.
  const same = faiss.Index.read(join(dir, 'indexes', 'bench.pidx'));
  if (kind === 'hnsw') same.setParam('efSearch', DEFAULT_EF_SEARCH);
  const reopened = await Database.open(dir);
  const warm = await reopened.collection('bench');
  const piramidLat = await asyncLatencies((q) => warm.search(q, { k: K }));
  const normalised = queries.map((q) => packIndexVectors([q], DIM, 'cosine'));
  const rawLat = searchLatencies((i) => same.search(normalised[i] as Float32Array, K));
  await reopened.close();

  // One-shot processes: the CLI vs a bare node that reads a plain faiss file and searches once.
  const rawFile = join(dir, 'raw.faiss');
  raw.write(rawFile);
  const queryJson = JSON.stringify(Array.from(queries[0] as Float32Array));
  const bareScript = join(dir, 'bare.mjs');
  writeFileSync(
    bareScript,
    `import { loadFaissNative } from ${JSON.stringify(join(ROOT, 'dist/src/engine/index/faiss-native.js'))};
     const f = loadFaissNative(); f.setOmpThreads(1);
     const index = f.Index.read(${JSON.stringify(rawFile)});
     const q = Float32Array.from(${queryJson}); let n = 0; for (const v of q) n += v * v; n = Math.sqrt(n);
     console.log(JSON.stringify(index.search(q.map((v) => v / n), ${K}).labels));`,
  );
  const bare = oneShot([bareScript]);
  const cli = oneShot([join(ROOT, 'bin/run.js'), 'query', '--vector', queryJson, '-c', 'bench', '-k', String(K), '--json', '-d', dir]);

  row(kind, 'ingest (vectors given), vectors/s', fmt(N / (ingestMs / 1000), 0), fmt(N / (rawAddMs / 1000), 0), fmt(ingestMs / rawAddMs, 2) + '× time');
  row(kind, 'checkpoint on close, ms', fmt(checkpointMs, 0), '', '');
  row(kind, 'query p50, ms (in-process, k=10)', fmt(median(piramidLat), 3), fmt(median(rawLat), 3), fmt(median(piramidLat) / median(rawLat), 2) + '×');
  row(kind, 'query p99, ms', fmt(percentile(piramidLat, 99), 3), fmt(percentile(rawLat, 99), 3), fmt(percentile(piramidLat, 99) / percentile(rawLat, 99), 2) + '×');
  row(kind, 'one-shot process wall, ms (median)', fmt(median(cli), 0), fmt(median(bare), 0), fmt(median(cli) / median(bare), 2) + '×');
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nN=${N} dim=${DIM} clustered (200 centres), cosine, ${QUERIES} queries, k=${K}, efSearch=${DEFAULT_EF_SEARCH}, query threads=1`);
console.log(`faiss build: ${JSON.stringify(faiss.buildInfo?.route)} ${faiss.buildInfo?.optLevel ?? ''}, node ${process.version}\n`);
console.log('| index | measure | piramid | raw faiss-node | ratio |');
console.log('|---|---|---|---|---|');
for (const line of rows) console.log(line);
