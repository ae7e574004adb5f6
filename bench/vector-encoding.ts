/**
 * Vectors as JSON numbers against the same vectors as base64 float32 (OpenAI's encoding_format
 * "base64"), in the two places where reading them is on the hot path, measured side by side:
 * - `piramid ingest` (the real CLI, one process per run) of GloVe-100 JSONL, runs alternating;
 * - one query at a time to `piramid serve` (undici, one kept-alive connection) on flat collections
 *   of 100 and 1536 dimensions, passes alternating; `took_ms` is the search inside the server.
 *
 * Run: npm run build && node dist/bench/vector-encoding.js [--n 100000] [--runs 5] [--passes 6]
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'undici';
import { Database } from '../src/index.js';
import { encodeVectorBase64 } from '../src/engine/vector-base64.js';
import { PROJECT_ROOT } from '../test/helpers/cli.js';
import { startServe } from '../test/helpers/serve.js';
import { loadDataset } from './ann/dataset.js';
import { fmt, median, timedPass } from './stats.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '100000' }, runs: { type: 'string', default: '5' }, passes: { type: 'string', default: '6' } } });
const N = Number(values.n);
const RUNS = Number(values.runs);
const PASSES = Number(values.passes);
const ENCODINGS = ['JSON numbers', 'base64 float32'] as const;
type Encoding = (typeof ENCODINGS)[number];
const encode = (encoding: Encoding, vector: ArrayLike<number>): number[] | string => (encoding === 'JSON numbers' ? Array.from(vector) : encodeVectorBase64(vector));
const work = mkdtempSync(join(tmpdir(), 'piramid-bench-encoding-'));

async function writeJsonl(file: string, encoding: Encoding, data: { n: number; dim: number; base: Float32Array }): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < data.n; i++) {
    const line = `${JSON.stringify({ id: String(i), vector: encode(encoding, data.base.subarray(i * data.dim, (i + 1) * data.dim)) })}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Seconds of one `piramid ingest` into a fresh flat collection, as the command reports it. */
function ingestSeconds(file: string, dim: number): number {
  const dataDir = join(work, 'ingest');
  rmSync(dataDir, { recursive: true, force: true });
  const cli = (args: string[]): string => execFileSync(process.execPath, [join(PROJECT_ROOT, 'bin/run.js'), ...args, '--data-dir', dataDir], { encoding: 'utf8' });
  cli(['create', 'v', '--dim', String(dim), '--index', 'flat', '--embedder', 'none']);
  return (JSON.parse(cli(['ingest', file, '-c', 'v', '--json'])) as { took_ms: number }).took_ms / 1000;
}

try {
  const data = loadDataset({ n: N, nq: 10 });
  const files = Object.fromEntries(ENCODINGS.map((e, i) => [e, join(work, `glove-${i}.jsonl`)])) as Record<Encoding, string>;
  for (const encoding of ENCODINGS) await writeJsonl(files[encoding], encoding, data);
  const ingest = Object.fromEntries(ENCODINGS.map((e) => [e, [] as number[]])) as Record<Encoding, number[]>;
  for (let run = 0; run < RUNS; run++) for (const encoding of ENCODINGS) ingest[encoding].push(ingestSeconds(files[encoding], data.dim));

  const serveDir = join(work, 'serve');
  const db = await Database.open(serveDir);
  const dims = [100, 1536];
  for (const dim of dims) {
    const collection = await db.createCollection(`d${dim}`, { embedder: 'none', dimension: dim, index: 'flat' });
    await collection.upsert(Array.from({ length: 1000 }, (_, i) => ({ id: `d${i}`, vector: Array.from({ length: dim }, (_, j) => Math.cos(i * 17 + j)) })));
  }
  await db.close();
  const server = await startServe(serveDir, ['--log-level', 'warn']);
  const client = new Client(server.url);
  const rows: string[] = [];
  try {
    for (const dim of dims) {
      const queries = Array.from({ length: 500 }, (_, i) => Float32Array.from({ length: dim }, (_, j) => Math.sin(i * 131 + j * 7)));
      const bodies = Object.fromEntries(ENCODINGS.map((e) => [e, queries.map((q) => JSON.stringify({ vector: encode(e, q), k: 10 }))])) as Record<Encoding, string[]>;
      const passes = Object.fromEntries(ENCODINGS.map((e) => [e, [] as number[]])) as Record<Encoding, number[]>;
      const took = Object.fromEntries(ENCODINGS.map((e) => [e, [] as number[]])) as Record<Encoding, number[]>;
      for (let pass = 0; pass <= PASSES; pass++) {
        for (const encoding of ENCODINGS) {
          const latencies = await timedPass(bodies[encoding], async (body) => {
            const response = await client.request({ path: `/v1/collections/d${dim}/query`, method: 'POST', headers: { 'content-type': 'application/json' }, body });
            const answer = (await response.body.json()) as { took_ms: number };
            if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}: ${JSON.stringify(answer)}`);
            if (pass > 0) took[encoding].push(answer.took_ms);
          });
          if (pass > 0) passes[encoding].push(median(latencies)); // pass 0 warms up
        }
      }
      const [json, base64] = ENCODINGS.map((e) => median(passes[e]) * 1000);
      for (const encoding of ENCODINGS) {
        const p50 = median(passes[encoding]) * 1000;
        rows.push(`| query over HTTP, ${dim} dims | ${encoding} | ${Buffer.byteLength(bodies[encoding][0] ?? '')} B | ${fmt(p50, 0)} µs | ${fmt(median(took[encoding]) * 1000, 0)} µs | ${encoding === 'base64 float32' ? `${fmt((json ?? 0) - (base64 ?? 0), 0)} µs less` : ''} |`);
      }
    }
  } finally {
    await client.close();
    await server.stop();
  }

  const [jsonIngest, base64Ingest] = ENCODINGS.map((e) => median(ingest[e]));
  console.log(`\n${N} GloVe-100 vectors; ingest: ${RUNS} runs each, alternating; queries: 500 × ${PASSES} passes each, alternating, medians of pass p50s\n`);
  console.log('| what | vectors as | body / file | p50 or time | search inside | base64 vs JSON |');
  console.log('|---|---|---|---|---|---|');
  for (const encoding of ENCODINGS) {
    const seconds = median(ingest[encoding]);
    const ratio = encoding === 'base64 float32' ? `${fmt((jsonIngest ?? 0) / (base64Ingest ?? 1), 2)}× faster` : '';
    console.log(`| \`piramid ingest\` JSONL into flat | ${encoding} | ${fmt(statSync(files[encoding]).size / 1e6, 0)} MB | ${fmt(seconds, 2)} s (${fmt(N / seconds, 0)}/s; runs ${ingest[encoding].map((s) => fmt(s, 2)).join(' / ')}) | | ${ratio} |`);
  }
  for (const row of rows) console.log(row);
} finally {
  rmSync(work, { recursive: true, force: true });
}
