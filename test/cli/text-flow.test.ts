import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Database } from '../../src/index.js';
import { fixture, parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

interface Golden {
  query: string;
  expected: string[];
}

interface ErrorJson {
  error: { code: string; message: string; location?: { file?: string; line?: number; field?: string } };
}

describe('CLI with the built-in model', () => {
  let dataDir: string;
  let docCount: number;

  before(async () => {
    dataDir = await tempDir();
    docCount = (await readFile(fixture('docs.jsonl'), 'utf8')).trim().split('\n').length;
  });

  it('runs the demo flow: ingest the fixture corpus, then query it', async () => {
    const ingest = await runCli(['ingest', fixture('docs.jsonl'), '-c', 'docs', '--json'], { dataDir });
    assert.equal(ingest.code, 0, ingest.stderr);
    const summary = parseJson<{ created: boolean; added: number; skipped: number }>(ingest);
    assert.deepEqual([summary.created, summary.added, summary.skipped], [true, docCount, 0]);

    const info = parseJson<{ embedder: string; dimension: number; count: number }>(await runCli(['info', 'docs', '--json'], { dataDir }));
    assert.equal(info.count, docCount);
    assert.equal(info.dimension, 512);
    assert.match(info.embedder, /^use:/);

    const query = await runCli(['query', 'landing an astronaut on the moon', '-c', 'docs', '-k', '3', '--json'], { dataDir });
    assert.equal(query.code, 0, query.stderr);
    const result = parseJson<{ hits: { id: string; score: number; text: string; metadata: { source: string } }[] }>(query);
    assert.equal(result.hits.length, 3);
    assert.equal(result.hits[0]?.id, 'sotu-1962-kennedy-p26');
    assert.equal(result.hits[0]?.metadata.source, 'sotu');
    assert.ok((result.hits[0]?.text.length ?? 0) > 100);

  });

  // The golden queries were written as paraphrases, before any model saw them. The built-in model
  // (USE Lite, whole ~1000-character passages) finds 10 of 15 in its top 5 and the right source
  // for all 15 as its first hit; these assertions sit just under that, so a broken tokenizer,
  // model or index fails them (a random ranking scores ~0.01 and ~1/3).
  it('finds the golden passages: the right source first for every query, most in the top 5', async () => {
    const golden = JSON.parse(await readFile(fixture('golden-queries.json'), 'utf8')) as { queries: Golden[] };
    assert.ok(golden.queries.length >= 8);
    const db = await Database.open(dataDir);
    try {
      const docs = await db.collection('docs');
      let found = 0;
      const wrongSource: string[] = [];
      for (const { query, expected } of golden.queries) {
        const hits = (await docs.search(query, { k: 5 })).hits;
        if (expected.some((id) => hits.some((hit) => hit.id === id))) found += 1;
        const [expectedDoc] = await docs.get([expected[0] as string]);
        if (hits[0]?.metadata?.source !== expectedDoc?.metadata?.source) wrongSource.push(query);
      }
      assert.deepEqual(wrongSource, []);
      assert.ok(found / golden.queries.length >= 0.6, `golden passages in top 5: ${found} of ${golden.queries.length}`);
    } finally {
      await db.close();
    }
  });

  // fixtures/hybrid.jsonl: six passages about pumps failing with errors, and one billing passage
  // whose only tie to the query is the rare code XK-4471. Measured: vector ranks it 7th, keyword
  // 1st, hybrid (RRF) 4th.
  it('finds a rare keyword with keyword and hybrid search that vector search alone misses', async () => {
    const dir = await tempDir();
    const ingest = await runCli(['ingest', fixture('hybrid.jsonl'), '-c', 'support'], { dataDir: dir });
    assert.equal(ingest.code, 0, ingest.stderr);
    const run = async (mode: string) => {
      const result = await runCli(['query', 'my pump fails with error XK-4471', '-c', 'support', '-k', '5', '--mode', mode, '--json'], { dataDir: dir });
      assert.equal(result.code, 0, result.stderr);
      return parseJson<{ hits: { id: string }[]; plan: { mode: string } }>(result);
    };
    const vector = await run('vector');
    assert.ok(!vector.hits.some((h) => h.id === 'billing-2'), `vector: ${vector.hits.map((h) => h.id).join(', ')}`);
    const keyword = await run('keyword');
    assert.equal(keyword.hits[0]?.id, 'billing-2');
    assert.equal(keyword.plan.mode, 'keyword');
    const hybrid = await run('hybrid');
    assert.ok(hybrid.hits.some((h) => h.id === 'billing-2'), `hybrid: ${hybrid.hits.map((h) => h.id).join(', ')}`);
    assert.ok(hybrid.hits.some((h) => h.id.startsWith('pump-')), 'and keeps the semantic matches');
  });

  it('filters with --where, explains the plan, and points at the column of a syntax error', async () => {
    const result = await runCli(['query', 'war and peace', '-c', 'docs', '-k', '8', '--where', 'source = "sotu" and year >= 1960', '--json'], { dataDir });
    assert.equal(result.code, 0, result.stderr);
    const { hits, plan } = parseJson<{ hits: { metadata: { source: string; year: number } }[]; plan: { strategy: string; filter: string } }>(result);
    assert.equal(hits.length, 8);
    assert.ok(hits.every((h) => h.metadata.source === 'sotu' && h.metadata.year >= 1960));
    assert.equal(plan.strategy, 'ann-postfilter');

    const explained = await runCli(['query', 'war', '-c', 'docs', '-k', '2', '--where', 'year < 1900', '--explain'], { dataDir });
    assert.match(explained.stderr, /plan: \{"mode":"vector","strategy":"ann-postfilter"/);

    const bad = await runCli(['query', 'war', '-c', 'docs', '--where', 'year >= and source = "sotu"'], { dataDir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /column 9/);
  });

  it('prints context for a prompt within --max-chars, and JSONL', async () => {
    const context = await runCli(['query', 'the white whale', '-c', 'docs', '-k', '3', '--format', 'context', '--max-chars', '900'], { dataDir });
    assert.equal(context.code, 0, context.stderr);
    assert.ok(context.stdout.trimEnd().length <= 900, `${context.stdout.length} characters`);
    assert.match(context.stdout, /^\[1\] .*moby-dick/);
    const jsonl = await runCli(['query', 'the white whale', '-c', 'docs', '-k', '3', '--format', 'jsonl'], { dataDir });
    const lines = jsonl.stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: string; score: number });
    assert.equal(lines.length, 3);
    assert.ok(lines.every((hit) => typeof hit.id === 'string' && typeof hit.score === 'number'));
  });

  it('runs a batch of queries from a file, and one query per stdin line in a pipe', async () => {
    const dir = await tempDir();
    const file = join(dir, 'queries.jsonl');
    await writeFile(file, ['{"id": "q1", "text": "landing an astronaut on the moon", "k": 2}', '{"id": "q2", "text": "foreign keys", "where": "source = \\"sqlite-docs\\"", "k": 1}', 'plain text query'].join('\n'));
    const batch = await runCli(['query', '-c', 'docs', '--queries', file], { dataDir });
    assert.equal(batch.code, 0, batch.stderr);
    const results = batch.stdout.trim().split('\n').map((line) => JSON.parse(line) as { id?: string; query: string; took_ms: number; hits: { id: string; metadata: { source: string } }[] });
    assert.deepEqual(results.map((r) => [r.id, r.hits.length]), [['q1', 2], ['q2', 1], [undefined, 10]]);
    assert.equal(results[0]?.hits[0]?.id, 'sotu-1962-kennedy-p26');
    assert.equal(results[1]?.hits[0]?.metadata.source, 'sqlite-docs');
    assert.ok(results.every((r) => r.took_ms > 0));

    const piped = await runCli(['query', '-c', 'docs', '-k', '1'], { dataDir, stdin: 'the white whale\nvacuum the database\n' });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout.trim().split('\n').length, 2);
  });

  it('keeps state in the interactive shell across commands', async () => {
    const script = [':k 2', 'landing an astronaut on the moon', ':where source = "sqlite-docs"', ':json', 'database file', ':mode keyword', 'Rayburn', ':use nope', ':quit'].join('\n');
    // (--shell: a shell on a pipe, as a terminal would run it)
    const shell = await runCli(['query', '-c', 'docs', '--shell'], { dataDir, stdin: `${script}\n` });
    assert.equal(shell.code, 0, shell.stderr);
    const out = shell.stdout;
    assert.match(out, /k = 2/);
    assert.match(out, /sotu-1962-kennedy-p26/);
    assert.match(out, /2 hits in [\d.]+ ms/);
    assert.match(out, /filter: source = "sqlite-docs"/);
    const json = out.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { hits: { metadata: { source: string } }[]; plan: { mode: string } });
    assert.equal(json.length, 2);
    assert.ok(json[0]?.hits.every((h) => h.metadata.source === 'sqlite-docs'));
    assert.equal(json[1]?.plan.mode, 'keyword');
    assert.equal(json[1]?.hits.length, 0); // "Rayburn" is in a sotu passage, and the filter wants sqlite-docs
    assert.match(out, /Collection "nope" does not exist/);
  });

  const badFiles: [string, number, string | undefined, RegExp][] = [
    ['malformed.jsonl', 3, undefined, /not valid JSON/],
    ['missing-text.jsonl', 2, undefined, /needs a non-empty "text" or a "vector"/],
    ['bad-id.jsonl', 2, 'id', /id must be a non-empty string/],
    ['empty-id.jsonl', 2, 'id', /id must be a non-empty string/],
  ];
  for (const [file, line, field, message] of badFiles) {
    it(`stops at line ${line} of bad/${file}, keeping the good lines before it`, async () => {
      const dir = await tempDir();
      const result = await runCli(['ingest', fixture(`bad/${file}`), '-c', 'bad', '--json'], { dataDir: dir });
      assert.equal(result.code, 4, result.stderr);
      const error = parseJson<ErrorJson>(result).error;
      assert.equal(error.code, 'INVALID_INPUT');
      assert.equal(error.location?.line, line);
      assert.equal(error.location?.field, field);
      assert.match(error.location?.file ?? '', new RegExp(`${file}$`));
      assert.match(error.message, message);

      const human = await runCli(['ingest', fixture(`bad/${file}`), '-c', 'bad2'], { dataDir: dir });
      assert.equal(human.code, 4);
      assert.match(human.stderr, new RegExp(`${file.replace('.', '\\.')}, line ${line}`));
      assert.equal(human.stdout, '');

      const db = await Database.open(dir);
      try {
        const bad = await db.collection('bad');
        assert.equal(await bad.count(), line - 1);
        const stored = await bad.get(['ok-1', 'ok-4']);
        assert.equal(stored[0]?.id, 'ok-1');
        assert.equal(stored[1], undefined);
      } finally {
        await db.close();
      }
    });
  }
});
