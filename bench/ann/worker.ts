/**
 * One peer in its own process (clean memory figures, no library's threads or allocator leaking
 * into the next): `node --expose-gc dist/bench/ann/worker.js '<WorkerSpec JSON>'`. Writes its
 * WorkerOutput as JSON to `spec.out`; progress goes to stderr.
 */
import { writeFileSync } from 'node:fs';
import { loadDataset } from './dataset.js';
import { makePlan } from './plan.js';
import type { PeerContext, PeerRun } from './peer.js';
import { runFaiss } from './peers/faiss.js';
import { runHnswlib } from './peers/hnswlib.js';
import { runLancedb } from './peers/lancedb.js';
import { runPiramid } from './peers/piramid.js';
import { runUsearch } from './peers/usearch.js';
import { runVectra } from './peers/vectra.js';
import type { DatasetSpec } from './types.js';
import type { PeerName, WorkerSpec } from './worker-spec.js';

const RUNS: Record<PeerName, PeerRun> = {
  faiss: (ctx) => runFaiss(ctx, 'B'),
  'faiss-route-a': (ctx) => runFaiss(ctx, 'A'),
  piramid: runPiramid,
  hnswlib: runHnswlib,
  usearch: runUsearch,
  lancedb: runLancedb,
  vectra: runVectra,
};

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec;
  const plan = makePlan(spec.quick, { n: spec.n, nq: spec.nq });
  const dataSpec: DatasetSpec =
    spec.peer === 'lancedb' ? { ...plan.dataset, n: Math.min(plan.dataset.n, plan.lancedb.n) } : spec.peer === 'vectra' ? { ...plan.dataset, n: Math.min(plan.dataset.n, plan.vectra.n) } : plan.dataset;
  const log = (line: string): void => void process.stderr.write(`[${spec.peer}] ${line}\n`);
  const data = loadDataset(dataSpec, log);
  const ctx: PeerContext = {
    plan,
    data,
    workDir: spec.workDir,
    log,
    measure: (kind = 'fast') => ({
      reps: plan.reps,
      warmup: kind === 'slow' ? Math.min(5, plan.warmup) : plan.warmup,
      queries: kind === 'slow' ? plan.slowQueries : data.nq,
      batch: true,
    }),
    checkpoint: (output) => writeFileSync(spec.out, JSON.stringify({ ...output, errors: [...output.errors, `${spec.peer}: worker did not finish`] })),
  };
  if (spec.routeAAddon !== undefined) ctx.routeAAddon = spec.routeAAddon;
  if (spec.only !== undefined) ctx.only = spec.only;
  const output = await RUNS[spec.peer](ctx);
  writeFileSync(spec.out, JSON.stringify(output));
}

await main();
