/**
 * `piramid serve` against issue 7/7's HTTP targets, measured in one run on one machine:
 *
 * - HTTP p50 at 1 connection <= in-process p50 + 0.150 ms;
 * - requests/s at 16 connections >= 1.6x the single-thread in-process queries/s.
 *
 * The in-process engine and each server (the real CLI, `piramid serve`, its own process, request
 * logs at info to /dev/null) get their own copy of one data folder and run at the same time, and
 * their measurements are interleaved: blocks of the 200 queries in-process, then over HTTP to
 * each server (a minimal keep-alive client on a raw socket: autocannon reports latencies in whole
 * milliseconds), and for throughput alternating 1-second slots of in-process back-to-back queries
 * and autocannon with 16 connections on each server. On a machine shared with other work, load
 * changes within seconds; only side-by-side measurements compare like with like. The load
 * generator runs in this process, on the same cores as the servers.
 *
 * Run: npm run build && node dist/bench/http-throughput.js [--n 100000] [--dim 384] [--index hnsw]
 *      [--ef 64] [--seconds 5] [--runs 3] [--dir /tmp/...] [--serve-args="--log-level info"]
 *      [--compare /path/to/another/checkout]   (its server measured too, side by side)
 *      [--floor]   (and a bare Fastify server answering the same bodies without searching)
 * Latency runs for seconds x runs seconds, throughput for as many 1-second rounds. The data
 * folder is built once (clustered vectors) and reused, with its copies, by later runs.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
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
    /** Also measure a floor: Fastify parsing the same bodies and sending a canned answer, no search. */
    floor: { type: 'boolean', default: false },
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

// 2. Every measured party gets its own copy of the folder (one process per folder), so that all
// of them run at once and are measured side by side: on a machine shared with other work, load
// comes and goes within seconds, and only interleaved measurements compare like with like.
function copyOf(name: string): string {
  const copy = `${dir}-${name}`;
  if (!existsSync(join(copy, 'serve-bench-ready'))) {
    rmSync(copy, { recursive: true, force: true });
    cpSync(dir, copy, { recursive: true });
  }
  return copy;
}

// 3. The real server.
interface Server {
  url: string;
  port: number;
  stop: () => Promise<void>;
}
/**
 * What HTTP and JSON cost on their own: Fastify (no logger) on the same route, parsing and
 * validating the same bodies (a vector of numbers), answering a canned 10-hit response of the
 * server's shape without searching. HTTP p50 minus in-process p50 cannot go below this.
 */
const FLOOR_SERVER = `
import Fastify from 'fastify';
const app = Fastify();
const hits = Array.from({ length: 10 }, (_, i) => ({ id: 'd' + (1000 + i), score: 0.9 - i / 100 }));
const answer = JSON.stringify({ collection: 'bench', k: 10, took_ms: 0.3, hits, plan: { mode: 'vector', strategy: 'ann', fetched: 10 } });
const body = { type: 'object', properties: { vector: { type: 'array', items: { type: 'number' }, minItems: 1 }, k: { type: 'integer' }, ef: { type: 'integer' } }, additionalProperties: false };
app.post('/v1/collections/:name/query', { schema: { body } }, async (request, reply) => reply.type('application/json').send(answer));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
console.error('listening on ' + url);
`;

async function startServer(root: string | undefined, folder: string): Promise<Server> {
  const extra = values['serve-args'].split(' ').filter((a) => a.length > 0);
  const nodeArgs = values['cpu-prof'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`];
  const args = root === undefined ? ['--input-type=module', '-e', FLOOR_SERVER] : [...nodeArgs, join(root, 'bin/run.js'), 'serve', '--port', '0', '--data-dir', folder, ...extra];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
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

/** One keep-alive connection, one request at a time; `ask(i)` resolves with the round trip in ms. */
async function keepAlive(port: number): Promise<{ ask: (i: number) => Promise<number>; close: () => void; searchMs: number[] }> {
  const searchMs: number[] = [];
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
    if (!ok) return pending?.reject(new Error(`${head.split('\r\n')[0]}: ${body}`));
    // The server's own search time (runQuery: embedding, faiss, LevelDB reads of the hits).
    const took = /"took_ms":([0-9.]+)/.exec(body)?.[1];
    if (took !== undefined) searchMs.push(Number(took));
    pending?.resolve();
  });
  return {
    searchMs,
    ask: async (i) => {
      const sent = nowMs();
      await new Promise<void>((resolve, reject) => {
        pending = { resolve, reject };
        socket.write(requests[i % requests.length] as Buffer);
      });
      return nowMs() - sent;
    },
    close: () => socket.destroy(),
  };
}

async function cannon(url: string, connections: number, seconds: number): Promise<{ qps: number; errors: number }> {
  const requests = bodies.map((body) => ({ method: 'POST' as const, path: PATH, headers: { 'content-type': 'application/json' }, body }));
  const result = await autocannon({ url, connections, duration: seconds, requests });
  return { qps: result.requests.total / seconds, errors: result.non2xx + result.errors };
}

/** The search batcher's counters from a server's /metrics (undefined on servers without them). */
async function batchCounters(url: string): Promise<{ calls: number; queries: number } | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name}\\{collection="bench"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const calls = value('piramid_search_batch_calls');
  return Number.isFinite(calls) ? { calls, queries: value('piramid_search_batch_queries') } : undefined;
}

const servers: { name: string; root: string | undefined }[] = [
  { name: 'this checkout', root: ROOT },
  ...(values.compare === undefined ? [] : [{ name: values.compare, root: values.compare }]),
  ...(values.floor ? [{ name: 'floor: Fastify + JSON body, canned answer, no search', root: undefined }] : []),
];
const db = await Database.open(copyOf('in-process'));
const collection = await db.collection('bench');
const running = await Promise.all(servers.map((server, i) => startServer(server.root, server.root === undefined ? dir : copyOf(`server-${i}`))));
try {
  // Warm up: index loads, JIT.
  for (let round = 0; round < 3; round++) for (const q of queries) await collection.search(q, searchOptions);
  const clients = await Promise.all(running.map((server) => keepAlive(server.port)));
  for (let i = 0; i < 400; i++) for (const client of clients) await client.ask(i);
  for (const server of running) await cannon(server.url, 16, 1);

  // 3. Latency, one query at a time, in alternating blocks of the 200 queries: in-process, then
  // each server (order alternating). Blocks, not single queries: a party's caches stay its own
  // for a block, as when it runs alone, while load changes still reach every party alike.
  for (const client of clients) client.searchMs.length = 0; // warm-up answers
  const local: number[] = [];
  const remote = running.map((): number[] => []);
  const latencyStart = nowMs();
  for (let block = 0; nowMs() - latencyStart < SECONDS * 1000 * RUNS; block++) {
    for (const q of queries) {
      const start = nowMs();
      await collection.search(q, searchOptions);
      local.push(nowMs() - start);
    }
    for (const [s, client] of block % 2 === 0 ? clients.entries() : [...clients.entries()].reverse()) {
      for (let i = 0; i < queries.length; i++) remote[s]?.push(await client.ask(i));
    }
  }
  for (const client of clients) client.close();

  // 4. Throughput in alternating 1-second slots: in-process back to back, then autocannon with 16
  // connections on each server in turn; a ratio per round, medians over rounds.
  const countersBefore = await Promise.all(running.map((server) => batchCounters(server.url)));
  const rounds: { inQps: number; qps: number[] }[] = [];
  for (let round = 0; round < SECONDS * RUNS; round++) {
    let done = 0;
    const start = nowMs();
    while (nowMs() - start < 1000) {
      await collection.search(queries[done % queries.length] as Float32Array, searchOptions);
      done += 1;
    }
    const inQps = done / ((nowMs() - start) / 1000);
    const qps: number[] = [];
    for (const server of round % 2 === 0 ? running : [...running].reverse()) qps[running.indexOf(server)] = (await cannon(server.url, 16, 1)).qps;
    rounds.push({ inQps, qps });
  }
  const countersAfter = await Promise.all(running.map((server) => batchCounters(server.url)));
  // Mean queries per faiss call at 16 connections.
  const batches = countersAfter.map((after, s) => {
    const before = countersBefore[s];
    return after === undefined || before === undefined || after.calls === before.calls ? undefined : (after.queries - before.queries) / (after.calls - before.calls);
  });

  // 5. Report.
  const inP50 = median(local);
  const inQps = median(rounds.map((r) => r.inQps));
  console.log(
    `\nN=${N} x ${DIM} clustered, ${KIND}${EF === undefined ? '' : ` efSearch ${EF}`}, k=${K}, 200 distinct query vectors; latency: ${local.length} queries per party in alternating blocks of ${queries.length}; throughput: ${rounds.length} rounds of 1 s slots\n`,
  );
  console.log('| path | p50 ms | p99 ms | queries/s |');
  console.log('|---|---|---|---|');
  console.log(`| in-process, one thread, one query at a time | ${fmt(inP50, 3)} | ${fmt(percentile(local, 99), 3)} | ${fmt(inQps, 0)} (back to back) |`);
  for (const [s, server] of servers.entries()) {
    const samples = remote[s] ?? [];
    const name = servers.length > 1 ? ` [${server.name}]` : '';
    const took = clients[s]?.searchMs ?? [];
    const inside = took.length === 0 || servers[s]?.root === undefined ? '' : ` (search inside the server, took_ms: p50 ${fmt(median(took), 3)})`;
    console.log(`| HTTP, 1 connection${name}${inside} | ${fmt(median(samples), 3)} | ${fmt(percentile(samples, 99), 3)} | |`);
    console.log(`| HTTP, 16 connections (autocannon)${name} | | | ${fmt(median(rounds.map((r) => r.qps[s] ?? Number.NaN)), 0)} |`);
  }
  console.log('\n| target | server | value | met |');
  console.log('|---|---|---|---|');
  for (const [s, server] of servers.entries()) {
    const overhead = (median(remote[s] ?? []) - inP50) * 1000;
    const ratios = rounds.map((r) => (r.qps[s] ?? Number.NaN) / r.inQps);
    const batch = batches[s];
    console.log(`| HTTP p50 (1 conn) - in-process p50 <= 150 µs | ${server.name} | ${fmt(overhead, 0)} µs | ${overhead <= 150 ? 'yes' : 'no'} |`);
    console.log(
      `| QPS (16 conn) / in-process QPS >= 1.6 | ${server.name} | ${fmt(median(ratios), 2)}× (rounds: ${fmt(percentile(ratios, 10), 2)}-${fmt(percentile(ratios, 90), 2)} p10-p90)${batch === undefined ? '' : `; ${fmt(batch, 2)} queries per faiss call`} | ${median(ratios) >= 1.6 ? 'yes' : 'no'} |`,
    );
  }
} finally {
  await db.close();
  await Promise.all(running.map((server) => server.stop()));
}
