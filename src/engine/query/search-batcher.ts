import type { RawHits } from '../index/faiss-index.js';

/** Index-search parameters that must be equal for queries to share one faiss call. */
export interface BatchParams {
  efSearch?: number;
  nprobe?: number;
}

/**
 * Searches the index for one query, or for several packed in one array (`n * dimension` floats):
 * `n * stride` labels and distances back, row-major, `stride = labels.length / n` (faiss clamps k
 * to the index size). The collection's index search, which passes a multi-query array to faiss in
 * one call (spread over OpenMP threads).
 */
export type IndexSearch = (queries: Float32Array, k: number, params: BatchParams) => RawHits;

export interface SearchBatcherOptions {
  /**
   * Most queries per faiss call (default 16). Below 20 on purpose: faiss switches flat (and IVF
   * coarse) search to BLAS from 20 queries on, whose sums can differ from a single query's in the
   * last bits, and a batched query must answer exactly what it would alone.
   */
  maxBatch?: number;
}

export interface SearchBatcherStats {
  /** faiss calls made, and queries answered by them. */
  calls: number;
  queries: number;
  /** Queries answered in calls of more than one query. */
  batched: number;
  largest: number;
}

interface Pending {
  query: Float32Array;
  resolve: (hits: RawHits) => void;
  reject: (err: unknown) => void;
}

interface Group {
  k: number;
  params: BatchParams;
  pending: Pending[];
}

/**
 * Coalesces index searches issued in the same turn of the event loop into one faiss call per
 * (k, efSearch, nprobe). A faiss search is synchronous: while it runs, requests that reach a
 * server wait in their sockets, and the next turn of the event loop reads them one after another.
 * Without batching each would search alone, on one thread; here, once a turn has seen a second
 * query (or the last batch held several), queries wait for the end of the turn (setImmediate) and
 * run as one multi-query search, which faiss spreads over its OpenMP threads.
 *
 * A query with no other in sight runs at once, on the single-query call (one thread), exactly as
 * without batching: a server answering one client at a time pays nothing for this (deferring every
 * query to the end of its turn cost ~35 µs per round trip, measured). Results are the same as
 * single searches (HNSW, IVF and flat search each query independently; batches stay below faiss'
 * BLAS threshold). If a batched call throws, its queries are retried one by one, so an error
 * fails only its own query.
 */
export class SearchBatcher {
  private readonly maxBatch: number;
  private groups = new Map<string, Group>();
  private scheduled = false;
  /** A query ran at once in the current turn of the event loop: the next one in it waits. */
  private ranThisTurn = false;
  private turnEndScheduled = false;
  /** The last flush held more than one query: load is on, keep gathering. */
  private gathering = false;
  private readonly counters: SearchBatcherStats = { calls: 0, queries: 0, batched: 0, largest: 0 };

  constructor(
    private readonly search: IndexSearch,
    private readonly dimension: number,
    options: SearchBatcherOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 16);
  }

  get stats(): SearchBatcherStats {
    return { ...this.counters };
  }

  /** The hits of one query (`dimension` floats, in index space): at once, or at the end of this turn. */
  submit(query: Float32Array, k: number, params: BatchParams = {}): Promise<RawHits> {
    if (query.length !== this.dimension) throw new TypeError(`SearchBatcher: a query has ${query.length} floats, not ${this.dimension}`);
    if (!this.scheduled && !this.ranThisTurn && !this.gathering) return this.now(query, k, params);
    const key = `${k}|${params.efSearch ?? ''}|${params.nprobe ?? ''}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { k, params: { ...params }, pending: [] };
      this.groups.set(key, group);
    }
    const pending = group.pending;
    const promise = new Promise<RawHits>((resolve, reject) => pending.push({ query, resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
    return promise;
  }

  /** The single-query call, now; marks the turn so that a second query in it is gathered. */
  private now(query: Float32Array, k: number, params: BatchParams): Promise<RawHits> {
    this.ranThisTurn = true;
    if (!this.turnEndScheduled) {
      this.turnEndScheduled = true;
      setImmediate(this.turnEnd);
    }
    try {
      const raw = this.search(query, k, params);
      this.count(1);
      return Promise.resolve(raw);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private readonly turnEnd = (): void => {
    this.turnEndScheduled = false;
    this.ranThisTurn = false;
  };

  private readonly flush = (): void => {
    this.scheduled = false;
    const groups = this.groups;
    this.groups = new Map();
    let gathered = 0;
    for (const group of groups.values()) gathered += group.pending.length;
    this.gathering = gathered > 1;
    for (const group of groups.values()) {
      for (let start = 0; start < group.pending.length; start += this.maxBatch) {
        this.run(group, group.pending.slice(start, start + this.maxBatch));
      }
    }
  };

  private run(group: Group, batch: Pending[]): void {
    if (batch.length === 1) {
      this.single(group, batch[0] as Pending);
      return;
    }
    const { dimension } = this;
    const packed = new Float32Array(batch.length * dimension);
    batch.forEach((p, i) => packed.set(p.query, i * dimension));
    let raw: RawHits;
    try {
      raw = this.search(packed, group.k, group.params);
    } catch {
      for (const p of batch) this.single(group, p);
      return;
    }
    this.count(batch.length);
    const stride = raw.labels.length / batch.length;
    batch.forEach((p, i) => {
      p.resolve({ labels: raw.labels.subarray(i * stride, (i + 1) * stride), distances: raw.distances.subarray(i * stride, (i + 1) * stride) });
    });
  }

  private single(group: Group, p: Pending): void {
    let raw: RawHits;
    try {
      raw = this.search(p.query, group.k, group.params);
    } catch (err) {
      p.reject(err);
      return;
    }
    this.count(1);
    p.resolve(raw);
  }

  private count(queries: number): void {
    this.counters.calls += 1;
    this.counters.queries += queries;
    if (queries > 1) this.counters.batched += queries;
    if (queries > this.counters.largest) this.counters.largest = queries;
  }
}
