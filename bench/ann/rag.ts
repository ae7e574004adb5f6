/**
 * The end-to-end RAG path on real text: passages of fixtures/docs.jsonl chunked and embedded with
 * the built-in model (USE Lite, in-process) through the engine API, then text queries (the golden
 * paraphrase queries, then the opening words of passages) answered end to end (embed + search),
 * beside the same queries with their vectors given (search alone) and the model alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Database, createEmbedderFactory, parseEmbedderSpec, type DocumentInput } from '../../src/index.js';
import { median, nowMs, percentile } from '../stats.js';
import { ROOT } from './env.js';
import type { Plan } from './plan.js';

export interface RagResult {
  passages: number;
  chunks: number;
  characters: number;
  chunkSize: number;
  ingestSeconds: number;
  queries: number;
  /** Text query through collection.search: the model embeds it, then the index answers. */
  endToEnd: { p50Ms: number; p99Ms: number };
  /** The same text queries again (the engine may answer the embedding from its cache). */
  cached?: { p50Ms: number; p99Ms: number };
  /** The model alone on the same texts. */
  embed: { p50Ms: number; p99Ms: number };
  /** The same queries with their vectors given. */
  search: { p50Ms: number; p99Ms: number };
  indexState: string;
}

interface Golden {
  queries: { query: string }[];
}

function summary(samples: number[]): { p50Ms: number; p99Ms: number } {
  return { p50Ms: median(samples), p99Ms: percentile(samples, 99) };
}

export async function runRag(plan: Plan, workDir: string, log: (line: string) => void): Promise<RagResult> {
  const docs = readFileSync(join(ROOT, 'fixtures', 'docs.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .slice(0, plan.rag.passages)
    .map((line) => JSON.parse(line) as DocumentInput);
  const golden = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'golden-queries.json'), 'utf8')) as Golden;
  const texts = [...golden.queries.map((q) => q.query), ...docs.map((d) => (d.text ?? '').split(/\s+/).slice(0, 12).join(' '))].slice(0, plan.rag.queries);

  const db = await Database.open(join(workDir, 'rag'));
  try {
    const collection = await db.createCollection('rag');
    log(`rag: ingest ${docs.length} passages with the built-in model, chunks of ${plan.rag.chunkSize}`);
    const start = nowMs();
    for (let i = 0; i < docs.length; i += 64) await collection.upsert(docs.slice(i, i + 64), { chunking: { size: plan.rag.chunkSize, overlap: 50 } });
    const ingestSeconds = (nowMs() - start) / 1000;
    const stats = await collection.stats();

    const request = parseEmbedderSpec('use');
    if (request === null) throw new Error('no built-in embedder');
    const embedder = await createEmbedderFactory()(request);
    const embedMs: number[] = [];
    const vectors: Float32Array[] = [];
    for (const text of texts) {
      const t = nowMs();
      const [vector] = await embedder.embed([text]);
      embedMs.push(nowMs() - t);
      if (vector !== undefined) vectors.push(vector);
    }
    await embedder.close();
    // Warm up on other texts: query embeddings are cached, the measured texts must be new to it.
    for (const text of ['a warm-up question', 'another warm-up question']) await collection.search(text, { k: 10 });
    const endToEnd: number[] = [];
    const cached: number[] = [];
    for (const samples of [endToEnd, cached]) {
      for (const text of texts) {
        const t = nowMs();
        await collection.search(text, { k: 10 });
        samples.push(nowMs() - t);
      }
    }
    const search: number[] = [];
    for (let rep = 0; rep < plan.reps; rep++) {
      for (const vector of vectors) {
        const t = nowMs();
        await collection.search(vector, { k: 10 });
        search.push(nowMs() - t);
      }
    }
    return {
      passages: docs.length,
      chunks: stats.count,
      characters: docs.reduce((sum, d) => sum + (d.text?.length ?? 0), 0),
      chunkSize: plan.rag.chunkSize,
      ingestSeconds,
      queries: texts.length,
      endToEnd: summary(endToEnd),
      cached: summary(cached),
      embed: summary(embedMs),
      search: summary(search),
      indexState: stats.indexState,
    };
  } finally {
    await db.close();
  }
}
