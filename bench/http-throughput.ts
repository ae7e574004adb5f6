/**
 * `piramid serve` against issue 7/7's HTTP targets, measured in one run on one machine:
 *
 * - in-process: p50 of one query at a time on the warm collection, and the single-thread
 *   throughput (queries answered back to back for a fixed time);
 * - HTTP, 1 connection: p50 of round trips measured by a minimal keep-alive client (raw socket,
 *   pre-built request bytes; autocannon reports latencies in whole milliseconds, useless here);
 * - HTTP, 16 connections: requests/s from autocannon (and from 1 connection, for reference).
 *
 * Targets: HTTP p50 (1 connection) <= in-process p50 + 0.150 ms; QPS at 16 connections >= 1.6x
 * the single-thread in-process QPS. The server is the real CLI (`piramid serve`, its own process,
 * request logs at info to /dev/null); the load generator runs in this process, on the same cores.
 *
 * Run: npm run build && node dist/bench/http-throughput.js [--n 100000] [--dim 384] [--index hnsw]
 *      [--ef 64] [--seconds 5] [--runs 3] [--dir /tmp/...] [--serve-args="--log-level info"]
 *      [--compare /path/to/another/checkout]   (its server measured too, alternating, same runs)
 * The data folder is built once (clustered vectors, HNSW) and reused by later runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Database } from '../src/index.js';
import { clusteredVectors } from '../test/helpers/vectors.js';
import { fmt, median, nowMs, percentile } from './stats.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    dim: { type: 'string', default: '384' },
    index: { type: 'string', default: 'hnsw' },
    seconds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string' },
    'serve-args': { type: 'string', default: '' },
    /** HNSW efSearch for every query (in-process and over HTTP); the collection's default when absent. */
    ef: { type: 'string' },
    /** Another checkout (built, with node_modules) whose server is measured too, in the same runs. */
    compare: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const N = Number(values.n);
const DIM = Number(values.dim);
const KIND = values.index as 'hnsw' | 'flat' | 'ivf';
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const K = 10;
const EF = values.ef === undefined ? undefined : Number(values.ef);
const searchOptions = EF === undefined ? { k: K } : { k: K, efSearch: EF };
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = values.dir ?? join(tmpdir(), `piramid-http-bench-${N}x${DIM}-${KIND}`);
const queries = clusteredVectors(200, DIM, 200, 21, 2121);

// 1. The data folder, built once.
if (!existsSync(join(dir, 'serve-bench-ready'))) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = nowMs();
  const vectors = clusteredVectors(N, DIM, 200, 21);
  const db = await Database.open(dir);
  const collection = await db.createCollection('bench', { embedder: 'none', dimension: DIM, index: KIND });
  for (let i = 0; i < N; i += 2000) await collection.upsert(vectors.slice(i, i + 2000).map((vector, j) => ({ id: `d${i + j}`, vector })));
  await db.close();
  mkdirSync(join(dir, 'serve-bench-ready'));
  console.error(`built ${N} x ${DIM} ${KIND} in ${fmt((nowMs() - started) / 1000, 1)} s at ${dir}`);
}

// 2. In-process, one thread: p50 and back-to-back throughput.
async function inProcess(): Promise<{ p50: number; p99: number; qps: number }> {
  const db = await Database.open(dir);
  const collection = await db.collection('bench');
  for (let round = 0; round < 3; round++) for (const q of queries) await collection.search(q, searchOptions);
  const samples: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const q of queries) {
      const start = nowMs();
      await collection.search(q, searchOptions);
      samples.push(nowMs() - start);
    }
  }
  let done = 0;
  const start = nowMs();
  while (nowMs() - start < 2000) {
    await collection.search(queries[done % queries.length] as Float32Array, searchOptions);
    done += 1;
  }
  const qps = done / ((nowMs() - start) / 1000);
  await db.close();
  return { p50: median(samples), p99: percentile(samples, 99), qps };
}

// 3. The real server.
interface Server {
  url: string;
  port: number;
  stop: () => Promise<void>;
}
async function startServer(root: string): Promise<Server> {
  const extra = values['serve-args'].split(' ').filter((a) => a.length > 0);
  const nodeArgs = values['cpu-prof'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`];
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin/run.js'), 'serve', '--port', '0', '--data-dir', dir, ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PIRAMID_API_KEY: '', PIRAMID_READ_ONLY_API_KEY: '' },
  });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /listening on (\S+)/.exec(stderr);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.on('exit', () => reject(new Error(`serve exited:\n${stderr}`)));
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    url,
    port: Number(new URL(url).port),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const bodies = queries.map((q) => JSON.stringify({ vector: Array.from(q), k: K, ...(EF === undefined ? {} : { ef: EF }) }));
const PATH = '/v1/collections/bench/query';

/** One keep-alive connection, one request at a time: round-trip times in ms. */
async function sequentialRoundTrips(port: number, seconds: number): Promise<{ samples: number[]; qps: number }> {
  const requests = bodies.map((body) =>
    Buffer.from(`POST ${PATH} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
  );
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let pending: { resolve: () => void; reject: (err: Error) => void } | undefined;
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const headerEnd = buffered.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const head = buffered.subarray(0, headerEnd).toString('latin1');
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? Number.NaN);
    if (!Number.isFinite(length)) return pending?.reject(new Error(`no content-length in:\n${head}`));
    if (buffered.length < headerEnd + 4 + length) return;
    const ok = head.startsWith('HTTP/1.1 200');
    const body = buffered.subarray(headerEnd + 4, headerEnd + 4 + length).toString();
    buffered = buffered.subarray(headerEnd + 4 + length);
    if (!ok) pending?.reject(new Error(`${head.split('\r\n')[0]}: ${body}`));
    else pending?.resolve();
  });
  const samples: number[] = [];
  const start = nowMs();
  for (let i = 0; nowMs() - start < seconds * 1000; i++) {
    const sent = nowMs();
    await new Promise<void>((resolve, reject) => {
      pending = { resolve, reject };
      socket.write(requests[i % requests.length] as Buffer);
    });
    samples.push(nowMs() - sent);
  }
  const qps = samples.length / ((nowMs() - start) / 1000);
  socket.destroy();
  return { samples, qps };
}

async function cannon(url: string, connections: number, seconds: number): Promise<{ qps: number; errors: number }> {
  const requests = bodies.map((body) => ({ method: 'POST' as const, path: PATH, headers: { 'content-type': 'application/json' }, body }));
  const result = await autocannon({ url, connections, duration: seconds, requests });
  return { qps: result.requests.total / seconds, errors: result.non2xx + result.errors };
}

interface Run {
  inP50: number;
  inP99: number;
  inQps: number;
  httpP50: number;
  httpP99: number;
  http1Qps: number;
  cannon1: number;
  cannon16: number;
  errors: number;
  /** Mean queries per faiss call over the whole server run (coalesced searches), when reported. */
  batch?: number;
}

/** queries / calls of the search batcher, from the server's /metrics (absent on older servers). */
async function batchSize(url: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name}\\{collection="bench"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const calls = value('piramid_search_batch_calls');
  return Number.isFinite(calls) && calls > 0 ? value('piramid_search_batch_queries') / calls : undefined;
}

async function measureServer(root: string, local: { p50: number; p99: number; qps: number }): Promise<Run> {
  const server = await startServer(root);
  try {
    await sequentialRoundTrips(server.port, 1); // warm up: index load, JIT
    await cannon(server.url, 16, 1);
    const seq = await sequentialRoundTrips(server.port, SECONDS);
    const one = await cannon(server.url, 1, SECONDS);
    const sixteen = await cannon(server.url, 16, SECONDS);
    const batch = await batchSize(server.url);
    return {
      ...(batch === undefined ? {} : { batch }),
      inP50: local.p50,
      inP99: local.p99,
      inQps: local.qps,
      httpP50: median(seq.samples),
      httpP99: percentile(seq.samples, 99),
      http1Qps: seq.qps,
      cannon1: one.qps,
      cannon16: sixteen.qps,
      errors: one.errors + sixteen.errors,
    };
  } finally {
    await server.stop();
  }
}

// Each run: in-process, then each server (this checkout, and --compare's, in turn) on the same data.
const servers = [{ name: 'this checkout', root: ROOT }, ...(values.compare === undefined ? [] : [{ name: values.compare, root: values.compare }])];
const runs = new Map<string, Run[]>(servers.map((s) => [s.name, []]));
for (let r = 0; r < RUNS; r++) {
  const local = await inProcess();
  for (const { name, root } of r % 2 === 0 ? servers : [...servers].reverse()) {
    const run = await measureServer(root, local);
    runs.get(name)?.push(run);
    console.error(
      `run ${r + 1} (${name}): in-process p50 ${fmt(run.inP50, 3)} ms, ${fmt(run.inQps, 0)} q/s | HTTP 1 conn p50 ${fmt(run.httpP50, 3)} ms (+${fmt((run.httpP50 - run.inP50) * 1000, 0)} µs) | 16 conn ${fmt(run.cannon16, 0)} req/s (${fmt(run.cannon16 / run.inQps, 2)}×)${run.batch === undefined ? '' : `, ${fmt(run.batch, 2)} queries per faiss call`}`,
    );
  }
}

console.log(`\nN=${N} x ${DIM} clustered, ${KIND}${EF === undefined ? '' : ` efSearch ${EF}`}, k=${K}, 200 distinct query vectors, ${SECONDS} s per HTTP measurement, median of ${RUNS} runs\n`);
for (const { name } of servers) {
  const list = runs.get(name) ?? [];
  const mid = (pick: (run: Run) => number): number => median(list.map(pick));
  if (servers.length > 1) console.log(`### server: ${name}\n`);
  console.log('| path | p50 ms | p99 ms | queries/s |');
  console.log('|---|---|---|---|');
  console.log(`| in-process, one thread, one query at a time | ${fmt(mid((r) => r.inP50), 3)} | ${fmt(mid((r) => r.inP99), 3)} | ${fmt(mid((r) => r.inQps), 0)} |`);
  console.log(`| HTTP, 1 connection (sequential round trips) | ${fmt(mid((r) => r.httpP50), 3)} | ${fmt(mid((r) => r.httpP99), 3)} | ${fmt(mid((r) => r.http1Qps), 0)} |`);
  console.log(`| HTTP, 1 connection (autocannon) | | | ${fmt(mid((r) => r.cannon1), 0)} |`);
  console.log(`| HTTP, 16 connections (autocannon) | | | ${fmt(mid((r) => r.cannon16), 0)} |`);
  const batches = list.flatMap((r) => (r.batch === undefined ? [] : [r.batch]));
  if (batches.length > 0) console.log(`\nQueries per faiss call over a whole server run (all three loads): ${batches.map((b) => fmt(b, 2)).join(', ')}`);
  console.log('\n| target | per run | median | met |');
  console.log('|---|---|---|---|');
  const overhead = list.map((r) => (r.httpP50 - r.inP50) * 1000);
  const ratio = list.map((r) => r.cannon16 / r.inQps);
  console.log(`| HTTP p50 (1 conn) - in-process p50 <= 150 µs | ${overhead.map((v) => fmt(v, 0)).join(', ')} µs | ${fmt(median(overhead), 0)} µs | ${median(overhead) <= 150 ? 'yes' : 'no'} |`);
  console.log(`| QPS (16 conn) / in-process QPS >= 1.6 | ${ratio.map((v) => fmt(v, 2)).join(', ')} | ${fmt(median(ratio), 2)}× | ${median(ratio) >= 1.6 ? 'yes' : 'no'} |`);
  console.log(`\nerrors: ${list.reduce((sum, r) => sum + r.errors, 0)}\n`);
}
