/**
 * How every series is measured, the same way for all: warm-up, then repetitions of a pass over the
 * queries one at a time (latency of each call, wall time of the pass), and of one batch call when
 * the library has one. Several searchers on the same index are interleaved repetition by
 * repetition, so that a noisy moment of the machine hits all of them, not one.
 */
import { median, nowMs, percentile } from '../stats.js';
import { recallAtK } from './ground-truth.js';
import { GT_K, K, type Dataset, type PointResult, type SweepPoint } from './types.js';

export type Labels = ArrayLike<number>;
type MaybePromise<T> = T | Promise<T>;

/** What a library offers the benchmark once its index is built. */
export interface Searcher {
  /** Applies a sweep point (efSearch, nprobe...) before a pass. */
  set(point: SweepPoint): MaybePromise<void>;
  /** One query, top-k labels (base row numbers), best first. */
  one(query: Float32Array, k: number): MaybePromise<Labels>;
  /** All queries at once, with the library's own batch call; absent when it has none. */
  batch?(queries: Float32Array, nq: number, k: number): MaybePromise<Labels[]>;
}

export interface MeasureOptions {
  reps: number;
  /** Queries in each single-query pass (a prefix of the data set's queries). */
  queries: number;
  warmup: number;
  /** Skip the batch passes (e.g. for exhaustive scans too slow to repeat). */
  batch: boolean;
}

const row = (data: Dataset, i: number): Float32Array => data.queries.subarray(i * data.dim, (i + 1) * data.dim);

async function call<T>(value: MaybePromise<T>): Promise<T> {
  return value instanceof Promise ? await value : value;
}

async function singlePass(searcher: Searcher, data: Dataset, count: number): Promise<{ latencies: number[]; wallMs: number; found: Labels[] }> {
  const latencies = new Array<number>(count);
  const found = new Array<Labels>(count);
  const start = nowMs();
  for (let i = 0; i < count; i++) {
    const t = nowMs();
    const result = searcher.one(row(data, i), K);
    found[i] = result instanceof Promise ? await result : result;
    latencies[i] = nowMs() - t;
  }
  return { latencies, wallMs: nowMs() - start, found };
}

/**
 * Sweeps `points` on several searchers of one index (or one searcher), interleaving repetitions.
 * Returns, per searcher id, one result per point.
 */
export async function sweep(
  searchers: Record<string, Searcher>,
  points: readonly SweepPoint[],
  data: Dataset,
  options: MeasureOptions,
  log: (line: string) => void,
): Promise<Record<string, PointResult[]>> {
  const ids = Object.keys(searchers);
  const out: Record<string, PointResult[]> = Object.fromEntries(ids.map((id) => [id, []]));
  const count = Math.min(options.queries, data.nq);
  for (const point of points) {
    const p50s: Record<string, number[]> = {};
    const p99s: Record<string, number[]> = {};
    const qps: Record<string, number[]> = {};
    const batchQps: Record<string, number[]> = {};
    const recall: Record<string, number> = {};
    for (const id of ids) {
      const searcher = searchers[id] as Searcher;
      await call(searcher.set(point));
      for (let i = 0; i < Math.min(options.warmup, data.nq); i++) await call(searcher.one(row(data, i % data.nq), K));
      p50s[id] = [];
      p99s[id] = [];
      qps[id] = [];
      batchQps[id] = [];
    }
    for (let rep = 0; rep < options.reps; rep++) {
      for (const id of ids) {
        const searcher = searchers[id] as Searcher;
        await call(searcher.set(point));
        const pass = await singlePass(searcher, data, count);
        if (rep === 0) recall[id] = recallAtK(pass.found, data.truth, GT_K, K);
        p50s[id]?.push(median(pass.latencies));
        p99s[id]?.push(percentile(pass.latencies, 99));
        qps[id]?.push(count / (pass.wallMs / 1000));
        if (options.batch && searcher.batch !== undefined) {
          const t = nowMs();
          await call(searcher.batch(data.queries.subarray(0, count * data.dim), count, K));
          batchQps[id]?.push(count / ((nowMs() - t) / 1000));
        }
      }
    }
    for (const id of ids) {
      const result: PointResult = {
        ...point,
        recall: recall[id] ?? Number.NaN,
        queries: count,
        single: { p50Ms: median(p50s[id] ?? []), p99Ms: median(p99s[id] ?? []), qps: median(qps[id] ?? []) },
        p50Runs: p50s[id] ?? [],
      };
      if ((batchQps[id]?.length ?? 0) > 0) result.batchQps = median(batchQps[id] ?? []);
      out[id]?.push(result);
      log(`  ${id} ${point.param}=${point.value ?? '-'}: recall ${result.recall.toFixed(4)}, p50 ${result.single.p50Ms.toFixed(3)} ms, ${result.single.qps.toFixed(0)} q/s${result.batchQps === undefined ? '' : `, batch ${result.batchQps.toFixed(0)} q/s`}`);
    }
  }
  return out;
}

/** RSS after a full GC (the worker runs with --expose-gc), MB. */
export function rssMb(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
  return process.memoryUsage().rss / 2 ** 20;
}

/** Times an async build and the RSS it leaves behind. */
export async function timedBuild<T>(build: () => Promise<T> | T): Promise<{ value: T; seconds: number; memoryMb: number }> {
  const before = rssMb();
  const start = nowMs();
  const value = await build();
  const seconds = (nowMs() - start) / 1000;
  return { value, seconds, memoryMb: Math.max(0, rssMb() - before) };
}
