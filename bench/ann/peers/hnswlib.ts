/** hnswlib-node: HNSW in C++ behind a JS API taking number[]; builds on one thread (no parallel add). */
import { createRequire } from 'node:module';
import type { HierarchicalNSW as HierarchicalNSWType } from 'hnswlib-node';
import { packageVersion } from '../env.js';
import { sweep, timedBuild } from '../measure.js';
import { points } from '../plan.js';
import { emptyOutput, errorText, type PeerContext } from '../peer.js';
import type { WorkerOutput } from '../types.js';

// hnswlib-node is CommonJS; its typings describe the class.
const { HierarchicalNSW } = createRequire(import.meta.url)('hnswlib-node') as { HierarchicalNSW: typeof HierarchicalNSWType };

export async function runHnswlib(ctx: PeerContext): Promise<WorkerOutput> {
  const out = emptyOutput();
  const { data, plan } = ctx;
  const { m, efConstruction, ef } = plan.hnswlib;
  try {
    ctx.log(`hnswlib-node M=${m} efConstruction=${efConstruction}: build`);
    const built = await timedBuild(() => {
      const index = new HierarchicalNSW('cosine', data.dim);
      index.initIndex({ maxElements: data.n, m, efConstruction, randomSeed: 100 });
      for (let i = 0; i < data.n; i++) index.addPoint(Array.from(data.base.subarray(i * data.dim, (i + 1) * data.dim)), i);
      return index;
    });
    const index = built.value;
    const id = 'hnswlib-node';
    const results = await sweep(
      {
        [id]: {
          set: (point) => {
            if (point.value !== null) index.setEf(point.value);
          },
          one: (query, k) => index.searchKnn(Array.from(query), k).neighbors,
        },
      },
      points('ef', ef),
      data,
      ctx.measure('fast'),
      ctx.log,
    );
    out.series.push({
      id,
      library: 'hnswlib-node',
      version: packageVersion('hnswlib-node'),
      index: `HNSW M=${m} efConstruction=${efConstruction}, cosine`,
      n: data.n,
      build: { seconds: built.seconds, memoryMb: built.memoryMb, note: 'addPoint one by one (number[]), one thread' },
      points: results[id] ?? [],
      notes: ['no batch search API'],
    });
  } catch (err) {
    out.errors.push(`hnswlib-node: ${errorText(err)}`);
  }
  return out;
}
