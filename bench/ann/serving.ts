/**
 * Piramid outside the engine API, on the collection the piramid worker built: the one-shot CLI
 * (`piramid query --vector`, a whole process per query) against a bare node process that reads
 * the same faiss file and searches once; and `piramid serve` over HTTP, one request at a time
 * (precise latencies, recall checked) and under autocannon with 1 and 16 connections.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'undici';
import { Database } from '../../src/index.js';
import { encodeVectorBase64 } from '../../src/engine/vector-base64.js';
import { startServe, type ServeProcess } from '../../test/helpers/serve.js';
import { median, nowMs, percentile, timedPass } from '../stats.js';
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

/** How the HTTP passes' clients did: p50/p99 of one request at a time, every query. */
export interface ClientTiming {
  p50Ms: number;
  p99Ms: number;
}

/**
 * node:http (http.request with a kept-alive Agent) and undici's Client (the engine under Node's
 * fetch), sending the vector as JSON numbers; and undici sending it as base64 float32.
 */
export const HTTP_CLIENTS = ['node:http', 'undici', 'undici, base64'] as const;
export type HttpClientName = (typeof HTTP_CLIENTS)[number];

export interface HttpResult {
  /** The engine in this process, on a copy of the folder, measured in alternation with the HTTP passes. */
  inProcess: { p50Ms: number; qps: number };
  /** One request at a time over one kept-alive connection; tookP50Ms: the search as the server timed it. */
  sequential: { clients: Record<HttpClientName, ClientTiming>; recall: number; queries: number; tookP50Ms: number };
  /** The same, to a second server started with `--busy-poll <micros>`, in the same alternation. */
  busyPoll?: { micros: number; clients: Record<HttpClientName, ClientTiming>; tookP50Ms: number };
  /** The same clients against a bare node:http server in another process that answers at once. */
  floor: Record<HttpClientName, { p50Ms: number }>;
  /** autocannon; each round a slot of in-process back-to-back queries, then one of HTTP: ratio per round, median. */
  load: { connections: number; requestsPerSecond: number; inProcessQps: number; ratio: number; rounds: number; meanMs: number; p50Ms: number; p99Ms: number; errors: number }[];
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

/** Sends one body and resolves with the parsed answer; `close` frees the connection. */
interface Poster {
  post: (body: string) => Promise<QueryAnswer>;
  close: () => Promise<void>;
}

/** One kept-alive connection to `url` (path included) through either client. */
function poster(client: HttpClientName, url: URL): Poster {
  if (client !== 'node:http') {
    const connection = new Client(url.origin);
    const path = url.pathname;
    return {
      post: async (body) => {
        const res = await connection.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text}`);
        return JSON.parse(text) as QueryAnswer;
      },
      close: () => connection.close(),
    };
  }
  // node:http with one kept-alive socket (fetch costs ~1 ms a request on its own here).
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    post: (body) =>
      new Promise((resolve, reject) => {
        const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text) as QueryAnswer) : reject(new Error(`HTTP ${res.statusCode ?? '?'}: ${text}`))));
        });
        req.on('error', reject);
        req.end(body);
      }),
    close: () => {
      agent.destroy();
      return Promise.resolve();
    },
  };
}

/** One value per client. */
const byClient = <T>(make: (client: HttpClientName) => T): Record<HttpClientName, T> =>
  Object.fromEntries(HTTP_CLIENTS.map((client) => [client, make(client)])) as Record<HttpClientName, T>;

/** The request bodies each client sends: the same queries, the vector as numbers or as base64. */
const bodiesFor = (queries: readonly Float32Array[], extra: Record<string, number>): Record<HttpClientName, string[]> =>
  byClient((client) => queries.map((q) => JSON.stringify({ vector: client === 'undici, base64' ? encodeVectorBase64(q) : Array.from(q), k: K, ...extra })));

const timing = (passes: number[][]): ClientTiming => ({ p50Ms: median(passes.map((l) => median(l))), p99Ms: median(passes.map((l) => percentile(l, 99))) });

/**
 * `piramid serve` on the target folder against the engine in this process on a copy of it, the
 * two measured in alternation (this machine's speed drifts within minutes: only side-by-side
 * passes compare like with like). One request at a time through two clients, and to a second
 * server with `--busy-poll`; then autocannon in slots that alternate with in-process slots.
 */
export async function http(plan: Plan, data: Dataset, target: Target, log: (line: string) => void): Promise<HttpResult> {
  const copy = (suffix: string): string => {
    const dir = `${target.dataDir}-${suffix}`;
    rmSync(dir, { recursive: true, force: true });
    cpSync(target.dataDir, dir, { recursive: true });
    return dir;
  };
  const inProcessDir = copy('in-process');
  const busyDir = plan.http.busyPollMicros > 0 ? copy('busy-poll') : undefined;
  const db = await Database.open(inProcessDir);
  const servers: ServeProcess[] = [];
  const posters: Poster[] = [];
  try {
    const collection = await db.collection(target.collection);
    const options = { k: K, ...(target.point.value === null ? {} : target.point.param === 'nprobe' ? { nprobe: target.point.value } : { efSearch: target.point.value }) };
    const queries = Array.from({ length: data.nq }, (_, i) => data.queries.subarray(i * data.dim, (i + 1) * data.dim));
    const search = (q: Float32Array): Promise<unknown> => collection.search(q, options);

    const server = await startServe(target.dataDir, ['--log-level', 'warn']);
    servers.push(server);
    const busy = busyDir === undefined ? undefined : await startServe(busyDir, ['--log-level', 'warn', '--busy-poll', String(plan.http.busyPollMicros)]);
    if (busy !== undefined) servers.push(busy);
    const path = `/v1/collections/${target.collection}/query`;
    const bodiesOf = bodiesFor(queries, searchBody(target));
    const bodies = bodiesOf['node:http'];
    const connect = (s: ServeProcess): Record<HttpClientName, Poster> => {
      const set = byClient((client) => poster(client, new URL(path, s.url)));
      posters.push(...Object.values(set));
      return set;
    };
    const main = connect(server);
    const polled = busy === undefined ? undefined : connect(busy);

    for (const q of queries.slice(0, plan.warmup)) await search(q);
    for (const clients of [main, polled]) for (const client of HTTP_CLIENTS) if (clients !== undefined) for (const body of bodiesOf[client].slice(0, plan.warmup)) await clients[client].post(body);

    const inProcessPasses: number[][] = [];
    const mainPasses = byClient((): number[][] => []);
    const polledPasses = byClient((): number[][] => []);
    const took: number[] = [];
    const polledTook: number[] = [];
    let recall = 0;
    for (let rep = 0; rep < plan.reps; rep++) {
      inProcessPasses.push(await timedPass(queries, search));
      for (const client of HTTP_CLIENTS) {
        const found: number[][] = [];
        mainPasses[client].push(
          await timedPass(bodiesOf[client], async (body) => {
            const answer = await main[client].post(body);
            took.push(answer.took_ms);
            found.push(answer.hits.map((hit) => Number(hit.id)));
          }),
        );
        if (rep === 0 && client === 'node:http') recall = recallAtK(found, data.truth, GT_K, K);
        if (polled !== undefined) {
          polledPasses[client].push(
            await timedPass(bodiesOf[client], async (body) => {
              polledTook.push((await polled[client].post(body)).took_ms);
            }),
          );
        }
      }
    }
    const inProcessP50 = median(inProcessPasses.map((l) => median(l)));
    const sequential = { clients: byClient((c) => timing(mainPasses[c])), recall, queries: bodies.length, tookP50Ms: median(took) };
    log(`http sequential: p50 ${HTTP_CLIENTS.map((c) => `${c} ${sequential.clients[c].p50Ms.toFixed(3)}`).join(', ')} ms; in-process ${inProcessP50.toFixed(3)} ms; recall ${recall.toFixed(4)}`);
    const busyPoll = polled === undefined ? undefined : { micros: plan.http.busyPollMicros, clients: byClient((c) => timing(polledPasses[c])), tookP50Ms: median(polledTook) };
    if (busyPoll !== undefined) log(`http sequential, --busy-poll ${busyPoll.micros}: p50 ${HTTP_CLIENTS.map((c) => `${c} ${busyPoll.clients[c].p50Ms.toFixed(3)}`).join(', ')} ms`);

    const requests = bodies.map((body) => ({ method: 'POST' as const, path, headers: { 'content-type': 'application/json' }, body }));
    let next = 0;
    const searchNext = (): Promise<unknown> => search(queries[next++ % queries.length] as Float32Array);
    const load: HttpResult['load'] = [];
    for (const connections of plan.http.connections) load.push(await loadRounds(plan, server.url, connections, requests, searchNext, log));
    const floor = await bareServerFloor(bodiesOf, plan.reps);
    log(`http floor (bare node:http server, other process): p50 ${HTTP_CLIENTS.map((c) => `${c} ${floor[c].p50Ms.toFixed(3)}`).join(', ')} ms`);
    const inProcessQps = median(inProcessPasses.map((l) => l.length / (l.reduce((a, b) => a + b, 0) / 1000)));
    return { inProcess: { p50Ms: inProcessP50, qps: inProcessQps }, sequential, ...(busyPoll === undefined ? {} : { busyPoll }), floor, load };
  } finally {
    for (const p of posters) await p.close();
    for (const s of servers) await s.stop();
    await db.close();
    for (const dir of [inProcessDir, busyDir]) if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * autocannon at `connections` against in-process back-to-back queries, in alternating slots (one
 * of each per round): the ratio of the median round, and medians of both rates.
 */
async function loadRounds(
  plan: Plan,
  url: string,
  connections: number,
  requests: autocannon.Request[],
  searchOne: () => Promise<unknown>,
  log: (line: string) => void,
): Promise<HttpResult['load'][number]> {
  const rounds = Math.max(2, Math.round(plan.http.seconds / 2));
  const slotSeconds = plan.quick ? 1 : 2;
  await autocannon({ url, connections, duration: 1, requests });
  const perRound: { rps: number; qps: number; result: autocannon.Result }[] = [];
  for (let round = 0; round < rounds; round++) {
    let done = 0;
    const start = nowMs();
    while (nowMs() - start < slotSeconds * 1000) {
      await searchOne();
      done += 1;
    }
    const qps = done / ((nowMs() - start) / 1000);
    const result = await autocannon({ url, connections, duration: slotSeconds, requests });
    perRound.push({ rps: result.requests.average, qps, result });
  }
  const byRatio = [...perRound].sort((a, b) => a.rps / a.qps - b.rps / b.qps);
  const mid = byRatio[Math.floor(byRatio.length / 2)] as (typeof byRatio)[number];
  log(`http autocannon ${connections} connections: ${median(perRound.map((r) => r.rps)).toFixed(0)} req/s, ${(mid.rps / mid.qps).toFixed(2)}× in-process (median of ${rounds} rounds)`);
  return {
    connections,
    requestsPerSecond: median(perRound.map((r) => r.rps)),
    inProcessQps: median(perRound.map((r) => r.qps)),
    ratio: mid.rps / mid.qps,
    rounds,
    meanMs: mid.result.latency.mean,
    p50Ms: mid.result.latency.p50,
    p99Ms: mid.result.latency.p99,
    errors: perRound.reduce((sum, r) => sum + r.result.errors + r.result.non2xx, 0),
  };
}

/**
 * What one HTTP round trip between two processes costs on this machine before any server work: a
 * node:http server (its own process, as `piramid serve` is) that reads the body and answers a
 * canned 10-hit reply, driven by the same clients as the sequential passes.
 */
async function bareServerFloor(bodiesOf: Record<HttpClientName, string[]>, reps: number): Promise<HttpResult['floor']> {
  const script = `import http from 'node:http';
const reply = JSON.stringify({ took_ms: 0, hits: Array.from({ length: 10 }, (_, i) => ({ id: String(i * 7919), score: 0.5 })) });
const server = http.createServer((req, res) => { req.on('data', () => {}); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(reply); }); });
server.listen(0, '127.0.0.1', () => console.log(server.address().port));\n`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const clients: Poster[] = [];
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8').once('data', (line: string) => resolve(Number(line.trim())));
      child.once('exit', (code) => reject(new Error(`bare server exited (${code ?? '?'})`)));
    });
    const url = new URL(`http://127.0.0.1:${port}/`);
    const passes = byClient((): number[][] => []);
    const set = byClient((client) => poster(client, url));
    clients.push(...Object.values(set));
    for (let rep = 0; rep < reps; rep++) for (const client of HTTP_CLIENTS) passes[client].push(await timedPass(bodiesOf[client], (body) => set[client].post(body)));
    return byClient((c) => ({ p50Ms: timing(passes[c]).p50Ms }));
  } finally {
    for (const c of clients) await c.close();
    child.kill();
  }
}
