/** What a peer module gets from the worker, and small helpers every peer uses. */
import type { MeasureOptions } from './measure.js';
import type { Plan } from './plan.js';
import type { Dataset, WorkerOutput } from './types.js';

export interface PeerContext {
  plan: Plan;
  data: Dataset;
  /** A folder this worker may fill; later stages may be handed paths inside it. */
  workDir: string;
  /** Only these index configurations of the peer (e.g. piramid's `flat,ivf`); all when absent. */
  only?: string[];
  /** Path of the route A addon, when it is built and the plan asks for it. */
  routeAAddon?: string;
  log: (line: string) => void;
  /** Measure options for fast indexes, or for exhaustive scans (fewer queries, no repeat of batches). */
  measure: (kind?: 'fast' | 'slow') => MeasureOptions;
  /** Saves what is measured so far: a worker that runs out of time keeps it. */
  checkpoint: (output: WorkerOutput) => void;
}

export type PeerRun = (ctx: PeerContext) => Promise<WorkerOutput>;

export const emptyOutput = (): WorkerOutput => ({ series: [], artifacts: {}, errors: [] });

/** Splits row-major batch labels into one array per query. */
export function splitLabels(labels: ArrayLike<number> & { subarray?: unknown }, nq: number, k: number): ArrayLike<number>[] {
  const out: ArrayLike<number>[] = [];
  const all = Array.prototype.slice.call(labels) as number[];
  for (let q = 0; q < nq; q++) out.push(all.slice(q * k, (q + 1) * k));
  return out;
}

export const errorText = (err: unknown): string => (err instanceof Error ? `${err.message}` : String(err));
