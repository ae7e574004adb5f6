import { availableParallelism, loadavg } from 'node:os';
import type { Metric } from '../types.js';
import type { IndexFileIdentity } from './index-prefetch.js';
import { rowPadder } from '../vectors.js';
import { indexDimension } from './index-plan.js';

/** The subset of the patched faiss-node binding the engine uses (see native/faiss-node.patch). */
export interface NativeIndex {
  ntotal(): number;
  getDimension(): number;
  isTrained(): boolean;
  add(vectors: Float32Array): void;
  train(vectors: Float32Array): void;
  search(queries: Float32Array, k: number): { distances: Float32Array; labels: Float64Array };
  setParam(name: string, value: number): void;
  toBuffer(): Buffer;
  /** Removes every vector (frees their memory). */
  reset(): void;
}

export interface FaissBinding {
  fromFactory(dimension: number, description: string, metric: 'inner_product' | 'l2'): NativeIndex;
  /** Reads a faiss index from a file, ignoring anything after the index's own data. */
  read(path: string): NativeIndex;
  /** `read` on a worker thread, so the event loop keeps running (a server loading a collection). */
  readAsync?(path: string): Promise<NativeIndex>;
  setOmpThreads(threads: number): void;
  /** An index read ahead of need from `path` (index-prefetch.ts), if that file is still `file`. */
  takePrefetched?(path: string, file: IndexFileIdentity): Promise<NativeIndex | undefined>;
}

export interface SearchParams {
  efSearch?: number;
  nprobe?: number;
}

export interface RawHits {
  labels: Float64Array;
  distances: Float32Array;
}

/**
 * OpenMP threads for builds, trains and batch searches: every core, unless other processes already
 * keep them busy (1-minute load average at least cores + 1), when one thread is faster: on this
 * 2-core machine under a load of ~4, a 20k HNSW32 add took 2.8-3.1 s on 1 thread against 4.0-4.6 s
 * on 2, and IVF training 7.3-8.2 s against 12-12.7 s; idle, 2 threads build ~1.9× faster
 * (docs/tuning.md). Our own build counts in the load, hence the margin of one.
 */
export function buildThreads(): number {
  if (buildThreadsOverride !== undefined) return buildThreadsOverride;
  const cores = availableParallelism();
  const now = Date.now();
  if (now - threadChoice.at > 5000) threadChoice = { at: now, threads: cores > 1 && (loadavg()[0] ?? 0) >= cores + 1 ? 1 : cores };
  return threadChoice.threads;
}
let threadChoice = { at: 0, threads: 1 };

/** A fixed number of OpenMP threads for builds, trains and adds (undefined: chosen from the load as above). */
export function setBuildThreads(threads: number | undefined): void {
  buildThreadsOverride = threads === undefined ? undefined : Math.max(1, Math.floor(threads));
}
let buildThreadsOverride: number | undefined;

/**
 * OpenMP threads for searches of several queries packed together (the search batcher's); by
 * default buildThreads(). A process whose idle OpenMP threads sleep (OMP_WAIT_POLICY=passive, as
 * `piramid serve` sets) does better with every core even under load: at 16 connections on 2 busy
 * cores, 2-thread batches answered 1.1-1.4x the requests of 1-thread ones with passive waiting,
 * and 2.5x fewer with libgomp's default spinning (which buildThreads() guards against).
 */
export function setBatchSearchThreads(threads: number | undefined): void {
  batchSearchThreads = threads === undefined ? undefined : Math.max(1, Math.floor(threads));
}
let batchSearchThreads: number | undefined;

/** Fewer vectors than this go to IVF or Flat on one OpenMP thread (FaissVectorIndex.add). */
const PARALLEL_ADD_MIN_VECTORS = 16_384;

/**
 * A faiss index in "index space" (vectors already normalised for cosine). Knows nothing of ids or
 * LevelDB: labels in, labels out. Builds use every core; queries run on one OpenMP thread, which
 * FAISS.md measured as fastest for single queries and free of the stalls seen with two.
 */
export class FaissVectorIndex {
  private readonly applied = new Map<string, number>();
  /** Rows as faiss holds them: the collection's dimension, zero-padded when indexDimension says so. */
  private readonly padded: (rows: Float32Array) => Float32Array;

  private constructor(
    private readonly binding: FaissBinding,
    private readonly native: NativeIndex,
    readonly description: string,
    /** The collection's dimension: what callers pass in and read back. */
    readonly dimension: number,
  ) {
    this.padded = rowPadder(dimension, native.getDimension());
  }

  static create(binding: FaissBinding, dimension: number, metric: Metric, description: string): FaissVectorIndex {
    const faissMetric = metric === 'l2' ? 'l2' : 'inner_product';
    return new FaissVectorIndex(binding, binding.fromFactory(indexDimension(description, dimension), description, faissMetric), description, dimension);
  }

  /** `read` off the event loop where the binding can, else as `read`. */
  static async readAsync(binding: FaissBinding, path: string, description: string, dimension: number): Promise<FaissVectorIndex> {
    const native = binding.readAsync === undefined ? binding.read(path) : await binding.readAsync(path);
    return FaissVectorIndex.fromNative(binding, native, description, dimension);
  }

  /** Wraps an index the binding already read (a prefetched one). */
  static fromNative(binding: FaissBinding, native: NativeIndex, description: string, dimension: number): FaissVectorIndex {
    if (native.getDimension() !== indexDimension(description, dimension)) {
      throw new TypeError(`a ${description} index over ${dimension} dims should hold ${indexDimension(description, dimension)}, not ${native.getDimension()}`);
    }
    return new FaissVectorIndex(binding, native, description, dimension);
  }

  get size(): number {
    return this.native.ntotal();
  }

  get isTrained(): boolean {
    return this.native.isTrained();
  }

  train(vectors: Float32Array): void {
    this.withBuildThreads(() => this.native.train(this.padded(vectors)));
  }

  add(vectors: Float32Array): void {
    if (vectors.length === 0) return;
    // An ingest batch added to IVF or Flat is a few ms of work: one thread. Parallel regions that
    // short cost more than they give while LevelDB writes on the other core (IVF1024 ingest of
    // 340k GloVe in batches of 2000: 4.9-5.1 s on one thread, 5.7-6.5 s on two). HNSW inserts are
    // heavy enough per vector to gain from every core.
    const rows = this.padded(vectors);
    if (!this.description.startsWith('HNSW') && vectors.length < PARALLEL_ADD_MIN_VECTORS * this.dimension) {
      this.native.add(rows);
      return;
    }
    this.withBuildThreads(() => this.native.add(rows));
  }

  /**
   * One query, or several packed in one array (the search batcher's): faiss spreads those over
   * OpenMP threads (setBatchSearchThreads, else as many as builds use); a single query runs on the
   * calling thread alone.
   */
  search(query: Float32Array, k: number, params: SearchParams): RawHits {
    if (params.efSearch !== undefined) this.setParam('efSearch', params.efSearch);
    if (params.nprobe !== undefined) this.setParam('nprobe', params.nprobe);
    const clamped = Math.max(1, Math.min(k, this.size));
    const rows = this.padded(query);
    if (query.length <= this.dimension) return this.native.search(rows, clamped);
    this.binding.setOmpThreads(batchSearchThreads ?? buildThreads());
    try {
      return this.native.search(rows, clamped);
    } finally {
      this.binding.setOmpThreads(1);
    }
  }

  /**
   * Many queries (packed, `n * d` floats) in one call, on every core: for measurements such as
   * nprobe calibration, not for serving single queries. `k` must not exceed the size.
   */
  searchBatch(queries: Float32Array, k: number, params: SearchParams): RawHits {
    if (params.efSearch !== undefined) this.setParam('efSearch', params.efSearch);
    if (params.nprobe !== undefined) this.setParam('nprobe', params.nprobe);
    let hits: RawHits | undefined;
    this.withBuildThreads(() => {
      hits = this.native.search(this.padded(queries), k);
    });
    return hits as RawHits;
  }

  /** HNSW only: the candidate list used while inserting, for the adds that follow. */
  setEfConstruction(value: number): void {
    if (this.description.startsWith('HNSW')) this.setParam('efConstruction', value);
  }

  serialize(): Buffer {
    return this.native.toBuffer();
  }

  /** setParam goes through faiss' ParameterSpace: skip it when the value is already in force. */
  private setParam(name: string, value: number): void {
    if (this.applied.get(name) === value) return;
    this.native.setParam(name, value);
    this.applied.set(name, value);
  }

  private withBuildThreads(work: () => void): void {
    this.binding.setOmpThreads(buildThreads());
    try {
      work();
    } finally {
      this.binding.setOmpThreads(1);
    }
  }
}
