/** The whole run as data (what the report and plots are drawn from), and questions asked of it. */
import type { Machine } from './env.js';
import type { HttpResult, OneShotResult, Target } from './serving.js';
import type { Plan } from './plan.js';
import type { RagResult } from './rag.js';
import type { PointResult, SeriesResult } from './types.js';

export const RECALL_TARGET = 0.95;

export interface RunResult {
  date: string;
  quick: boolean;
  minutes: number;
  machine: Machine;
  /** 1-minute load average when the run started (others' work on a shared machine). */
  loadAverage: number;
  versions: Record<string, string>;
  plan: Plan;
  dataset: { name: string; n: number; nq: number; dim: number };
  series: SeriesResult[];
  errors: string[];
  routeA: string;
  /** What was measured again in a later run and merged in (`--merge`). */
  supplements?: string[];
  oneShot?: OneShotResult & { target: Target };
  http?: HttpResult & { target: Target };
  rag?: RagResult;
}

/** The fastest point (lowest p50) reaching `recall`; else the most accurate point, `reached` false. */
export function bestAt(series: SeriesResult, recall = RECALL_TARGET): { point: PointResult; reached: boolean } | undefined {
  const ok = series.points.filter((p) => p.recall >= recall);
  if (ok.length > 0) return { point: ok.reduce((a, b) => (b.single.p50Ms < a.single.p50Ms ? b : a)), reached: true };
  if (series.points.length === 0) return undefined;
  return { point: series.points.reduce((a, b) => (b.recall > a.recall ? b : a)), reached: false };
}

/** The same sweep point in another series (same param and value). */
export function samePoint(series: SeriesResult | undefined, point: PointResult): PointResult | undefined {
  return series?.points.find((p) => p.param === point.param && p.value === point.value);
}

export const seriesById = (run: RunResult, id: string): SeriesResult | undefined => run.series.find((s) => s.id === id);

/** Series a user would choose between (not the route A / as-shipped variants on Piramid's index). */
export const isPeerView = (s: SeriesResult): boolean => s.sameIndexAs === undefined || s.library === 'faiss-node (route B)';
