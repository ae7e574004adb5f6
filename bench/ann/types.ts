/** Types shared by the ANN benchmark's runner, workers, report and plots (the JSON between them). */

/** A data set as the workers see it: unit-length vectors (angular), labels are base row numbers. */
export interface Dataset {
  readonly name: string;
  readonly dim: number;
  /** Base vectors, row-major, `n * dim`. */
  readonly base: Float32Array;
  readonly n: number;
  /** Query vectors, row-major, `nq * dim`; none of them is in the base. */
  readonly queries: Float32Array;
  readonly nq: number;
  /** Exact top-K base labels per query (row-major, `nq * GT_K`). */
  readonly truth: Int32Array;
}

export const GT_K = 10;
export const K = 10;

/** Which data set and how big: the runner picks, a worker loads the same from the cache. */
export interface DatasetSpec {
  /** Base vectors used (a prefix of the shuffled base). */
  n: number;
  /** Queries used (a prefix of the held-out queries). */
  nq: number;
}

/** One point of a search-parameter sweep. */
export interface SweepPoint {
  /** e.g. `nprobe`, `efSearch`, `ef`; `-` when the index has no search parameter. */
  param: string;
  value: number | null;
}

export interface Timing {
  /** Medians over the repetitions of: */
  p50Ms: number;
  p99Ms: number;
  /** Queries per second of the whole single-query pass (n / wall time). */
  qps: number;
}

export interface PointResult extends SweepPoint {
  recall: number;
  /** Queries searched in the single-query passes. */
  queries: number;
  single: Timing;
  /** All queries in one call (the library's batch API, all cores) when it has one; else absent. */
  batchQps?: number;
  /** p50 of each repetition, to show the spread behind the median. */
  p50Runs: number[];
}

export interface BuildResult {
  seconds: number;
  /** Time spent adding the vectors alone (Piramid: upserts, without the checkpoint on close). */
  addSeconds?: number;
  /** RSS growth of the worker process over the build, after GC, MB (index + library overhead). */
  memoryMb: number;
  /** Anything the build did beyond adding vectors (training, an interim index...). */
  note?: string;
}

/** One library (or build/variant) on one index configuration, swept over its search parameter. */
export interface SeriesResult {
  /** Short name used for ratios and plots, unique in a run, e.g. `piramid ivf`. */
  id: string;
  library: string;
  version: string;
  /** Index description, e.g. `IVF1024,Flat`, `HNSW M=16 efC=200`. */
  index: string;
  /** The index this series was searched on was built by another series (same index, other caller). */
  sameIndexAs?: string;
  n: number;
  build?: BuildResult;
  points: PointResult[];
  notes: string[];
}

export interface WorkerOutput {
  series: SeriesResult[];
  /** Files left for later stages (e.g. the piramid data folder, a faiss file of the same index). */
  artifacts: Record<string, string>;
  errors: string[];
}
