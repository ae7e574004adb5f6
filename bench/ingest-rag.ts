/**
 * RAG ingest throughput: text documents chunked and embedded, through the engine API.
 *   - the built-in model (USE Lite, WebAssembly) on fixtures/docs.jsonl
 *   - an OpenAI-protocol server in a child process that returns vectors at once (the floor: what
 *     piramid itself costs around a fast model server)
 *   - the same texts again under new ids: every embedding comes from the cache
 *
 * Run: npm run build && node dist/bench/ingest-rag.js [--docs 200] [--chunk-size 400]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Database, createEmbedderFactory, type DocumentInput } from '../src/index.js';
import { fmt, nowMs } from './stats.js';

const { values } = parseArgs({ options: { docs: { type: 'string', default: '200' }, 'chunk-size': { type: 'string', default: '400' } } });
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const docs = readFileSync(join(ROOT, 'fixtures/docs.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .slice(0, Number(values.docs))
  .map((line) => JSON.parse(line) as DocumentInput);
const chunking = { size: Number(values['chunk-size']), overlap: 50 };
const chars = docs.reduce((sum, d) => sum + (d.text?.length ?? 0), 0);

/** A tiny OpenAI-protocol embedding server in its own process: 384-d vectors from a text hash. */
async function startVectorServer(): Promise<{ url: string; stop: () => void }> {
  const script = `
    const http = require('node:http'); const crypto = require('node:crypto');
    const server = http.createServer((req, res) => { let body = ''; req.on('data', (c) => (body += c)); req.on('end', () => {
      const { input } = JSON.parse(body);
      const data = input.map((text, index) => { const seed = crypto.createHash('sha256').update(text).digest();
        return { index, embedding: Array.from({ length: 384 }, (_, i) => seed[i % 32] / 255 - 0.5 + Math.sin(i * seed[0])) }; });
      res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ data })); }); });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

interface Run {
  label: string;
  seconds: number;
  records: number;
}

async function ingestOnce(db: Database, collection: string, embedder: string, idPrefix: string): Promise<Run> {
  const target = (await db.hasCollection(collection)) ? await db.collection(collection) : await db.createCollection(collection, { embedder });
  const start = nowMs();
  let records = 0;
  for (let i = 0; i < docs.length; i += 64) {
    const batch = docs.slice(i, i + 64).map((d) => ({ ...d, id: `${idPrefix}${d.id ?? i}` }));
    records += (await target.upsert(batch, { chunking })).records;
  }
  return { label: '', seconds: (nowMs() - start) / 1000, records };
}

const rows: Run[] = [];
const server = await startVectorServer();
const dir = mkdtempSync(join(tmpdir(), 'piramid-bench-rag-'));
try {
  const db = await Database.open(dir, { embedderFactory: createEmbedderFactory({ url: server.url }) });
  for (const [label, embedder] of [
    ['built-in model (use)', 'use'],
    ['local OpenAI-protocol server', 'openai:bench-384'],
  ] as const) {
    const name = embedder.replace(/[^a-z0-9]/gi, '-');
    rows.push({ ...(await ingestOnce(db, name, embedder, 'a-')), label: `${label}, first ingest` });
    rows.push({ ...(await ingestOnce(db, name, embedder, 'b-')), label: `${label}, same texts again (cache)` });
  }
  await db.close();
} finally {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\n${docs.length} documents from fixtures/docs.jsonl (${chars} characters), chunk size ${chunking.size}/${chunking.overlap}, batches of 64\n`);
console.log('| embedder | seconds | docs/s | chunks/s | speed-up |');
console.log('|---|---|---|---|---|');
rows.forEach((run, i) => {
  const first = rows[i - (i % 2)] as Run;
  const speedUp = i % 2 === 1 ? `${fmt(first.seconds / run.seconds, 1)}×` : '';
  console.log(`| ${run.label} | ${fmt(run.seconds, 2)} | ${fmt(docs.length / run.seconds, 0)} | ${fmt(run.records / run.seconds, 0)} | ${speedUp} |`);
});
