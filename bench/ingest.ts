/**
 * Ingest with vectors given, through the engine API, the way the ANN benchmark and a bulk loader
 * do it: GloVe-100 words (340k by default), upserted in batches, into a fresh folder per run.
 * Prints each run's rate and the median: quick to A/B an ingest change (build the other tree in a
 * git worktree and run both, interleaved; this machine drifts by ±15% over minutes).
 *
 * Run: npm run build && node dist/bench/ingest.js [--index flat|ivf|hnsw|auto] [--n 340479] [--batch 2000] [--runs 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { IndexKind } from '../src/index.js';
import { loadDataset } from './ann/dataset.js';
import { ingestInto } from './ann/peers/piramid.js';
import { fmt, median } from './stats.js';

const { values } = parseArgs({
  options: {
    index: { type: 'string', default: 'flat' },
    n: { type: 'string', default: '340479' },
    batch: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '3' },
  },
});
const index = values.index as IndexKind;
const batch = Number(values.batch);
const data = loadDataset({ n: Number(values.n), nq: 10 });
const rates: number[] = [];
for (let run = 0; run < Number(values.runs); run++) {
  const folder = mkdtempSync(join(tmpdir(), 'piramid-bench-ingest-'));
  try {
    const { value } = await ingestInto(folder, 'ingest', { index }, data, batch);
    const seconds = value.addMs / 1000;
    rates.push(data.n / seconds);
    console.log(`run ${run + 1}: ${data.n} vectors into ${index} in ${fmt(seconds, 2)} s = ${fmt(data.n / seconds, 0)} vectors/s (upserts, without the checkpoint)`);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
console.log(`median: ${fmt(median(rates), 0)} vectors/s`);
