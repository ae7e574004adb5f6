/**
 * Measurements behind docs/embedder.md. Not a test: the test runner also loads this file, and it
 * then does nothing. Run it after `npx tsc -p tsconfig.json` with
 *
 *   node dist/bench/embedder.js --run [--cold N] [--quick]
 *
 * It prints a Markdown table on stdout. Cold-start figures come from fresh child processes, whose
 * own stdout/stderr are captured to check that loading and embedding print nothing.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(import.meta.url);
const EMBEDDER = path.join(path.dirname(HERE), '..', 'src', 'engine', 'embed', 'use-embedder.js');

type UseModule = typeof import('../src/engine/embed/use-embedder.js');

const WORDS = (
  'the of and to in is that for it as was with be by on not this are or from at which but have an they were there ' +
  'been one all their has would when if so will more can who out up about time also what into only new some could ' +
  'these other than then two first any like now such make over even most after made many just years where may well ' +
  'must through back much before good people way down should because each those take how long get work see own very ' +
  'day year still great world know life little public last state never under old help while same another might high ' +
  'system place part case group number point government company school family water room story area home fact month ' +
  'lot right study book eye job word business issue side kind head house service friend father power hour game line ' +
  'end member law car city community name president team minute idea body information parent face level office door ' +
  'health person art war history party result change morning reason research girl moment air teacher force education ' +
  'bread recipe market stock database vector search query index river mountain music garden kitchen engine cloud'
).split(' ');

/** Deterministic pseudo-sentences of `words` words. */
function texts(count: number, words: number, seed: number): string[] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    const picked = Array.from({ length: words }, () => WORDS[Math.floor(next() * WORDS.length)] ?? 'word');
    return `${picked.join(' ')}.`;
  });
}

const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const digest = (vectors: readonly Float32Array[]): string => {
  const hash = createHash('sha256');
  for (const vector of vectors) hash.update(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength));
  return hash.digest('hex').slice(0, 16);
};

interface ColdResult {
  importMs: number;
  createMs: number;
  firstQueryMs: number;
  rssMB: number;
  digest: string;
}

/** Child mode: one cold start, result written to a file so that stdout/stderr stay the embedder's. */
async function cold(resultFile: string): Promise<void> {
  const t0 = performance.now();
  const module = (await import(EMBEDDER)) as UseModule;
  const t1 = performance.now();
  const embedder = await module.createUseEmbedder();
  const t2 = performance.now();
  const [first] = await embedder.embed(['How do I bake bread?']);
  const t3 = performance.now();
  const vectors = await embedder.embed(texts(8, 15, 7));
  const result: ColdResult = {
    importMs: t1 - t0,
    createMs: t2 - t1,
    firstQueryMs: t3 - t2,
    rssMB: mb(process.memoryUsage().rss),
    digest: digest([first ?? new Float32Array(), ...vectors]),
  };
  await embedder.close();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(resultFile, JSON.stringify(result));
}

async function throughput(module: UseModule, quick: boolean): Promise<void> {
  const short = texts(quick ? 128 : 256, 15, 1);
  const para = texts(quick ? 32 : 96, 150, 2);
  const rows: string[] = [];
  let peak = 0;
  for (const batch of [1, 16, 32, 64]) {
    // maxBatchTokens high enough that maxBatchSize alone sets the model's batch.
    const embedder = await module.createUseEmbedder({ maxBatchSize: batch, maxBatchTokens: 1 << 30 });
    const cells: string[] = [];
    for (const set of [short, para]) {
      await embedder.embed(set.slice(0, batch)); // warm the shapes
      const count = batch === 1 ? Math.min(set.length, quick ? 16 : 48) : set.length;
      const t0 = performance.now();
      for (let at = 0; at < count; at += batch) await embedder.embed(set.slice(at, Math.min(at + batch, count)));
      const seconds = (performance.now() - t0) / 1000;
      cells.push((count / seconds).toFixed(1));
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    rows.push(`| ${batch} | ${cells.join(' | ')} | ${mb(peak)} |`);
    await embedder.close();
  }
  console.log('\n### Throughput (sentences/s, one process, warm)\n');
  console.log(`short = ${short.length} texts of 15 words; paragraph = ${para.length} texts of 150 words.\n`);
  console.log('| model batch | short | paragraph | peak RSS so far (MB) |');
  console.log('| ---: | ---: | ---: | ---: |');
  for (const row of rows) console.log(row);

  // Mixed lengths: the default embedder groups texts by length; input-order batches pad the short ones.
  const mixed = texts(quick ? 60 : 120, 15, 3).map((text, i) => (i % 6 === 0 ? texts(1, 400, 100 + i)[0] ?? text : text));
  const embedder = await module.createUseEmbedder();
  await embedder.embed(mixed.slice(0, 4));
  let t0 = performance.now();
  const grouped = await embedder.embed(mixed);
  const groupedSeconds = (performance.now() - t0) / 1000;
  // One call per input-order slice of 32, each made a single model batch by a huge token budget.
  const unbucketed = await module.createUseEmbedder({ maxBatchTokens: 1 << 30 });
  await unbucketed.embed(mixed.slice(0, 4));
  t0 = performance.now();
  const inOrder: Float32Array[] = [];
  for (let at = 0; at < mixed.length; at += 32) inOrder.push(...(await unbucketed.embed(mixed.slice(at, at + 32))));
  const inOrderSeconds = (performance.now() - t0) / 1000;
  await unbucketed.close();
  let diff = 0;
  grouped.forEach((vector, i) => vector.forEach((value, j) => (diff = Math.max(diff, Math.abs(value - (inOrder[i]?.[j] ?? 0))))));
  console.log(`\nMixed lengths (${mixed.length} texts, 1 in 6 of 400 words): grouped by length ${(mixed.length / groupedSeconds).toFixed(1)}/s, ` +
    `input-order batches of 32 ${(mixed.length / inOrderSeconds).toFixed(1)}/s; max |difference| ${diff.toExponential(1)}.`);

  // Output properties.
  const sample = await embedder.embed(short.slice(0, 64));
  const norms = sample.map((vector) => Math.hypot(...vector));
  const again = await embedder.embed(short.slice(0, 64));
  const singles: Float32Array[] = [];
  for (const text of short.slice(0, 16)) singles.push(...(await embedder.embed([text])));
  let batchVsSingle = 0;
  singles.forEach((vector, i) => vector.forEach((value, j) => (batchVsSingle = Math.max(batchVsSingle, Math.abs(value - (sample[i]?.[j] ?? 0))))));
  console.log(`\nNorms of 64 vectors: min ${Math.min(...norms).toFixed(7)}, max ${Math.max(...norms).toFixed(7)}. ` +
    `Same call twice bit-identical: ${digest(sample) === digest(again)}. Batch vs single max |difference|: ${batchVsSingle.toExponential(1)}.`);
  await embedder.close();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const childAt = args.indexOf('--child');
  if (childAt !== -1) return cold(args[childAt + 1] ?? '');
  if (!args.includes('--run')) return; // loaded by the test runner: nothing to do
  const quick = args.includes('--quick');
  const coldRuns = Number(args[args.indexOf('--cold') + 1]) || (quick ? 3 : 5);

  const work = mkdtempSync(path.join(tmpdir(), 'piramid-use-bench-'));
  const results: ColdResult[] = [];
  let printed = 0;
  try {
    for (let run = 0; run < coldRuns; run++) {
      const file = path.join(work, `cold-${run}.json`);
      const child = spawnSync(process.execPath, [HERE, '--child', file], {
        encoding: 'utf8',
        // A dead proxy: any attempt to reach the network fails instead of succeeding quietly.
        env: { ...process.env, HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9' },
      });
      if (child.status !== 0) throw new Error(`cold run ${run} failed (${child.status}): ${child.stderr}`);
      printed += child.stdout.length + child.stderr.length;
      results.push(JSON.parse(readFileSync(file, 'utf8')) as ColdResult);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const digests = new Set(results.map((r) => r.digest));
  console.log(`## use embedder (${process.version}, ${process.platform}-${process.arch})\n`);
  console.log(`### Cold start (median of ${coldRuns} fresh processes)\n`);
  console.log('| import use-embedder.js | createUseEmbedder() | first 1-text embed | RSS after (MB) |');
  console.log('| ---: | ---: | ---: | ---: |');
  console.log(`| ${median(results.map((r) => r.importMs)).toFixed(1)} ms | ${median(results.map((r) => r.createMs)).toFixed(0)} ms | ` +
    `${median(results.map((r) => r.firstQueryMs)).toFixed(0)} ms | ${median(results.map((r) => r.rssMB))} |`);
  console.log(`\nBytes the children printed on stdout+stderr: ${printed}. Vector digests across processes: ${digests.size === 1 ? 'identical' : `DIFFER (${[...digests].join(', ')})`}.`);

  await throughput((await import(EMBEDDER)) as UseModule, quick);
}

await main();
