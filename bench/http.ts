/**
 * `piramid serve` under load beside the same queries in-process, at 100k vectors (HNSW, 384 dims):
 * single-vector queries (k=10) over HTTP with autocannon, 1 and 16 connections, against the engine
 * answering the same queries in-process in one thread. The server runs in its own process (the
 * real CLI) on 127.0.0.1; autocannon runs in this one.
 *
 * Run: npm run build && node dist/bench/http.js [--n 100000] [--seconds 10]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Database } from '../src/index.js';
import { clusteredVectors } from '../test/helpers/vectors.js';
import { fmt, median, nowMs, percentile } from './stats.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '100000' }, seconds: { type: 'string', default: '10' } } });
const N = Number(values.n);
const SECONDS = Number(values.seconds);
const DIM = 384;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const vectors = clusteredVectors(N, DIM, 200, 21);
const queries = clusteredVectors(200, DIM, 200, 21, 2121);
const dir = mkdtempSync(join(tmpdir(), 'piramid-bench-http-'));

// Build, then measure in-process on the warm collection.
const db = await Database.open(dir);
const collection = await db.createCollection('bench', { embedder: 'none', dimension: DIM, index: 'hnsw' });
for (let i = 0; i < N; i += 2000) await collection.upsert(vectors.slice(i, i + 2000).map((vector, j) => ({ id: `d${i + j}`, vector })));
for (const q of queries.slice(0, 20)) await collection.search(q, { k: 10 });
const inProcess: number[] = [];
for (let round = 0; round < 3; round++) {
  for (const q of queries) {
    const start = nowMs();
    await collection.search(q, { k: 10 });
    inProcess.push(nowMs() - start);
  }
}
await db.close();

const server = spawn(process.execPath, [join(ROOT, 'bin/run.js'), 'serve', '--port', '0', '--data-dir', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
const url = await new Promise<string>((resolve) => {
  server.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    const match = /listening on (\S+)/.exec(chunk);
    if (match?.[1] !== undefined) resolve(match[1]);
  });
});
const requests = queries.map((q) => ({ method: 'POST' as const, path: '/v1/collections/bench/query', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vector: Array.from(q), k: 10 }) }));
await autocannon({ url, connections: 1, duration: 2, requests }); // warm up: index load, JIT
const rows: string[] = [];
for (const connections of [1, 16]) {
  const result = await autocannon({ url, connections, duration: SECONDS, requests });
  rows.push(`| HTTP, ${connections} connection${connections === 1 ? '' : 's'} | ${fmt(result.latency.mean, 3)} | ${fmt(result.latency.p50, 0)} | ${fmt(result.latency.p99, 0)} | ${fmt(result.requests.average, 0)} | ${result.non2xx} |`);
}
server.kill('SIGTERM');
await new Promise((resolve) => server.on('exit', resolve));
rmSync(dir, { recursive: true, force: true });

const p50 = median(inProcess);
console.log(`\nN=${N} x ${DIM} clustered, HNSW32 efSearch 64, k=10, ${queries.length} distinct query vectors, ${SECONDS} s per HTTP run\n`);
console.log('| path | mean ms | p50 ms | p99 ms | queries/s | errors |');
console.log('|---|---|---|---|---|---|');
console.log(`| in-process, one thread | ${fmt(inProcess.reduce((a, b) => a + b, 0) / inProcess.length, 3)} | ${fmt(p50, 3)} | ${fmt(percentile(inProcess, 99), 3)} | ${fmt(1000 / p50, 0)} (1/p50) | 0 |`);
for (const row of rows) console.log(row);
console.log('\n(autocannon reports p50/p99 in whole milliseconds; its mean is precise.)');
