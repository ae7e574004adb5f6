import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Database } from '../../src/index.js';
import { PROJECT_ROOT, fixture, parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

interface IngestJson {
  created: boolean;
  read: number;
  added: number;
  updated: number;
  unchanged: number;
  skipped: number;
  records: number;
  pruned: number;
  interrupted: boolean;
}

describe('folder ingest', () => {
  it('reads .md/.txt/.html recursively, skips unchanged files, replaces edited ones and prunes removed ones', async () => {
    const work = await tempDir();
    const folder = join(work, 'docs');
    await cp(fixture('folder'), folder, { recursive: true });
    const dataDir = join(work, 'data');
    const ingest = (...extra: string[]) => runCli(['ingest', folder, '-c', 'kb', '--chunk-size', '300', '--chunk-overlap', '40', '--json', ...extra], { dataDir });

    const first = await ingest();
    assert.equal(first.code, 0, first.stderr);
    const summary = parseJson<IngestJson>(first);
    assert.deepEqual([summary.created, summary.read, summary.added, summary.skipped], [true, 4, 4, 0]); // catalog.json is not read
    assert.ok(summary.records > 4, `long files are chunked: ${summary.records} records`);

    const db = await Database.open(dataDir);
    const kb = await db.collection('kb');
    const [intro, html] = await kb.get(['guide/intro.md#0', 'history.html']);
    assert.equal(intro?.parent, 'guide/intro.md');
    assert.equal(intro?.metadata?.title, 'Getting started with the lighthouse');
    assert.equal(intro?.metadata?.format, 'markdown');
    assert.match(String(intro?.metadata?.mtime), /^\d{4}-\d\d-\d\dT/);
    assert.equal(html?.metadata?.title, 'History of the cape light');
    assert.doesNotMatch(html?.text ?? '', /console\.log|color:#333|Home \|/);
    assert.match(html?.text ?? '', /Fresnel lens/);
    const hits = (await kb.search('what happens when fog hides the light', { k: 3, groupByDocument: true })).hits;
    assert.equal(hits[0]?.parent, 'guide/intro.md');
    await db.close();

    const grouped = await runCli(['query', 'the keeper and the lamp', '-c', 'kb', '-k', '3', '--group-by-doc', '--json'], { dataDir });
    const groupedHits = parseJson<{ hits: { id: string; parent?: string }[] }>(grouped).hits;
    const parents = groupedHits.map((h) => h.parent ?? h.id);
    assert.equal(new Set(parents).size, 3);

    // Nothing changed: nothing is embedded or written.
    const again = parseJson<IngestJson>(await ingest());
    assert.deepEqual([again.added, again.updated, again.unchanged, again.records], [0, 0, 4, 0]);

    // One file edited, one removed: the edit replaces all its chunks; --prune removes the other.
    await writeFile(join(folder, 'guide', 'storms.md'), '# Storm procedure\n\nIn a storm the keeper now radios the coast guard every hour.\n');
    await rm(join(folder, 'supplies.txt'));
    const changed = parseJson<IngestJson>(await ingest('--prune'));
    assert.deepEqual([changed.added, changed.updated, changed.unchanged, changed.pruned], [0, 1, 2, 1]);
    const after = await Database.open(dataDir);
    const kb2 = await after.collection('kb');
    const [storms, oldChunk, supplies] = await kb2.get(['guide/storms.md', 'guide/storms.md#0', 'supplies.txt']);
    assert.match(storms?.text ?? '', /radios the coast guard/);
    assert.equal(oldChunk, undefined);
    assert.equal(supplies, undefined);
    assert.equal((await kb2.stats()).documents, 3);
    await after.close();

    // --glob narrows what is read.
    const onlyMd = await runCli(['ingest', folder, '-c', 'md', '--glob', '**/*.md', '--json'], { dataDir });
    assert.equal(parseJson<IngestJson>(onlyMd).read, 2);
  });
});

describe('other input shapes', () => {
  it('reads a JSON array file, naming the item of a bad document', async () => {
    const dir = await tempDir();
    const file = join(dir, 'docs.json');
    await writeFile(file, JSON.stringify([{ id: 'a', vector: [1, 0] }, { id: 'b', vector: [0, 1] }, { id: 'c', vector: [1] }]));
    const result = await runCli(['ingest', file, '-c', 'arr', '--json'], { dataDir: join(dir, 'data') });
    assert.equal(result.code, 4);
    const error = parseJson<{ error: { location: { item: number; field: string } } }>(result).error;
    assert.deepEqual([error.location.item, error.location.field], [2, 'vector']);
    const human = await runCli(['ingest', file, '-c', 'arr2'], { dataDir: join(dir, 'data') });
    assert.match(human.stderr, /docs\.json, item 2, field "vector"/);
  });

  it('maps other JSONL shapes with --text-field and --id-field, keeping the rest as metadata', async () => {
    const dir = await tempDir();
    const file = join(dir, 'faq.jsonl');
    await writeFile(file, ['{"qid": 7, "answer": "Trim the wick daily.", "topic": "lamp"}', '{"qid": 8, "answer": "Two blasts a minute.", "topic": "fog"}'].join('\n'));
    const dataDir = join(dir, 'data');
    const strict = await runCli(['ingest', file, '-c', 'faq'], { dataDir });
    assert.equal(strict.code, 4);
    assert.match(strict.stderr, /line 1, field "qid": unknown field/);
    const mapped = await runCli(['ingest', file, '-c', 'faq', '--text-field', 'answer', '--id-field', 'qid', '--json'], { dataDir });
    assert.equal(mapped.code, 0, mapped.stderr);
    const db = await Database.open(dataDir);
    const [seven] = await (await db.collection('faq')).get(['7']);
    assert.deepEqual(seven, { id: '7', text: 'Trim the wick daily.', metadata: { topic: 'lamp' } });
    await db.close();
  });
});

describe('resumable ingest', () => {
  it('after a kill, every acknowledged batch is searchable and a re-run finishes without duplicates', async () => {
    const dir = await tempDir();
    const file = join(dir, 'big.jsonl');
    const total = 6000;
    const lines = Array.from({ length: total }, (_, i) => JSON.stringify({ vector: [Math.sin(i), Math.cos(i), Math.sin(i / 7), 1], metadata: { i } }));
    await writeFile(file, `${lines.join('\n')}\n`);
    const dataDir = join(dir, 'data');

    // Ingest in small synced batches, and kill -9 the process once a few batches are acknowledged.
    const child = spawn(process.execPath, [`${PROJECT_ROOT}bin/run.js`, 'ingest', file, '-c', 'big', '--batch', '100', '--sync', '--verbose', '--data-dir', dataDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let acknowledged = 0;
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        for (const match of chunk.matchAll(/acknowledged through .*line (\d+)/g)) acknowledged = Math.max(acknowledged, Number(match[1]));
        if (acknowledged >= 1500 && child.exitCode === null) child.kill('SIGKILL');
      });
      child.on('close', () => resolve());
    });
    assert.ok(acknowledged >= 1500, `acknowledged ${acknowledged}\n${stderr}`);
    assert.ok(acknowledged < total, 'the kill came before the end');

    const db = await Database.open(dataDir);
    const big = await db.collection('big');
    const stored = await big.count();
    assert.ok(stored >= acknowledged, `stored ${stored} < acknowledged ${acknowledged}`);
    // Every acknowledged line's document is there, and found by its own vector.
    for (const i of [0, 777, acknowledged - 1]) {
      const { hits } = await big.search([Math.sin(i), Math.cos(i), Math.sin(i / 7), 1], { k: 1 });
      assert.equal(hits[0]?.metadata?.i, i);
    }
    await db.close();

    const rerun = parseJson<IngestJson>(await runCli(['ingest', file, '-c', 'big', '--json'], { dataDir }));
    assert.equal(rerun.unchanged, stored);
    assert.equal(rerun.added, total - stored);
    const info = parseJson<{ count: number; documents: number }>(await runCli(['info', 'big', '--json'], { dataDir }));
    assert.deepEqual([info.count, info.documents], [total, total]);
  });

  it('stops after the batch in hand on SIGINT, exits 130, and says how to finish', async () => {
    const dir = await tempDir();
    const file = join(dir, 'big.jsonl');
    await writeFile(file, `${Array.from({ length: 20000 }, (_, i) => JSON.stringify({ vector: [i, 1] })).join('\n')}\n`);
    const child = spawn(process.execPath, [`${PROJECT_ROOT}bin/run.js`, 'ingest', file, '-c', 'big', '--batch', '50', '--sync', '--verbose', '--data-dir', join(dir, 'data')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        if (/acknowledged through/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('close', (exit) => resolve(exit));
    });
    assert.equal(code, 130, stderr);
    assert.match(stderr, /Interrupted: ingested/);
    assert.match(stderr, /Run the same command again to finish/);
  });
});

describe('HTTP embedders through the CLI', () => {
  it('creates with openai:<model> (dimension discovered), ingests, queries, and never stores the API key', async () => {
    const { createServer } = await import('node:http');
    const requests: { auth: string | undefined; inputs: string[] }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const { input } = JSON.parse(body) as { input: string[] };
        requests.push({ auth: req.headers.authorization, inputs: input });
        // Deterministic 8-dim vectors: one slot per letter class, so similar words score higher.
        const data = input.map((text, index) => ({ index, embedding: Array.from({ length: 8 }, (_, d) => [...text].filter((c) => c.charCodeAt(0) % 8 === d).length + 0.01) }));
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ data }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    try {
      const dir = await tempDir();
      const dataDir = join(dir, 'data');
      const env = { PIRAMID_EMBED_URL: url, PIRAMID_EMBED_API_KEY: 'sk-secret-test-key' };
      const created = await runCli(['create', 'remote', '--embedder', 'openai:test-embed', '--json'], { dataDir, env });
      assert.equal(created.code, 0, created.stderr);
      assert.equal(parseJson<{ dimension: number; embedder: string }>(created).dimension, 8);

      const file = join(dir, 'docs.jsonl');
      await writeFile(file, ['{"id":"a","text":"aaaa bbbb"}', '{"id":"b","text":"cccc dddd"}', '{"id":"c","text":"aaaa bbbb"}'].join('\n'));
      const ingested = await runCli(['ingest', file, '-c', 'remote', '--json'], { dataDir, env });
      assert.equal(ingested.code, 0, ingested.stderr);
      const query = parseJson<{ hits: { id: string }[] }>(await runCli(['query', 'cccc dddd', '-c', 'remote', '-k', '1', '--json'], { dataDir, env }));
      assert.equal(query.hits[0]?.id, 'b');
      assert.ok(requests.every((r) => r.auth === 'Bearer sk-secret-test-key'));
      // The dimension probe, then one batch of the two distinct texts. The duplicate text, and the
      // query (the same words as document b), were answered from the cache.
      assert.deepEqual(requests.map((r) => r.inputs.length), [1, 2]);

      // Same texts under new ids: answered from the cache, no request.
      await writeFile(file, ['{"id":"a2","text":"aaaa bbbb"}', '{"id":"b2","text":"cccc dddd"}'].join('\n'));
      await runCli(['ingest', file, '-c', 'remote'], { dataDir, env });
      assert.equal(requests.length, 2);
      const info = parseJson<{ embedding_cache: { entries: number; hits: number } }>(await runCli(['info', 'remote', '--json'], { dataDir }));
      assert.equal(info.embedding_cache.entries, 2); // the two distinct document texts

      // Nothing in the data folder holds the key or the URL.
      const { readdir } = await import('node:fs/promises');
      for (const entry of await readdir(dataDir, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const bytes = await readFile(join(entry.parentPath, entry.name));
        assert.ok(!bytes.includes('sk-secret-test-key'), `API key found in ${entry.name}`);
        assert.ok(!bytes.includes(url), `URL found in ${entry.name}`);
      }

      // Server gone: a clear error and the embedder exit code.
      const down = await runCli(['query', 'aaaa', '-c', 'remote'], { dataDir, env: { PIRAMID_EMBED_URL: 'http://127.0.0.1:9' } });
      assert.equal(down.code, 7, down.stderr);
    } finally {
      server.close();
    }
  });
});
