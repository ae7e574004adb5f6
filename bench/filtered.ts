/**
 * Filtered, keyword and hybrid query latency at 100k records (HNSW, 384 dims), one query at a time,
 * in-process, k=10: unfiltered against filters passing 1%, 10% and 50% of the records, with the
 * filtered key indexed (the planner may score candidates exactly) and not indexed (ANN with
 * post-filtering); BM25 keyword and hybrid (RRF) on synthetic texts.
 *
 * Run: npm run build && node dist/bench/filtered.js [--n 100000] [--queries 200]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Database, type SearchOptions } from '../src/index.js';
import { clusteredVectors, seededRandom } from '../test/helpers/vectors.js';
import { fmt, median, nowMs, percentile } from './stats.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '100000' }, queries: { type: 'string', default: '200' } } });
const N = Number(values.n);
const Q = Number(values.queries);
const DIM = 384;
const random = seededRandom(3);
// A Zipf-ish vocabulary: a few very common words, many rare ones.
const vocabulary = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}`);
const word = (): string => vocabulary[Math.floor(vocabulary.length * random() ** 3)] as string;
const vectors = clusteredVectors(N, DIM, 200, 11);
const queries = clusteredVectors(Q, DIM, 200, 11, 1111);
const queryTexts = queries.map(() => `${word()} ${word()} ${word()}`);

const dir = mkdtempSync(join(tmpdir(), 'piramid-bench-filter-'));
const db = await Database.open(dir);
const collection = await db.createCollection('bench', { embedder: 'none', dimension: DIM, index: 'hnsw', payloadIndexes: { bucket: 'integer' } });
const buildStart = nowMs();
for (let i = 0; i < N; i += 2000) {
  await collection.upsert(
    vectors.slice(i, i + 2000).map((vector, j) => ({
      id: `d${i + j}`,
      vector,
      text: Array.from({ length: 20 }, word).join(' '),
      // bucket is indexed, plain is the same value without an index.
      metadata: { bucket: (i + j) % 100, plain: (i + j) % 100 },
    })),
  );
}
const buildSeconds = (nowMs() - buildStart) / 1000;

async function latencies(options: (i: number) => SearchOptions): Promise<{ p50: number; p99: number; hits: number; strategy: string }> {
  for (let i = 0; i < 10; i++) await collection.search(queries[i] as Float32Array, options(i));
  const times: number[] = [];
  let hits = 0;
  let strategy = '';
  for (const [i, query] of queries.entries()) {
    const start = nowMs();
    const result = await collection.search(query, options(i));
    times.push(nowMs() - start);
    hits += result.hits.length;
    strategy = result.plan.strategy;
  }
  return { p50: median(times), p99: percentile(times, 99), hits: hits / queries.length, strategy };
}

const rows: string[] = [];
const base = await latencies(() => ({ k: 10 }));
rows.push(`| unfiltered | ${base.strategy} | ${fmt(base.p50, 3)} | ${fmt(base.p99, 3)} | 1.00× | ${fmt(base.hits, 1)} |`);
for (const percent of [1, 10, 50]) {
  for (const key of ['bucket', 'plain']) {
    const result = await latencies(() => ({ k: 10, filter: { must: [{ key, range: { lt: percent } }] } }));
    const label = `${percent}% (${key === 'bucket' ? 'indexed' : 'not indexed'})`;
    rows.push(`| ${label} | ${result.strategy} | ${fmt(result.p50, 3)} | ${fmt(result.p99, 3)} | ${fmt(result.p50 / base.p50, 2)}× | ${fmt(result.hits, 1)} |`);
  }
}
for (const mode of ['keyword', 'hybrid'] as const) {
  const result = await latencies((i) => ({ k: 10, mode, text: queryTexts[i] as string }));
  rows.push(`| ${mode} (3-word query) | ${result.strategy} | ${fmt(result.p50, 3)} | ${fmt(result.p99, 3)} | ${fmt(result.p50 / base.p50, 2)}× | ${fmt(result.hits, 1)} |`);
}
await db.close();
rmSync(dir, { recursive: true, force: true });

console.log(`\nN=${N} x ${DIM} clustered, HNSW32 (efSearch 64), texts of 20 words from a 5000-word Zipf vocabulary, ${Q} queries, k=10, built in ${fmt(buildSeconds, 1)} s\n`);
console.log('| query | plan | p50 ms | p99 ms | p50 vs unfiltered | hits |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
