/**
 * Piramid outside the engine API, on the collection the piramid worker built: the one-shot CLI
 * (`piramid query --vector`, a whole process per query) against a bare node process that reads
 * the same faiss file and searches once; and `piramid serve` over HTTP, one request at a time
 * (precise latencies, recall checked) and under autocannon with 1 and 16 connections.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startServe } from '../../test/helpers/serve.js';
import { median, nowMs, percentile } from '../stats.js';
import { recallAtK } from './ground-truth.js';
import { ROOT } from './env.js';
import type { Plan } from './plan.js';
import { GT_K, K, type Dataset, type SweepPoint } from './types.js';

export interface Target {
  dataDir: string;
  collection: string;
  indexFile: string;
  point: SweepPoint;
}

export interface OneShotResult {
  runs: number;
  cliMs: number;
  bareMs: number;
}

export interface HttpResult {
  /** tookP50Ms: the search as the server timed it (took_ms), without HTTP. */
  sequential: { p50Ms: number; p99Ms: number; qps: number; recall: number; queries: number; tookP50Ms?: number };
  /** The same client against a bare node:http server in another process that answers at once. */
  floor?: { p50Ms: number };
  load: { connections: number; requestsPerSecond: number; meanMs: number; p50Ms: number; p99Ms: number; errors: number }[];
}

const searchBody = (target: Target): Record<string, number> =>
  target.point.value === null ? {} : target.point.param === 'nprobe' ? { nprobe: target.point.value } : { ef: target.point.value };

export function oneShot(plan: Plan, data: Dataset, target: Target, workDir: string): OneShotResult {
  const query = Array.from(data.queries.subarray(0, data.dim));
  const bare = join(workDir, 'bare-query.mjs');
  const param = target.point.value === null ? '' : `index.setParam(${JSON.stringify(target.point.param)}, ${target.point.value});`;
  writeFileSync(
    bare,
    `import { loadFaissNative } from ${JSON.stringify(join(ROOT, 'dist/src/engine/index/faiss-native.js'))};
const f = loadFaissNative(); f.setOmpThreads(1);
const index = f.Index.read(${JSON.stringify(target.indexFile)}); ${param}
const q = Float32Array.from(${JSON.stringify(query)}); let n = 0; for (const v of q) n += v * v; n = Math.sqrt(n);
const row = new Float32Array(index.getDimension()); row.set(q.map((v) => v / n)); // zero pad: float16 IVF lists hold a multiple of 8
console.log(JSON.stringify(Array.from(index.search(row, ${K}).labels)));\n`,
  );
  const flags = target.point.value === null ? [] : [target.point.param === 'nprobe' ? '--nprobe' : '--ef', String(target.point.value)];
  const cliArgs = [join(ROOT, 'bin/run.js'), 'query', '--vector', JSON.stringify(query), '-c', target.collection, '-k', String(K), ...flags, '--json', '--data-dir', target.dataDir];
  const time = (args: string[]): number => {
    const start = nowMs();
    const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const ms = nowMs() - start;
    if (result.status !== 0) throw new Error(`one-shot ${args[1] ?? ''} failed (${result.status}): ${result.stderr.slice(0, 500)}`);
    return ms;
  };
  time(cliArgs); // page cache, like a user's second query
  time([bare]);
  const cli: number[] = [];
  const bareMs: number[] = [];
  for (let i = 0; i < plan.oneshot.runs; i++) {
    cli.push(time(cliArgs));
    bareMs.push(time([bare]));
  }
  return { runs: plan.oneshot.runs, cliMs: median(cli), bareMs: median(bareMs) };
}

interface QueryAnswer {
  took_ms: number;
  hits: { id: string }[];
}

export async function http(plan: Plan, data: Dataset, target: Target, log: (line: string) => void): Promise<HttpResult> {
  const server = await startServe(target.dataDir, ['--log-level', 'warn']);
  try {
    const path = `/v1/collections/${target.collection}/query`;
    const bodies = Array.from({ length: data.nq }, (_, i) => JSON.stringify({ vector: Array.from(data.queries.subarray(i * data.dim, (i + 1) * data.dim)), k: K, ...searchBody(target) }));
    // node:http with one kept-alive socket: fetch (undici) costs ~1 ms a request on its own here.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(path, server.url);
    const post = (body: string): Promise<QueryAnswer> =>
      new Promise((resolve, reject) => {
        const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text) as QueryAnswer) : reject(new Error(`HTTP ${res.statusCode ?? '?'}: ${text}`))));
        });
        req.on('error', reject);
        req.end(body);
      });
    for (let i = 0; i < Math.min(plan.warmup, bodies.length); i++) await post(bodies[i] as string);
    const p50s: number[] = [];
    const p99s: number[] = [];
    const qps: number[] = [];
    const took: number[] = [];
    let recall = 0;
    for (let rep = 0; rep < plan.reps; rep++) {
      const latencies: number[] = [];
      const tookMs: number[] = [];
      const found: number[][] = [];
      const start = nowMs();
      for (const body of bodies) {
        const t = nowMs();
        const answer = await post(body);
        latencies.push(nowMs() - t);
        tookMs.push(answer.took_ms);
        found.push(answer.hits.map((hit) => Number(hit.id)));
      }
      qps.push(bodies.length / ((nowMs() - start) / 1000));
      if (rep === 0) recall = recallAtK(found, data.truth, GT_K, K);
      p50s.push(median(latencies));
      p99s.push(percentile(latencies, 99));
      took.push(median(tookMs));
    }
    agent.destroy();
    log(`http sequential: p50 ${median(p50s).toFixed(3)} ms, recall ${recall.toFixed(4)}`);
    const requests = bodies.map((body) => ({ method: 'POST' as const, path, headers: { 'content-type': 'application/json' }, body }));
    const load: HttpResult['load'] = [];
    for (const connections of plan.http.connections) {
      await autocannon({ url: server.url, connections, duration: 1, requests });
      const result = await autocannon({ url: server.url, connections, duration: plan.http.seconds, requests });
      load.push({ connections, requestsPerSecond: result.requests.average, meanMs: result.latency.mean, p50Ms: result.latency.p50, p99Ms: result.latency.p99, errors: result.errors + result.non2xx });
      log(`http autocannon ${connections} connections: ${result.requests.average.toFixed(0)} req/s`);
    }
    const floor = await bareServerFloor(bodies, plan.reps);
    log(`http floor (bare node:http server, other process): p50 ${floor.p50Ms.toFixed(3)} ms`);
    return { sequential: { p50Ms: median(p50s), p99Ms: median(p99s), qps: median(qps), recall, queries: bodies.length, tookP50Ms: median(took) }, floor, load };
  } finally {
    await server.stop();
  }
}

/**
 * What one HTTP round trip between two processes costs on this machine before any server work: a
 * node:http server (its own process, as `piramid serve` is) that reads the body and answers a
 * canned 10-hit reply, driven by the same keep-alive client as the sequential pass.
 */
async function bareServerFloor(bodies: readonly string[], reps: number): Promise<{ p50Ms: number }> {
  const script = `import http from 'node:http';
const reply = JSON.stringify({ took_ms: 0, hits: Array.from({ length: 10 }, (_, i) => ({ id: String(i * 7919), score: 0.5 })) });
const server = http.createServer((req, res) => { req.on('data', () => {}); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(reply); }); });
server.listen(0, '127.0.0.1', () => console.log(server.address().port));\n`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8').once('data', (line: string) => resolve(Number(line.trim())));
      child.once('exit', (code) => reject(new Error(`bare server exited (${code ?? '?'})`)));
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(`http://127.0.0.1:${port}/`);
    const post = (body: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume().on('end', resolve);
        });
        req.on('error', reject);
        req.end(body);
      });
    const p50s: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const latencies: number[] = [];
      for (const body of bodies) {
        const t = nowMs();
        await post(body);
        latencies.push(nowMs() - t);
      }
      p50s.push(median(latencies));
    }
    agent.destroy();
    return { p50Ms: median(p50s) };
  } finally {
    child.kill();
  }
}
