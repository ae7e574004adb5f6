/**
 * Raw faiss-node (Piramid's patched binding), building its own Flat, IVF and HNSW indexes from the
 * whole matrix in one add, as a developer using faiss-node directly would: the floor for Piramid's
 * ingest, and a peer. Route B (AVX2 + OpenBLAS) always; route A (Debian's generic libfaiss) builds
 * Flat and IVF beside it (its HNSW build would take the run's whole budget; route A's HNSW search is
 * measured on Piramid's graph in the piramid worker).
 */
import { availableParallelism } from 'node:os';
import { MetricType, loadFaissNative, type FaissNative, type Index } from '../../../src/engine/index/faiss-native.js';
import { rowPadder } from '../../../src/engine/vectors.js';
import { packageVersion } from '../env.js';
import { sweep, timedBuild, type Searcher } from '../measure.js';
import { EXACT, efSearchPoints, nprobePoints } from '../plan.js';
import { emptyOutput, errorText, splitLabels, type PeerContext } from '../peer.js';
import type { SeriesResult, SweepPoint, WorkerOutput } from '../types.js';

export function faissVersion(faiss: FaissNative): string {
  const info = faiss.buildInfo;
  const route = info === undefined ? 'unknown build' : `FAISS ${info.faissVersion}, route ${info.route} (${info.optLevel})`;
  return `faiss-node ${info?.faissNodeVersion ?? packageVersion('faiss-node')} + patch, ${route}`;
}

/**
 * A searcher over a faiss index: one OpenMP thread per single query, all cores for a batch.
 * Queries of `dimension` floats are zero-padded to the index's own dimension when it holds more
 * (piramid's float16 IVF lists, padded to a multiple of 8), as piramid does before each search.
 */
export function faissSearcher(faiss: FaissNative, index: Index, input: 'typed' | 'array' = 'typed', dimension = index.getDimension()): Searcher {
  const cores = availableParallelism();
  const pad = rowPadder(dimension, index.getDimension());
  return {
    set: (point: SweepPoint) => {
      if (point.value !== null) index.setParam(point.param, point.value);
    },
    one: (query, k) => {
      const row = pad(query);
      return index.search(input === 'typed' ? row : Array.from(row), k).labels;
    },
    batch: (queries, nq, k) => {
      const rows = pad(queries);
      faiss.setOmpThreads(cores);
      try {
        return splitLabels(index.search(input === 'typed' ? rows : Array.from(rows), k).labels, nq, k);
      } finally {
        faiss.setOmpThreads(1);
      }
    },
  };
}

interface Config {
  key: 'flat' | 'ivf' | 'hnsw';
  description: string;
  points: SweepPoint[];
}

export async function runFaiss(ctx: PeerContext, route: 'A' | 'B'): Promise<WorkerOutput> {
  const out = emptyOutput();
  const { data, plan } = ctx;
  const faiss = loadFaissNative(route === 'A' ? ctx.routeAAddon : undefined);
  faiss.setOmpThreads(1);
  const configs: Config[] = [
    { key: 'flat', description: 'Flat', points: EXACT },
    { key: 'ivf', description: `IVF${plan.ivf.nlist},Flat`, points: nprobePoints(plan) },
  ];
  if (route === 'B') configs.push({ key: 'hnsw', description: `HNSW${plan.hnsw.m},Flat`, points: efSearchPoints(plan) });
  const prefix = route === 'B' ? 'faiss-node' : 'faiss-node route A';
  for (const config of configs) {
    try {
      ctx.log(`${prefix} ${config.description}: build`);
      const built = await timedBuild(() => {
        faiss.setOmpThreads(availableParallelism());
        try {
          const index = faiss.Index.fromFactory(data.dim, config.description, MetricType.METRIC_INNER_PRODUCT);
          if (!index.isTrained()) index.train(data.base);
          index.add(data.base);
          return index;
        } finally {
          faiss.setOmpThreads(1);
        }
      });
      const id = `${prefix} ${config.key}`;
      const series: SeriesResult = {
        id,
        library: prefix,
        version: faissVersion(faiss),
        index: config.description,
        n: data.n,
        build: { seconds: built.seconds, memoryMb: built.memoryMb, note: config.key === 'ivf' ? 'train on the whole base + add, all cores' : 'one add of the whole matrix, all cores' },
        points: [],
        notes: [],
      };
      const results = await sweep({ [id]: faissSearcher(faiss, built.value) }, config.points, data, ctx.measure(config.key === 'flat' ? 'slow' : 'fast'), ctx.log);
      series.points = results[id] ?? [];
      out.series.push(series);
      ctx.checkpoint(out);
    } catch (err) {
      out.errors.push(`${prefix} ${config.description}: ${errorText(err)}`);
    }
  }
  return out;
}
