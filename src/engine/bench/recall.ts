/**
 * Recall and latency of a collection's own index on its own data (`piramid bench`): stored vectors,
 * sampled with a seed, are the queries; the reference is exact search (a faiss Flat built here from
 * every live stored vector, so it owes nothing to the collection's approximate index); each query's
 * own record is left out of both lists. The index side runs the engine's real query path
 * (Collection.search: faiss, then the records from LevelDB), one query at a time.
 */
import type { Collection } from '../collection.js';
import { PiramidError } from '../errors.js';
import { seededRandom } from '../random.js';
import type { SearchOptions } from '../types.js';
import { writeIndexVector } from '../vectors.js';

export const DEFAULT_BENCH_QUERIES = 200;
export const DEFAULT_BENCH_K = 10;
export const DEFAULT_BENCH_SEED = 42;
const WARM_UP = 10;

export interface RecallBenchOptions {
  /** Stored vectors used as queries (default 200; at most the live count). */
  queries?: number;
  k?: number;
  seed?: number;
  /** HNSW: efSearch values to measure besides the collection's default. */
  efSearch?: readonly number[];
  /** IVF: nprobe values to measure besides the collection's default. */
  nprobe?: readonly number[];
  onProgress?: (progress: RecallBenchProgress) => void;
}

export interface RecallBenchProgress {
  phase: 'reading' | 'exact' | 'index';
  done: number;
  total: number;
  /** The setting being measured (index phase), e.g. `ef_search=64` or `default`. */
  setting?: string;
}

/** Milliseconds per query, one query at a time. */
export interface LatencyJson {
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  mean_ms: number;
  /** 1000 / mean: queries per second on one thread. */
  qps: number;
}

export interface RecallRunJson {
  /** `default` (the collection's own settings), or the setting measured, e.g. `ef_search=32`. */
  setting: string;
  ef_search?: number;
  nprobe?: number;
  /** Mean over the queries of |index top-k ∩ exact top-k| / |exact top-k|. */
  recall: number;
  /** The worst query's recall. */
  recall_min: number;
  latency: LatencyJson;
}

/** The `piramid bench --json` result, and the answer of POST /v1/collections/:name/bench. */
export interface RecallBenchJson {
  collection: string;
  index: string;
  /** The faiss structure measured, e.g. `HNSW32,Flat`. */
  index_state: string;
  metric: string;
  dimension: number;
  /** Live records. */
  count: number;
  queries: number;
  k: number;
  seed: number;
  /** Exact search: a faiss Flat over the live vectors (what a flat index costs per query). */
  exact: { latency: LatencyJson };
  runs: RecallRunJson[];
  took_ms: number;
}

export async function benchCollection(collection: Collection, options: RecallBenchOptions = {}): Promise<RecallBenchJson> {
  const started = performance.now();
  const k = options.k ?? DEFAULT_BENCH_K;
  const seed = options.seed ?? DEFAULT_BENCH_SEED;
  const wanted = options.queries ?? DEFAULT_BENCH_QUERIES;
  for (const [name, value] of [['k', k], ['queries', wanted]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 10_000) throw new PiramidError('INVALID_ARGUMENT', `${name} must be an integer from 1 to 10000; got ${value}.`);
  }
  const { dimension, metric } = collection.config;
  const progress = options.onProgress ?? ((): void => undefined);
  const before = await collection.stats();
  if (before.count < 2) {
    throw new PiramidError('INVALID_ARGUMENT', `Collection "${collection.name}" has ${before.count} record(s); a recall measurement needs at least 2.`, {
      hint: 'Ingest some documents first.',
    });
  }

  // One pass over the live vectors: the exact index, ids by position, and a seeded reservoir sample.
  const exact = collection.createExactIndex();
  const ids: string[] = [];
  const sampleSize = Math.min(wanted, before.count);
  const sample: { id: string; vector: Float32Array }[] = [];
  const random = seededRandom(seed);
  for await (const chunk of collection.liveVectors()) {
    const packed = new Float32Array(chunk.length * dimension);
    chunk.forEach(({ id, vector }, i) => {
      writeIndexVector(vector, metric, packed, i * dimension);
      const seen = ids.length;
      ids.push(id);
      const slot = seen < sampleSize ? seen : Math.floor(random() * (seen + 1));
      if (slot < sampleSize) sample[slot] = { id, vector };
    });
    exact.add(packed);
    progress({ phase: 'reading', done: ids.length, total: before.count });
    await yieldToEventLoop();
  }
  const count = ids.length;
  const queries = sample.slice(0, Math.min(sampleSize, count));
  const fetch = Math.min(k + 1, count);
  const packedQueries = new Float32Array(queries.length * dimension);
  queries.forEach((q, i) => writeIndexVector(q.vector, metric, packedQueries, i * dimension));

  // The reference top-k of every query (one batch, every core), then single-query exact latency.
  const reference = exact.searchBatch(packedQueries, fetch, {});
  const truth = queries.map((q, i) => {
    const top: string[] = [];
    for (let j = i * fetch; j < (i + 1) * fetch && top.length < k; j++) {
      const label = reference.labels[j] as number;
      const id = label >= 0 ? ids[label] : undefined;
      if (id !== undefined && id !== q.id) top.push(id);
    }
    return new Set(top);
  });
  const exactTimes: number[] = [];
  for (let i = 0; i < queries.length + WARM_UP; i++) {
    const q = i % queries.length;
    const start = performance.now();
    exact.search(packedQueries.subarray(q * dimension, (q + 1) * dimension), fetch, {});
    if (i >= WARM_UP) exactTimes.push(performance.now() - start);
    if (i % 10 === 9) {
      progress({ phase: 'exact', done: Math.max(0, i + 1 - WARM_UP), total: queries.length });
      await yieldToEventLoop();
    }
  }

  // The index: its own defaults first, then each setting of the sweep.
  const state = (await collection.indexTuning()).indexState;
  const settings: { setting: string; options: SearchOptions; efSearch?: number; nprobe?: number }[] = [{ setting: 'default', options: {} }];
  if ((options.efSearch?.length ?? 0) > 0) {
    if (!state.startsWith('HNSW')) throw sweepError('--ef (ef_search)', 'HNSW', collection.name, state);
    for (const ef of options.efSearch ?? []) settings.push({ setting: `ef_search=${ef}`, options: { efSearch: positive('ef_search', ef) }, efSearch: ef });
  }
  if ((options.nprobe?.length ?? 0) > 0) {
    if (!state.startsWith('IVF')) throw sweepError('--nprobe', 'IVF', collection.name, state);
    for (const nprobe of options.nprobe ?? []) settings.push({ setting: `nprobe=${nprobe}`, options: { nprobe: positive('nprobe', nprobe) }, nprobe });
  }
  const runs: RecallRunJson[] = [];
  for (const run of settings) {
    const times: number[] = [];
    const recalls: number[] = [];
    // Warm-up rounds (i < 0) reuse the first queries and are not counted.
    for (let i = -Math.min(WARM_UP, queries.length); i < queries.length; i++) {
      const at = i < 0 ? i + Math.min(WARM_UP, queries.length) : i;
      const q = queries[at] as { id: string; vector: Float32Array };
      const start = performance.now();
      const result = await collection.search(q.vector, { ...run.options, k: fetch });
      const took = performance.now() - start;
      if (i < 0) continue;
      times.push(took);
      const want = truth[at] as Set<string>;
      const got = result.hits.filter((hit) => hit.id !== q.id).slice(0, k);
      recalls.push(want.size === 0 ? 1 : got.filter((hit) => want.has(hit.id)).length / want.size);
      if (i % 10 === 9) progress({ phase: 'index', done: i + 1, total: queries.length, setting: run.setting });
    }
    runs.push({
      setting: run.setting,
      ...(run.efSearch === undefined ? {} : { ef_search: run.efSearch }),
      ...(run.nprobe === undefined ? {} : { nprobe: run.nprobe }),
      recall: round(recalls.reduce((a, b) => a + b, 0) / recalls.length, 4),
      recall_min: round(Math.min(...recalls), 4),
      latency: summarise(times),
    });
  }
  return {
    collection: collection.name,
    index: collection.config.index.kind,
    index_state: state,
    metric,
    dimension,
    count,
    queries: queries.length,
    k,
    seed,
    exact: { latency: summarise(exactTimes) },
    runs,
    took_ms: Math.round(performance.now() - started),
  };
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new PiramidError('INVALID_ARGUMENT', `${name} values must be positive integers; got ${value}.`);
  return value;
}

function sweepError(flag: string, kind: string, collection: string, state: string): PiramidError {
  return new PiramidError('INVALID_ARGUMENT', `${flag} sweeps an ${kind} index; collection "${collection}" is on ${state} now.`, {
    hint: state === 'Flat' ? 'A Flat index is exact: there is nothing to tune (an ivf/auto collection trains its lists once it is large enough).' : 'Use --ef for HNSW, --nprobe for IVF.',
  });
}

export function summarise(times: readonly number[]): LatencyJson {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { p50_ms: round(at(50), 4), p90_ms: round(at(90), 4), p99_ms: round(at(99), 4), mean_ms: round(mean, 4), qps: round(mean > 0 ? 1000 / mean : 0, 1) };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Lets a server answer other requests between steps of a long measurement. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
