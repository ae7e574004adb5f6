/**
 * Piramid through its engine API (Database / Collection), on its default index and on IVF and
 * HNSW with the same parameters as raw faiss. After each build the folder is closed (checkpoint)
 * and reopened, and the very index Piramid built (its checkpoint file: a faiss file with a trailer
 * faiss ignores) is searched beside it by raw faiss-node, route B and route A, typed input and the
 * number[] input faiss-node ships with: the floor for Piramid's query overhead and what the binding
 * patch and the AVX2/OpenBLAS build bought, same index, same parameters, interleaved.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Database, INDEX_KINDS, type Collection, type CreateCollectionOptions, type IndexKind } from '../../../src/index.js';
import { loadFaissNative } from '../../../src/engine/index/faiss-native.js';
import { nowMs } from '../../stats.js';
import { projectVersion } from '../env.js';
import { sweep, timedBuild, type Searcher } from '../measure.js';
import { EXACT, efSearchPoints, nprobePoints } from '../plan.js';
import { emptyOutput, errorText, type PeerContext } from '../peer.js';
import type { SeriesResult, SweepPoint, WorkerOutput } from '../types.js';
import { faissSearcher, faissVersion } from './faiss.js';
import type { PIRAMID_INDEXES } from '../worker-spec.js';

const BATCH = 2000;
const FLAT_INGEST_RUNS = 3;

interface Config {
  key: (typeof PIRAMID_INDEXES)[number];
  create: CreateCollectionOptions;
  label: string;
  points: SweepPoint[];
}

export function piramidSearcher(collection: Collection): Searcher {
  let options: { efSearch?: number; nprobe?: number } = {};
  const one = async (query: Float32Array, k: number): Promise<number[]> => {
    const result = await collection.search(query, { k, ...options });
    return result.hits.map((hit) => Number(hit.id));
  };
  return {
    set: (point) => {
      options = point.value === null ? {} : point.param === 'nprobe' ? { nprobe: point.value } : { efSearch: point.value };
    },
    one,
    // No batch call in the engine: concurrent calls, as a server would make them.
    batch: (queries, nq, k) => Promise.all(Array.from({ length: nq }, (_, i) => one(queries.subarray(i * (queries.length / nq), (i + 1) * (queries.length / nq)), k))),
  };
}

/** Creates the collection in a new folder, upserts the whole base in batches, closes: timed. */
export async function ingestInto(dir: string, name: string, create: CreateCollectionOptions, data: PeerContext['data'], batch = BATCH) {
  return timedBuild(async () => {
    const started = nowMs();
    const db = await Database.open(dir);
    const collection = await db.createCollection(name, { embedder: 'none', dimension: data.dim, metric: 'cosine', ...create });
    for (let i = 0; i < data.n; i += batch) {
      const docs = [];
      for (let j = i; j < Math.min(data.n, i + batch); j++) docs.push({ id: String(j), vector: data.base.subarray(j * data.dim, (j + 1) * data.dim) });
      await collection.upsert(docs);
    }
    const ingested = nowMs();
    const stats = await collection.stats();
    await db.close();
    return { stats, closeMs: nowMs() - ingested, addMs: ingested - started };
  });
}

export async function runPiramid(ctx: PeerContext): Promise<WorkerOutput> {
  const out = emptyOutput();
  const { data, plan } = ctx;
  // One data folder per index: a build shares no LevelDB (nor its background compactions) with
  // the collections built before it.
  const folderOf = (key: Config['key']): string => join(ctx.workDir, 'piramid', key);
  const version = projectVersion();
  const configs: Config[] = [
    { key: 'default', create: {}, label: 'default index', points: EXACT },
    // The engine's self-tuning index (Flat, then IVF with a calibrated nprobe), where it exists.
    ...((INDEX_KINDS as readonly string[]).includes('auto') ? [{ key: 'auto' as const, create: { index: 'auto' as IndexKind }, label: 'auto', points: EXACT }] : []),
    // Exact, explicitly: the default may be something else (auto), and flat ingest has its own target.
    { key: 'flat', create: { index: 'flat' }, label: 'flat', points: EXACT },
    { key: 'ivf', create: { index: { kind: 'ivf', nlist: plan.ivf.nlist } }, label: `ivf nlist=${plan.ivf.nlist}`, points: nprobePoints(plan) },
    // The same lists stored as float32 (faiss IVF,Flat): what the float16 default buys, in this run.
    {
      key: 'ivf-float32',
      create: { index: { kind: 'ivf', nlist: plan.ivf.nlist, datatype: 'float32' } },
      label: `ivf nlist=${plan.ivf.nlist} datatype=float32`,
      points: nprobePoints(plan),
    },
    { key: 'hnsw', create: { index: { kind: 'hnsw', m: plan.hnsw.m } }, label: `hnsw m=${plan.hnsw.m}`, points: efSearchPoints(plan) },
  ];
  const rawB = loadFaissNative();
  const rawA = ctx.routeAAddon === undefined ? undefined : loadFaissNative(ctx.routeAAddon);
  for (const config of configs.filter((c) => ctx.only === undefined || ctx.only.includes(c.key))) {
    const name = `ann_${config.key}`;
    const dir = folderOf(config.key);
    out.artifacts[`dataDir-${config.key}`] = dir;
    try {
      ctx.log(`piramid ${config.label}: ingest ${data.n} vectors in batches of ${BATCH}`);
      // Flat's ingest is its whole build (~4 s) and this machine's speed drifts by ±15% over
      // minutes: its rate is the median of FLAT_INGEST_RUNS builds, each into an empty folder.
      const runs = config.key === 'flat' ? FLAT_INGEST_RUNS : 1;
      const builds: Awaited<ReturnType<typeof ingestInto>>[] = [];
      for (let run = 0; run < runs; run++) {
        if (run > 0) rmSync(dir, { recursive: true, force: true });
        builds.push(await ingestInto(dir, name, config.create, data));
      }
      const built = [...builds].sort((a, b) => a.value.addMs - b.value.addMs)[Math.floor(builds.length / 2)] as (typeof builds)[number];
      const runNote = builds.length > 1 ? `; median of ${builds.length} ingests, ${builds.map((b) => (b.value.addMs / 1000).toFixed(2)).join(' / ')} s` : '';
      const { stats, closeMs, addMs } = built.value;
      const db = await Database.open(dir);
      const collection = await db.collection(name);
      const file = join(dir, 'indexes', `${name}.pidx`);
      const id = `piramid ${config.key}`;
      const series: SeriesResult = {
        id,
        library: 'piramid (engine API)',
        version,
        index: `${config.label} → ${stats.indexState}`,
        n: data.n,
        build: {
          seconds: built.seconds,
          addSeconds: addMs / 1000,
          // Later runs reuse memory the first one grew: the first says what a build takes.
          memoryMb: (builds[0] ?? built).memoryMb,
          note: `upsert in batches of ${BATCH} (LevelDB + faiss), then close: checkpoint ${(closeMs / 1000).toFixed(1)} s included${runNote}`,
        },
        points: [],
        notes: [],
      };
      const searchers: Record<string, Searcher> = { [id]: piramidSearcher(collection) };
      const same: SeriesResult[] = [];
      const sameAs = (sid: string, library: string, ver: string, note: string): void => {
        same.push({ id: sid, library, version: ver, index: stats.indexState, sameIndexAs: id, n: data.n, points: [], notes: [note] });
      };
      searchers[`faiss-node@${config.key}`] = faissSearcher(rawB, rawB.Index.read(file), 'typed', data.dim);
      sameAs(`faiss-node@${config.key}`, 'faiss-node (route B)', faissVersion(rawB), "searching piramid's own index file");
      // Route A is several times slower: it gets a few settings of the sweep, interleaved with
      // itself (its ratio to route B is against route B's pass over the same setting above).
      const routeSearchers: Record<string, Searcher> = {};
      if (rawA !== undefined && config.key !== 'ivf-float32') {
        const indexA = rawA.Index.read(file);
        routeSearchers[`faiss-node route A@${config.key}`] = faissSearcher(rawA, indexA, 'typed', data.dim);
        sameAs(`faiss-node route A@${config.key}`, 'faiss-node (route A)', faissVersion(rawA), 'Debian libfaiss (generic), Float32Array input');
        routeSearchers[`faiss-node as shipped@${config.key}`] = faissSearcher(rawA, indexA, 'array', data.dim);
        sameAs(`faiss-node as shipped@${config.key}`, 'faiss-node as shipped (route A, number[])', faissVersion(rawA), 'number[] input as unpatched faiss-node takes it (unpatched has no setParam: stuck at nprobe 1 / efSearch 16)');
      }
      const exact = stats.indexState === 'Flat';
      const measure = ctx.measure(exact ? 'slow' : 'fast');
      const own = config.points.length === 1 && config.points[0]?.value === null && !exact;
      if (own) {
        // Piramid's own setting (its default or calibrated nprobe / efSearch) is not known here:
        // measure it alone, then everyone on the same explicit settings.
        const alone = await sweep({ [id]: searchers[id] as Searcher }, [{ param: 'own setting', value: null }], data, measure, ctx.log);
        series.points.push(...(alone[id] ?? []));
        series.notes.push(`"own setting": the ${stats.indexState} index at the search parameters piramid chose itself`);
      }
      const sweepPoints = own ? (stats.indexState.startsWith('HNSW') ? efSearchPoints(plan) : nprobePoints(plan)) : config.points;
      const results = await sweep(searchers, sweepPoints, data, measure, ctx.log);
      const routePoints = sweepPoints.filter((p) => p.value === null || (plan.routeA.points[p.param] ?? []).includes(p.value));
      if (Object.keys(routeSearchers).length > 0) Object.assign(results, await sweep(routeSearchers, routePoints, data, measure, ctx.log));
      series.points.push(...(results[id] ?? []));
      for (const s of same) s.points = results[s.id] ?? [];
      out.artifacts[`collection-${config.key}`] = name;
      out.artifacts[`index-${config.key}`] = file;
      await db.close();
      // The passes above repeat the same queries, so after the first, hits come from the record
      // cache: measure the approximate indexes again without it (every hit read from LevelDB).
      if (config.key === 'ivf' || config.key === 'hnsw' || config.key === 'auto') {
        const cold = await Database.open(dir, { recordCacheBytes: 0 });
        const coldId = `${id} (no record cache)`;
        // Raw faiss again, interleaved with this pass: the machine's speed drifts over minutes,
        // so the cold ratio is taken against a peer measured beside it, not in the pass above.
        const rawId = `faiss-node@${config.key} (beside no record cache)`;
        const coldPoints = own ? [{ param: 'own setting', value: null }, ...sweepPoints] : sweepPoints;
        const coldResults = await sweep(
          { [coldId]: piramidSearcher(await cold.collection(name)), [rawId]: faissSearcher(rawB, rawB.Index.read(file), 'typed', data.dim) },
          coldPoints,
          data,
          measure,
          ctx.log,
        );
        series.notes.push(`after the first pass over the queries their hits come from piramid's record cache; "${coldId}" is the same index with the cache off, measured right after`);
        const coldSeries: SeriesResult = {
          ...series,
          id: coldId,
          build: undefined,
          points: coldResults[coldId] ?? [],
          notes: [`record cache off (Database.open({recordCacheBytes: 0})): every hit read from LevelDB; p50 ratio against "${rawId}", raw faiss-node on the same file interleaved with this pass`],
        };
        const rawBeside: SeriesResult = { id: rawId, library: 'faiss-node (route B)', version: faissVersion(rawB), index: stats.indexState, sameIndexAs: coldId, n: data.n, points: coldResults[rawId] ?? [], notes: ["searching piramid's own index file, interleaved with the no-record-cache pass"] };
        out.series.push(series, coldSeries, ...same, rawBeside);
        await cold.close();
      } else {
        out.series.push(series, ...same);
      }
      ctx.checkpoint(out);
    } catch (err) {
      out.errors.push(`piramid ${config.label}: ${errorText(err)}`);
    }
  }
  return out;
}
