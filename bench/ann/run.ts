/**
 * `npm run bench`: GloVe-100 against peers, every library in its own process, then Piramid
 * through its CLI and over HTTP, then the RAG path with the built-in model; writes the marked
 * section of docs/benchmarks.md and docs/bench-*.svg.
 *
 *   node dist/bench/ann/run.js [--quick] [--out-dir docs] [--markdown FILE] [--json FILE]
 *                              [--peers piramid,faiss,...] [--n N] [--nq N] [--skip http,oneshot,rag]
 *   node dist/bench/ann/run.js --from-json bench/.cache/ann-result-full.json   (report and plots again, no measuring)
 *   node dist/bench/ann/run.js --peers piramid --only flat,ivf --skip rag --merge bench/.cache/ann-result-full.json
 *     (measure some series again and merge them into an earlier run's results: replaced by id)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadFaissNative } from '../../src/engine/index/faiss-native.js';
import { fmt, nowMs } from '../stats.js';
import { DATASET_NAME, loadDataset } from './dataset.js';
import { ROOT, machine, packageVersion, projectVersion } from './env.js';
import { makePlan, type Plan } from './plan.js';
import { faissVersion } from './peers/faiss.js';
import { runRag } from './rag.js';
import { writeSection, renderSection } from './report.js';
import { bestAt, seriesById, type RunResult } from './results.js';
import { writePlots } from './plot.js';
import { http, oneShot, type Target } from './serving.js';
import type { WorkerOutput } from './types.js';
import { PEERS, PIRAMID_INDEXES, type PeerName, type WorkerSpec } from './worker-spec.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'out-dir': { type: 'string', default: join(ROOT, 'docs') },
    markdown: { type: 'string' },
    json: { type: 'string' },
    peers: { type: 'string', default: PEERS.join(',') },
    n: { type: 'string' },
    nq: { type: 'string' },
    skip: { type: 'string', default: '' },
    'from-json': { type: 'string' },
    only: { type: 'string' },
    merge: { type: 'string' },
  },
});
const quick = values.quick === true;
const outDir = resolve(values['out-dir'] ?? join(ROOT, 'docs'));
const markdown = resolve(values.markdown ?? join(outDir, 'benchmarks.md'));
const jsonFile = resolve(values.json ?? join(ROOT, 'bench', '.cache', `ann-result-${quick ? 'quick' : 'full'}.json`));
const skip = new Set((values.skip ?? '').split(',').filter(Boolean));
const peers = (values.peers ?? '').split(',').filter((p): p is PeerName => (PEERS as readonly string[]).includes(p));
const overrides: { n?: number; nq?: number } = {};
if (values.n !== undefined) overrides.n = Number(values.n);
if (values.nq !== undefined) overrides.nq = Number(values.nq);
const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

const ROUTE_A_ADDON = join(ROOT, 'native', 'build-A', 'faiss-node.node');

/** Route A beside route B: use it when built; build it for a full run when absent. */
function routeA(plan: Plan): { addon?: string; note: string } {
  if (!plan.routeA.enabled) return { note: 'not measured (plan)' };
  if (!existsSync(ROUTE_A_ADDON) && !quick) {
    log('building route A (node scripts/install-native.mjs --route A --out native/build-A)');
    const started = nowMs();
    const result = spawnSync(process.execPath, [join(ROOT, 'scripts/install-native.mjs'), '--route', 'A', '--out', join(ROOT, 'native', 'build-A')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 });
    if (result.status !== 0 || !existsSync(ROUTE_A_ADDON)) return { note: `route A build failed or timed out after ${((nowMs() - started) / 1000).toFixed(0)} s: not measured.` };
  }
  if (!existsSync(ROUTE_A_ADDON)) return { note: 'route A addon not built (native/build-A): not measured.' };
  try {
    return { addon: ROUTE_A_ADDON, note: `Route A: ${faissVersion(loadFaissNative(ROUTE_A_ADDON))}, ${loadFaissNative(ROUTE_A_ADDON).buildInfo?.blas ?? ''}.` };
  } catch (err) {
    return { note: `route A addon does not load (${err instanceof Error ? err.message : String(err)}): not measured.` };
  }
}

function runWorker(spec: WorkerSpec, timeoutMs: number): Promise<WorkerOutput> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=8192', join(ROOT, 'dist', 'bench', 'ann', 'worker.js'), JSON.stringify(spec)], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (existsSync(spec.out)) {
        done(JSON.parse(readFileSync(spec.out, 'utf8')) as WorkerOutput);
        return;
      }
      const why = signal === 'SIGKILL' ? `timed out after ${timeoutMs / 60_000} min` : `exited with ${code ?? signal}`;
      done({ series: [], artifacts: {}, errors: [`${spec.peer}: worker ${why}`] });
    });
  });
}

/** Piramid's fastest collection at recall >= 0.95 (or its most accurate point), for the CLI and HTTP stages. */
function servingTarget(run: RunResult, artifacts: Record<string, string>): { target: Target } | undefined {
  const candidates = (['ivf', 'hnsw'] as const).flatMap((kind) => {
    const s = seriesById(run, `piramid ${kind}`);
    const best = s === undefined ? undefined : bestAt(s);
    const dataDir = artifacts[`dataDir-${kind}`];
    const collection = artifacts[`collection-${kind}`];
    const indexFile = artifacts[`index-${kind}`];
    return best === undefined || dataDir === undefined || collection === undefined || indexFile === undefined ? [] : [{ kind, best, dataDir, collection, indexFile }];
  });
  candidates.sort((a, b) => Number(b.best.reached) - Number(a.best.reached) || a.best.point.single.p50Ms - b.best.point.single.p50Ms);
  const c = candidates[0];
  if (c === undefined) return undefined;
  const { param, value } = c.best.point;
  return { target: { dataDir: c.dataDir, collection: c.collection, indexFile: c.indexFile, point: { param, value } } };
}

/** An earlier run with some of its series (by id) and stages replaced by a later run's. */
function merge(base: RunResult, later: RunResult): RunResult {
  const fresh = new Map(later.series.map((s) => [s.id, s]));
  const series = base.series.map((s) => fresh.get(s.id) ?? s);
  for (const s of later.series) if (!base.series.some((b) => b.id === s.id)) series.push(s);
  const stages = [later.oneShot && 'one-shot CLI', later.http && 'HTTP', later.rag && 'RAG'].filter((x): x is string => typeof x === 'string');
  const what = [...fresh.keys(), ...stages].join(', ');
  return {
    ...base,
    series,
    // A re-measured library may be another version now: the header names what was measured last.
    versions: { ...base.versions, ...later.versions },
    errors: [...base.errors, ...later.errors],
    supplements: [...(base.supplements ?? []), `Measured again on ${later.date} (load average ${fmt(later.loadAverage, 1)}) and merged in: ${what}.`],
    oneShot: later.oneShot ?? base.oneShot,
    http: later.http ?? base.http,
    rag: later.rag ?? base.rag,
  } as RunResult;
}

async function publish(run: RunResult): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const plots = await writePlots(run, outDir);
  writeSection(markdown, renderSection(run, plots));
  log(`wrote ${markdown}, ${plots.map((p) => join(outDir, p)).join(', ')}`);
}

async function main(): Promise<void> {
  if (values['from-json'] !== undefined) {
    await publish(JSON.parse(readFileSync(resolve(values['from-json']), 'utf8')) as RunResult);
    return;
  }
  const started = nowMs();
  const plan = makePlan(quick, overrides);
  const loadAverage = loadavg()[0] ?? 0;
  const data = loadDataset(plan.dataset, log);
  for (const n of [plan.lancedb.n, plan.vectra.n]) loadDataset({ ...plan.dataset, n: Math.min(n, data.n) }, log);
  const a = routeA(plan);
  const workDir = mkdtempSync(join(tmpdir(), 'piramid-bench-ann-'));
  const faiss = loadFaissNative();
  const run: RunResult = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    quick,
    minutes: 0,
    machine: machine(),
    loadAverage,
    versions: {
      piramid: projectVersion(),
      'faiss-node': faissVersion(faiss) + ` (${faiss.buildInfo?.blas ?? ''})`,
      'hnswlib-node': packageVersion('hnswlib-node'),
      usearch: packageVersion('usearch'),
      '@lancedb/lancedb': packageVersion('@lancedb/lancedb'),
      vectra: packageVersion('vectra'),
      autocannon: packageVersion('autocannon'),
      'vega-lite': packageVersion('vega-lite'),
    },
    plan,
    dataset: { name: DATASET_NAME, n: data.n, nq: data.nq, dim: data.dim },
    series: [],
    errors: [],
    routeA: a.note,
  };
  const artifacts: Record<string, string> = {};
  try {
    const only = values.only?.split(',');
    for (const peer of peers) {
      if (peer === 'faiss-route-a' && a.addon === undefined) continue;
      // Piramid's indexes each get a fresh process: built one after another in one process, the
      // later builds ran ~25% slower (IVF1024 ingest 7.4 s after three other builds, 5.8 s alone).
      const parts: (string[] | undefined)[] = peer === 'piramid' ? (only ?? [...PIRAMID_INDEXES]).map((key) => [key]) : [only];
      for (const part of parts) {
        const name = part === undefined || peer !== 'piramid' ? peer : `${peer} ${part.join(',')}`;
        log(`worker: ${name}`);
        const spec: WorkerSpec = { peer, quick, workDir, out: join(workDir, `${name.replace(/\W+/g, '-')}.json`), ...overrides };
        if (a.addon !== undefined) spec.routeAAddon = a.addon;
        if (part !== undefined) spec.only = part;
        const workerStart = nowMs();
        const output = await runWorker(spec, (quick ? 3 : 40) * 60_000);
        log(`worker ${name}: ${((nowMs() - workerStart) / 1000).toFixed(1)} s`);
        run.series.push(...output.series);
        run.errors.push(...output.errors);
        Object.assign(artifacts, output.artifacts);
      }
    }
    const serving = servingTarget(run, artifacts);
    if (serving !== undefined && !skip.has('oneshot')) {
      try {
        log(`one-shot CLI vs bare node on ${serving.target.collection}`);
        run.oneShot = { ...oneShot(plan, data, serving.target, workDir), target: serving.target };
      } catch (err) {
        run.errors.push(`one-shot: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (serving !== undefined && !skip.has('http')) {
      try {
        log(`piramid serve on ${serving.target.collection}`);
        run.http = { ...(await http(plan, data, serving.target, log)), target: serving.target };
      } catch (err) {
        run.errors.push(`http: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (!skip.has('rag')) {
      try {
        run.rag = await runRag(plan, workDir, log);
      } catch (err) {
        run.errors.push(`rag: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  run.minutes = (nowMs() - started) / 60_000;
  const result = values.merge === undefined ? run : merge(JSON.parse(readFileSync(resolve(values.merge), 'utf8')) as RunResult, run);
  mkdirSync(join(jsonFile, '..'), { recursive: true });
  writeFileSync(jsonFile, JSON.stringify(result, null, 1));
  log(`wrote ${jsonFile} (${run.minutes.toFixed(1)} min, ${run.errors.length} failures)`);
  await publish(result);
  for (const e of run.errors) log(`failure: ${e}`);
}

await main();
