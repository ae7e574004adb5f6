import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Database } from '../../src/engine/database.js';
import { fixture, parseJson, runCli, type CliResult } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp-dir.js';

type Server = ServeProcess;
const startServer = (dataDir: string, extra: string[] = []): Promise<Server> => startServe(dataDir, extra);

/** The CLI with no server configured from the environment: only what the test passes. */
function cli(args: string[], options: { dataDir?: string; stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return runCli(args, { ...options, env: { PIRAMID_URL: '', PIRAMID_API_KEY: '', ...options.env } });
}

const SERVED = /piramid: .* is served by http:\/\/127\.0\.0\.1:\d+; using it/;

function ok(result: CliResult): CliResult {
  assert.equal(result.code, 0, `exit ${String(result.code)}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  return result;
}

function served(result: CliResult): CliResult {
  ok(result);
  assert.match(result.stderr, SERVED);
  return result;
}

function embedded(result: CliResult): CliResult {
  ok(result);
  assert.doesNotMatch(result.stderr, /is served by/);
  return result;
}

interface Stats {
  name: string;
  dimension: number;
  metric: string;
  index: string;
  count: number;
  documents: number;
  embedder: string;
}

interface QueryResult {
  collection: string;
  k: number;
  took_ms: number;
  hits: { id: string; score: number; metadata?: Record<string, unknown> }[];
  plan: Record<string, unknown>;
}

const keys = (value: object): string[] => Object.keys(value).sort();

/** A pid that surely belongs to no process: one that has just exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('close', resolve));
  assert.ok(child.pid !== undefined);
  return child.pid;
}

describe('CLI hand-off to a running piramid serve', () => {
  let served1: string;
  let server: Server;
  let plain: string; // the same commands, embedded, for comparison

  // Set up here, not with tempDir(): its cleanup would run at the end of the hook, not the suite.
  before(async () => {
    served1 = await mkdtemp(join(tmpdir(), 'piramid-handoff-'));
    plain = await mkdtemp(join(tmpdir(), 'piramid-handoff-'));
    server = await startServer(served1);
  });
  after(async () => {
    await server.stop();
    await rm(served1, { recursive: true, force: true });
    await rm(plain, { recursive: true, force: true });
  });

  it('runs list, create, ingest, query, info, delete and drop through the server holding the folder, printing what embedded prints', async () => {
    const steps: [string, string[], string?][] = [
      ['list', ['list', '--json']],
      ['create', ['create', 'images', '--embedder', 'none', '--dim', '4', '--index', 'flat', '--json']],
      ['ingest', ['ingest', fixture('vectors-4d.jsonl'), '-c', 'images', '--json']],
      ['ingest stdin', ['ingest', '-', '-c', 'images', '--json'], '{"id":"extra","vector":[0,0,0,1],"metadata":{"category":"extra"}}\n'],
      ['query', ['query', '--vector', '[1, 0, 0, 0]', '-c', 'images', '-k', '3', '--where', 'category = "fruit"', '--json']],
      ['info', ['info', 'images', '--json']],
      ['delete', ['delete', 'fruit-apple', 'nope', '-c', 'images', '--json']],
      ['drop', ['drop', 'images', '--force', '--json']],
    ];
    for (const [name, args, stdin] of steps) {
      const remote = served(await cli(args, { dataDir: served1, ...(stdin === undefined ? {} : { stdin }) }));
      const local = embedded(await cli(args, { dataDir: plain, ...(stdin === undefined ? {} : { stdin }) }));
      const r = parseJson<Record<string, unknown>>(remote);
      const l = parseJson<Record<string, unknown>>(local);
      assert.deepEqual(keys(r), keys(l), `${name}: the same JSON shape`);
      if (name === 'list') assert.deepEqual({ ...r }, { collections: [] });
      if (name === 'create') {
        assert.deepEqual(keys(r), keys(l));
        assert.equal(r.name, 'images');
        assert.equal(r.dimension, 4);
        assert.equal(r.embedder, 'none');
      }
      if (name === 'ingest') {
        assert.equal(r.added, 20);
        assert.deepEqual({ ...r, took_ms: 0 }, { ...l, took_ms: 0 });
      }
      if (name === 'query') {
        const rq = r as unknown as QueryResult;
        const lq = l as unknown as QueryResult;
        assert.equal(rq.hits.length, 3);
        assert.deepEqual(rq.hits, lq.hits);
        assert.deepEqual(rq.plan, lq.plan);
        assert.ok(rq.hits.every((hit) => hit.metadata?.category === 'fruit'));
      }
      if (name === 'info') {
        const ri = r as unknown as Stats;
        assert.equal(ri.count, 21);
        assert.deepEqual(
          { count: ri.count, documents: ri.documents, dimension: ri.dimension, metric: ri.metric, index: ri.index },
          { count: (l as unknown as Stats).count, documents: (l as unknown as Stats).documents, dimension: 4, metric: 'cosine', index: 'flat' },
        );
      }
      if (name === 'delete') assert.deepEqual(r, { collection: 'images', deleted: 1, not_found: ['nope'] });
      if (name === 'drop') assert.deepEqual(r, { dropped: 'images' });
    }
  });

  it('prints the same human table through the server', async () => {
    served(await cli(['create', 'table', '--embedder', 'none', '--dim', '4'], { dataDir: served1 }));
    const other = await tempDir();
    embedded(await cli(['create', 'table', '--embedder', 'none', '--dim', '4'], { dataDir: other }));
    served(await cli(['ingest', fixture('vectors-4d.jsonl'), '-c', 'table'], { dataDir: served1 }));
    embedded(await cli(['ingest', fixture('vectors-4d.jsonl'), '-c', 'table'], { dataDir: other }));
    const remote = served(await cli(['query', '--vector', '[0, 0, 1, 0]', '-c', 'table', '-k', '4'], { dataDir: served1 }));
    const local = embedded(await cli(['query', '--vector', '[0, 0, 1, 0]', '-c', 'table', '-k', '4'], { dataDir: other }));
    assert.equal(remote.stdout, local.stdout);
    const queries = join(other, 'queries.jsonl');
    await writeFile(queries, '{"vector":[1,0,0,0],"k":2,"id":"q1"}\n');
    const batch = served(await cli(['query', '-c', 'table', '--queries', queries], { dataDir: served1 }));
    const line = JSON.parse(batch.stdout.trim()) as QueryResult & { id: string };
    assert.equal(line.id, 'q1');
    assert.equal(line.hits.length, 2);
  });

  it('keeps error codes, exit codes and input locations through the server', async () => {
    const missing = await cli(['info', 'nope', '--json'], { dataDir: served1 });
    assert.equal(missing.code, 3, missing.stderr);
    assert.equal(parseJson<{ error: { code: string } }>(missing).error.code, 'COLLECTION_NOT_FOUND');

    const exists = await cli(['create', 'table', '--embedder', 'none', '--dim', '4', '--json'], { dataDir: served1 });
    assert.equal(exists.code, 6, exists.stderr);

    const bad = await cli(['ingest', '-', '-c', 'table', '--json'], { dataDir: served1, stdin: '{"id":"ok","vector":[1,0,0,0]}\n{"id":"short","vector":[1,0]}\n' });
    assert.equal(bad.code, 4, bad.stderr);
    assert.deepEqual(parseJson<{ error: { location: unknown } }>(bad).error.location, { file: '<stdin>', line: 2, field: 'vector' });

    const wrongKind = await cli(['index-field', 'nope', 'category', 'keyword', '--json'], { dataDir: served1 });
    assert.equal(wrongKind.code, 3, wrongKind.stderr);
  });

  it('--url targets a server from any data folder (which it does not touch)', async () => {
    const elsewhere = join(await tempDir(), 'never-created');
    const result = ok(await cli(['list', '--json', '--url', server.url], { dataDir: elsewhere }));
    assert.doesNotMatch(result.stderr, /is served by/);
    assert.ok(parseJson<{ collections: Stats[] }>(result).collections.some((c) => c.name === 'table'));
    assert.equal(existsSync(elsewhere), false);
    const viaEnv = ok(await cli(['info', 'table', '--json'], { dataDir: elsewhere, env: { PIRAMID_URL: server.url } }));
    assert.equal(parseJson<Stats>(viaEnv).name, 'table');
  });

  it('names the URL when the server cannot be reached', async () => {
    const dir = await tempDir();
    const gone = await startServer(dir);
    assert.equal(await gone.stop(), 0);
    const result = await cli(['list', '--url', gone.url]);
    assert.equal(result.code, 8, result.stderr);
    assert.match(result.stderr, new RegExp(`Cannot reach the piramid server at ${gone.url.replace(/[.]/g, '\\.')}`));
    assert.match(result.stderr, /\[IO_ERROR\]/);
  });

  it('works embedded again once the server has stopped (SIGTERM)', async () => {
    assert.equal(await server.stop(), 0);
    assert.equal(existsSync(join(served1, 'serve.json')), false);
    const list = embedded(await cli(['list', '--json'], { dataDir: served1 }));
    assert.deepEqual(
      parseJson<{ collections: Stats[] }>(list).collections.map((c) => [c.name, c.count]),
      [['table', 21]],
    );
    embedded(await cli(['drop', 'table', '--force'], { dataDir: served1 }));
  });
});

describe('index-field, cache and ingest --prune through a running piramid serve', () => {
  it('print what embedded prints', async () => {
    const servedDir = await tempDir();
    const plainDir = await tempDir();
    const folders = { served: join(await tempDir(), 'notes'), plain: join(await tempDir(), 'notes') };
    await cp(fixture('folder'), folders.served, { recursive: true });
    await cp(fixture('folder'), folders.plain, { recursive: true });
    const server = await startServer(servedDir);
    try {
      const both = async (args: (folder: string) => string[]): Promise<[CliResult, CliResult]> => [
        served(await cli(args(folders.served), { dataDir: servedDir })),
        embedded(await cli(args(folders.plain), { dataDir: plainDir })),
      ];
      const first = await both((folder) => ['ingest', folder, '-c', 'notes', '--json']);
      assert.deepEqual(omit(parseJson(first[0])), omit(parseJson(first[1])));

      const indexed = await both(() => ['index-field', 'notes', 'format', 'keyword', '--json']);
      assert.deepEqual(parseJson(indexed[0]), parseJson(indexed[1]));
      assert.equal(parseJson<{ indexed: number }>(indexed[0]).indexed > 0, true);
      const indexedText = await both(() => ['index-field', 'notes', 'format', 'keyword']);
      assert.equal(indexedText[0].stderr.replace(new RegExp(`${SERVED.source}\\n`), ''), indexedText[1].stderr);
      const query = await both(() => ['query', 'storms', '-c', 'notes', '--where', 'format = "md"', '--json']);
      assert.deepEqual(parseJson<QueryResult>(query[0]).plan.indexedKeys, ['format']);

      const cacheJson = await both(() => ['cache', 'list', '--json']);
      assert.deepEqual(parseJson(cacheJson[0]), parseJson(cacheJson[1]));
      assert.ok(parseJson<{ models: { entries: number }[] }>(cacheJson[0]).models[0]?.entries ?? 0 > 0);
      const cacheText = await both(() => ['cache', 'list']);
      assert.equal(cacheText[0].stdout, cacheText[1].stdout);

      await rm(join(folders.served, 'supplies.txt'));
      await rm(join(folders.plain, 'supplies.txt'));
      const pruned = await both((folder) => ['ingest', folder, '-c', 'notes', '--prune', '--json']);
      assert.deepEqual(omit(parseJson(pruned[0])), omit(parseJson(pruned[1])));
      assert.equal(parseJson<{ pruned: number }>(pruned[0]).pruned, 1);
      const info = await both(() => ['info', 'notes', '--json']);
      assert.equal(parseJson<Stats>(info[0]).documents, parseJson<Stats>(info[1]).documents);

      const cleared = await both(() => ['cache', 'clear']);
      assert.equal(cleared[0].stderr.replace(new RegExp(`${SERVED.source}\\n`), ''), cleared[1].stderr);
      assert.match(cleared[0].stderr, /Removed \d+ cached embeddings?/);
      const empty = served(await cli(['cache', 'list'], { dataDir: servedDir }));
      assert.match(empty.stdout, /The embedding cache is empty\./);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});

/** An ingest --json answer without its timings (which differ run to run). */
function omit(json: unknown): unknown {
  const { took_ms: _took, done: _done, ...rest } = json as Record<string, unknown>;
  return rest;
}

describe('a stale serve.json', () => {
  it('is ignored when the folder is not locked: the command opens it', async () => {
    const dir = await tempDir();
    embedded(await cli(['create', 'v', '--embedder', 'none', '--dim', '2'], { dataDir: dir }));
    await writeFile(join(dir, 'serve.json'), JSON.stringify({ url: 'http://127.0.0.1:9', pid: await deadPid(), started: new Date().toISOString() }));
    const result = embedded(await cli(['list', '--json'], { dataDir: dir }));
    assert.deepEqual(parseJson<{ collections: Stats[] }>(result).collections.map((c) => c.name), ['v']);
  });

  it('leaves DATABASE_LOCKED standing when the folder is locked by something that is not a server', async () => {
    const dir = await tempDir();
    const db = await Database.open(dir); // this test process holds the lock
    try {
      // A live pid (this one) but a URL where nothing answers.
      await writeFile(join(dir, 'serve.json'), JSON.stringify({ url: 'http://127.0.0.1:9', pid: process.pid, started: new Date().toISOString() }));
      const result = await cli(['list', '--json'], { dataDir: dir });
      assert.equal(result.code, 5, result.stderr);
      assert.equal(parseJson<{ error: { code: string } }>(result).error.code, 'DATABASE_LOCKED');
      assert.doesNotMatch(result.stderr, /is served by/);
    } finally {
      await db.close();
    }
  });
});

describe('a server with an API key', () => {
  it('is used with --api-key (or PIRAMID_API_KEY); without one the command exits 9 with UNAUTHORIZED', async () => {
    const dir = await tempDir();
    const server = await startServer(dir, ['--api-key', 's3cret']);
    try {
    const without = await cli(['list', '--json'], { dataDir: dir });
    assert.equal(without.code, 9, without.stderr);
    const error = parseJson<{ error: { code: string; message: string; hint: string } }>(without).error;
    assert.equal(error.code, 'UNAUTHORIZED');
    assert.match(error.message, /needs an API key and none was sent/);
    assert.match(error.hint, /--api-key/);

    const human = await cli(['list'], { dataDir: dir });
    assert.equal(human.code, 9);
    assert.match(human.stderr, /Error: The server at http:\/\/127\.0\.0\.1:\d+ refused the request: it needs an API key and none was sent\. \[UNAUTHORIZED\]/);

    const wrong = await cli(['list', '--json', '--api-key', 'nope'], { dataDir: dir });
    assert.equal(wrong.code, 9);
    assert.match(parseJson<{ error: { message: string } }>(wrong).error.message, /does not know the API key/);

    served(await cli(['create', 'k', '--embedder', 'none', '--dim', '2', '--api-key', 's3cret'], { dataDir: dir }));
    const list = served(await cli(['list', '--json'], { dataDir: dir, env: { PIRAMID_API_KEY: 's3cret' } }));
    assert.deepEqual(parseJson<{ collections: Stats[] }>(list).collections.map((c) => c.name), ['k']);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});
