/**
 * USearch: HNSW with a parallel add and a batch search. Its search expansion is fixed when the
 * index object is made, so each sweep point loads the saved index into a new object.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type usearchType from 'usearch';
import { packageVersion } from '../env.js';
import { sweep, timedBuild, type Searcher } from '../measure.js';
import { points } from '../plan.js';
import { emptyOutput, errorText, type PeerContext } from '../peer.js';
import type { WorkerOutput } from '../types.js';

const usearch = createRequire(import.meta.url)('usearch') as typeof usearchType;
type UsearchIndex = InstanceType<typeof usearchType.Index>;

export async function runUsearch(ctx: PeerContext): Promise<WorkerOutput> {
  const out = emptyOutput();
  const { data, plan } = ctx;
  const { connectivity, expansionAdd, ef } = plan.usearch;
  const cores = availableParallelism();
  const make = (expansionSearch: number): UsearchIndex =>
    new usearch.Index({
      dimensions: data.dim,
      metric: usearch.MetricKind.Cos,
      quantization: usearch.ScalarKind.F32,
      connectivity,
      expansion_add: expansionAdd,
      expansion_search: expansionSearch,
      multi: false,
    });
  try {
    ctx.log(`usearch connectivity=${connectivity} expansion_add=${expansionAdd}: build`);
    const built = await timedBuild(() => {
      const index = make(ef[0] ?? 64);
      const keys = new BigUint64Array(data.n);
      for (let i = 0; i < data.n; i++) keys[i] = BigInt(i);
      index.add(keys, data.base, cores);
      return index;
    });
    const file = join(ctx.workDir, 'usearch.index');
    built.value.save(file);
    let index: UsearchIndex = built.value;
    const toLabels = (keys: BigUint64Array): number[] => Array.from(keys, (key) => Number(key));
    const searcher: Searcher = {
      set: (point) => {
        if (point.value === null) return;
        index = make(point.value);
        index.load(file);
      },
      one: (query, k) => toLabels(index.search(query, k, 1).keys),
      batch: (queries, nq, k) => {
        const rows = Array.from({ length: nq }, (_, i) => queries.subarray(i * data.dim, (i + 1) * data.dim));
        const result = index.search(rows, k, cores);
        return rows.map((_, i) => toLabels(result.get(i).keys));
      },
    };
    const id = 'usearch';
    const results = await sweep({ [id]: searcher }, points('ef', ef), data, ctx.measure('fast'), ctx.log);
    out.series.push({
      id,
      library: 'usearch',
      version: packageVersion('usearch'),
      index: `HNSW connectivity=${connectivity} expansion_add=${expansionAdd}, cos, f32`,
      n: data.n,
      build: { seconds: built.seconds, memoryMb: built.memoryMb, note: `one add of the whole matrix, ${cores} threads` },
      points: results[id] ?? [],
      notes: [],
    });
  } catch (err) {
    out.errors.push(`usearch: ${errorText(err)}`);
  }
  return out;
}
