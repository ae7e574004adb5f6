/**
 * LanceDB embedded (@lancedb/lancedb): one table, searched without an index (exhaustive), then
 * with an IVF_PQ index (refined), then with an HNSW_SQ index, cosine. Its own base size (its
 * builds are the slowest here); ground truth is recomputed for it.
 */
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { nowMs } from '../../stats.js';
import { packageVersion } from '../env.js';
import { sweep, timedBuild, type Searcher } from '../measure.js';
import { EXACT, points } from '../plan.js';
import { emptyOutput, errorText, type PeerContext } from '../peer.js';
import type { SeriesResult, SweepPoint, WorkerOutput } from '../types.js';

const INSERT_BATCH = 50_000;

interface Row {
  id: number;
  _distance?: number;
}

export async function runLancedb(ctx: PeerContext): Promise<WorkerOutput> {
  const out = emptyOutput();
  const { data, plan } = ctx;
  const version = packageVersion('@lancedb/lancedb');
  const { ivfPq, hnswSq } = plan.lancedb;
  let table: lancedb.Table;
  let loadSeconds: number;
  let loadMb: number;
  try {
    ctx.log(`lancedb: table of ${data.n} rows`);
    const built = await timedBuild(async () => {
      const db = await lancedb.connect(join(ctx.workDir, 'lancedb'));
      let created: lancedb.Table | undefined;
      for (let i = 0; i < data.n; i += INSERT_BATCH) {
        const rows = [];
        for (let j = i; j < Math.min(data.n, i + INSERT_BATCH); j++) rows.push({ id: j, vector: Array.from(data.base.subarray(j * data.dim, (j + 1) * data.dim)) });
        if (created === undefined) created = await db.createTable('ann', rows, { mode: 'overwrite' });
        else await created.add(rows);
      }
      if (created === undefined) throw new Error('empty base');
      return created;
    });
    table = built.value;
    loadSeconds = built.seconds;
    loadMb = built.memoryMb;
  } catch (err) {
    out.errors.push(`lancedb table: ${errorText(err)}`);
    return out;
  }

  let apply: (query: lancedb.VectorQuery) => lancedb.VectorQuery = (query) => query;
  const search = async (query: Float32Array, k: number): Promise<number[]> => {
    const rows = (await apply(table.vectorSearch(query).distanceType('cosine').limit(k).select(['id', '_distance'])).toArray()) as Row[];
    return rows.map((row) => row.id);
  };
  const searcher = (configure: (query: lancedb.VectorQuery, point: SweepPoint) => lancedb.VectorQuery): Searcher => ({
    set: (point) => {
      apply = (query) => configure(query, point);
    },
    one: search,
    // No batch call: the queries in flight at once, as a server would make them.
    batch: (queries, nq, k) => Promise.all(Array.from({ length: nq }, (_, i) => search(queries.subarray(i * data.dim, (i + 1) * data.dim), k))),
  });
  const measureSeries = async (series: SeriesResult, s: Searcher, sweepPoints: SweepPoint[], slow: boolean): Promise<void> => {
    const results = await sweep({ [series.id]: s }, sweepPoints, data, ctx.measure(slow ? 'slow' : 'fast'), ctx.log);
    series.points = results[series.id] ?? [];
    out.series.push(series);
    ctx.checkpoint(out);
  };
  const base = { library: '@lancedb/lancedb', version, n: data.n, notes: [`its own base of ${data.n} vectors (prefix of the full base; ground truth recomputed)`] };

  try {
    await measureSeries(
      { ...base, id: 'lancedb flat', index: 'no index (exhaustive scan)', build: { seconds: loadSeconds, memoryMb: loadMb, note: `createTable + add in batches of ${INSERT_BATCH}` }, points: [] },
      searcher((query) => query.bypassVectorIndex()),
      EXACT,
      true,
    );
  } catch (err) {
    out.errors.push(`lancedb flat: ${errorText(err)}`);
  }

  const indexes = [
    {
      id: 'lancedb ivf_pq',
      index: `IVF_PQ partitions=${ivfPq.partitions} sub-vectors=${ivfPq.subVectors} refine=${ivfPq.refineFactor}`,
      config: lancedb.Index.ivfPq({ numPartitions: ivfPq.partitions, numSubVectors: ivfPq.subVectors, distanceType: 'cosine' }),
      searcher: searcher((query, point) => query.nprobes(point.value ?? 1).refineFactor(ivfPq.refineFactor)),
      points: points('nprobes', ivfPq.nprobes),
    },
    {
      id: 'lancedb hnsw_sq',
      index: `HNSW_SQ partitions=${hnswSq.partitions} m=${hnswSq.m} efConstruction=${hnswSq.efConstruction}`,
      config: lancedb.Index.hnswSq({ numPartitions: hnswSq.partitions, m: hnswSq.m, efConstruction: hnswSq.efConstruction, distanceType: 'cosine' }),
      searcher: searcher((query, point) => query.nprobes(hnswSq.partitions).ef(point.value ?? 64)),
      points: points('ef', hnswSq.ef),
    },
  ];
  for (const entry of indexes) {
    try {
      ctx.log(`${entry.id}: build`);
      const start = nowMs();
      const built = await timedBuild(() => table.createIndex('vector', { config: entry.config, replace: true }));
      await measureSeries(
        { ...base, id: entry.id, index: entry.index, build: { seconds: (nowMs() - start) / 1000, memoryMb: built.memoryMb, note: 'createIndex on the loaded table' }, points: [] },
        entry.searcher,
        entry.points,
        false,
      );
    } catch (err) {
      out.errors.push(`${entry.id}: ${errorText(err)}`);
    }
  }
  return out;
}
