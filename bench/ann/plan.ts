/**
 * Every parameter of a run in one place: sizes, repetitions, index configurations and the sweeps.
 * The full run is sized to finish in ~30-40 minutes on a 2-core machine; `--quick` is a smoke test
 * (seconds per peer), whose numbers mean nothing.
 */
import type { DatasetSpec, SweepPoint } from './types.js';

export interface Plan {
  quick: boolean;
  dataset: DatasetSpec;
  reps: number;
  warmup: number;
  /** Queries in the single-query passes of the exhaustive scans (slow: ~5-100 ms a query). */
  slowQueries: number;
  ivf: { nlist: number; nprobe: number[] };
  hnsw: { m: number; efSearch: number[] };
  hnswlib: { m: number; efConstruction: number; ef: number[] };
  usearch: { connectivity: number; expansionAdd: number; ef: number[] };
  lancedb: {
    /** LanceDB builds are slow: its own (smaller or equal) base, ground truth recomputed. */
    n: number;
    ivfPq: { partitions: number; subVectors: number; refineFactor: number; nprobes: number[] };
    hnswSq: { partitions: number; m: number; efConstruction: number; ef: number[] };
  };
  /** vectra keeps every vector in one JSON file: its own smaller base. */
  vectra: { n: number };
  /** busyPollMicros: a second server runs with `serve --busy-poll` this long (0: none). */
  http: { seconds: number; connections: number[]; busyPollMicros: number };
  oneshot: { runs: number };
  rag: { passages: number; chunkSize: number; queries: number };
  /**
   * Route A (Debian's generic libfaiss) rebuilds Flat and IVF itself, and searches Piramid's
   * indexes at these settings of the sweep (it is several times slower).
   */
  routeA: { enabled: boolean; points: Record<string, number[]> };
}

const points = (param: string, values: readonly number[]): SweepPoint[] => values.map((value) => ({ param, value }));
export const nprobePoints = (plan: Plan): SweepPoint[] => points('nprobe', plan.ivf.nprobe);
export const efSearchPoints = (plan: Plan): SweepPoint[] => points('efSearch', plan.hnsw.efSearch);
export const EXACT: SweepPoint[] = [{ param: '-', value: null }];
export { points };

export function makePlan(quick: boolean, overrides: { n?: number; nq?: number } = {}): Plan {
  if (quick) {
    return {
      quick,
      dataset: { n: overrides.n ?? 10_000, nq: overrides.nq ?? 50 },
      reps: 2,
      warmup: 10,
      slowQueries: 20,
      ivf: { nlist: 64, nprobe: [4, 16] },
      hnsw: { m: 16, efSearch: [16, 64] },
      hnswlib: { m: 16, efConstruction: 100, ef: [16, 64] },
      usearch: { connectivity: 16, expansionAdd: 64, ef: [16, 64] },
      lancedb: {
        n: 2_000,
        ivfPq: { partitions: 16, subVectors: 25, refineFactor: 10, nprobes: [4, 16] },
        hnswSq: { partitions: 1, m: 16, efConstruction: 100, ef: [16, 64] },
      },
      vectra: { n: 1_000 },
      http: { seconds: 1, connections: [1, 16], busyPollMicros: 1000 },
      oneshot: { runs: 1 },
      rag: { passages: 6, chunkSize: 400, queries: 3 },
      routeA: { enabled: true, points: { nprobe: [16], efSearch: [64] } },
    };
  }
  return {
    quick,
    dataset: { n: overrides.n ?? 400_000, nq: overrides.nq ?? 1000 },
    reps: 3,
    warmup: 50,
    slowQueries: 200,
    ivf: { nlist: 1024, nprobe: [8, 16, 32, 48, 64, 96, 128] },
    hnsw: { m: 32, efSearch: [16, 32, 64, 128, 192, 256] },
    hnswlib: { m: 32, efConstruction: 100, ef: [16, 32, 64, 96, 128, 192, 256] },
    usearch: { connectivity: 32, expansionAdd: 128, ef: [16, 32, 64, 96, 128, 192, 256] },
    lancedb: {
      // At 100k its IVF_PQ build took 210 s and HNSW_SQ 82 s here (2 busy cores): 340k would
      // take most of the run's budget.
      n: 100_000,
      ivfPq: { partitions: 256, subVectors: 25, refineFactor: 10, nprobes: [8, 16, 32, 64, 128] },
      hnswSq: { partitions: 1, m: 20, efConstruction: 150, ef: [16, 32, 64, 128, 256] },
    },
    vectra: { n: 50_000 },
    http: { seconds: 10, connections: [1, 16], busyPollMicros: 1000 },
    oneshot: { runs: 10 },
    rag: { passages: 570, chunkSize: 400, queries: 100 },
    routeA: { enabled: true, points: { nprobe: [16, 48], efSearch: [64, 128] } },
  };
}
