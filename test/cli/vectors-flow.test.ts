import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Database } from '../../src/index.js';
import { encodeVectorBase64 } from '../../src/engine/vector-base64.js';
import { fixture, parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

interface QueryJson {
  collection: string;
  k: number;
  took_ms: number;
  hits: { id: string; score: number; text?: string; metadata?: Record<string, unknown> }[];
}

interface InfoJson {
  name: string;
  documents: number;
  dimension: number;
  metric: string;
  index: string;
  embedder: string;
  count: number;
  deleted: number;
  size_bytes: number;
}

interface ErrorJson {
  error: { code: string; message: string; hint?: string; location?: { file?: string; line?: number; field?: string } };
}

describe('CLI with vectors supplied (no model)', () => {
  it('ingests, queries, describes, deletes and drops with --json output', async () => {
    const dataDir = await tempDir();
    const ingest = await runCli(['ingest', fixture('vectors-4d.jsonl'), '-c', 'vec', '--json'], { dataDir });
    assert.equal(ingest.code, 0, ingest.stderr);
    const summary = parseJson<{ collection: string; created: boolean; added: number; updated: number; skipped: number }>(ingest);
    assert.deepEqual([summary.collection, summary.created, summary.added, summary.updated, summary.skipped], ['vec', true, 20, 0, 0]);

    const query = await runCli(['query', '--vector', '[1,0,0,0]', '-c', 'vec', '-k', '5', '--json'], { dataDir });
    assert.equal(query.code, 0, query.stderr);
    const result = parseJson<QueryJson>(query);
    assert.deepEqual(Object.keys(result).sort(), ['collection', 'hits', 'k', 'plan', 'took_ms']);
    assert.equal(result.collection, 'vec');
    assert.equal(result.k, 5);
    assert.equal(typeof result.took_ms, 'number');
    assert.equal(result.hits.length, 5);
    for (const hit of result.hits) {
      assert.deepEqual(Object.keys(hit).sort(), ['id', 'metadata', 'score', 'text']);
      assert.equal(hit.metadata?.category, 'fruit');
    }
    const scores = result.hits.map((h) => h.score);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a));

    const info = await runCli(['info', 'vec', '--json'], { dataDir });
    const stats = parseJson<InfoJson>(info);
    assert.deepEqual(
      { ...stats, size_bytes: stats.size_bytes > 0 },
      { ...stats, name: 'vec', dimension: 4, metric: 'cosine', index: 'auto', embedder: 'none', count: 20, documents: 20, deleted: 0, size_bytes: true },
    );

    // Ingesting the same file again replaces each document rather than duplicating it.
    // Ingesting the same file again changes nothing: every document is stored unchanged.
    const again = parseJson<{ added: number; updated: number; unchanged: number }>(
      await runCli(['ingest', fixture('vectors-4d.jsonl'), '-c', 'vec', '--json'], { dataDir }),
    );
    assert.deepEqual([again.added, again.updated, again.unchanged], [0, 0, 20]);
    const same = parseJson<InfoJson>(await runCli(['info', 'vec', '--json'], { dataDir }));
    assert.deepEqual([same.count, same.deleted], [20, 0]);
    // An edited document is replaced: its old label becomes deleted.
    const edited = '{"id":"fruit-apple","text":"Apple, edited.","vector":[0.9,0.05,0.02,0.02],"metadata":{"category":"fruit"}}\n';
    const update = parseJson<{ updated: number }>(await runCli(['ingest', '-', '-c', 'vec', '--json'], { dataDir, stdin: edited }));
    assert.equal(update.updated, 1);
    const replaced = parseJson<InfoJson>(await runCli(['info', 'vec', '--json'], { dataDir }));
    assert.deepEqual([replaced.count, replaced.deleted], [20, 1]);

    const del = await runCli(['delete', 'fruit-apple', 'fruit-banana', 'nope', '-c', 'vec', '--json'], { dataDir });
    assert.deepEqual(parseJson(del), { collection: 'vec', deleted: 2, not_found: ['nope'] });
    const after = parseJson<QueryJson>(await runCli(['query', '--vector', '[1,0,0,0]', '-c', 'vec', '-k', '20', '--json'], { dataDir }));
    assert.equal(after.hits.length, 18);
    assert.ok(!after.hits.some((h) => h.id === 'fruit-apple' || h.id === 'fruit-banana'));

    const list = parseJson<{ collections: InfoJson[] }>(await runCli(['list', '--json'], { dataDir }));
    assert.deepEqual(list.collections.map((c) => [c.name, c.count, c.deleted]), [['vec', 18, 3]]);

    const refused = await runCli(['drop', 'vec'], { dataDir });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--force/);
    const dropped = await runCli(['drop', 'vec', '--force', '--json'], { dataDir });
    assert.deepEqual(parseJson(dropped), { dropped: 'vec' });
    assert.deepEqual(parseJson<{ collections: unknown[] }>(await runCli(['list', '--json'], { dataDir })).collections, []);
  });

  it('prints a human table on stdout and nothing else', async () => {
    const dataDir = await tempDir();
    await runCli(['ingest', fixture('vectors-4d.jsonl'), '-c', 'vec'], { dataDir });
    const query = await runCli(['query', '--vector', '[0,1,0,0]', '-c', 'vec', '-k', '3'], { dataDir });
    assert.equal(query.code, 0, query.stderr);
    const lines = query.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0] ?? '', /rank\s+id\s+score\s+text/);
    assert.match(lines[1] ?? '', /^\s*1\s+vehicle-/);
    assert.match(query.stderr, /3 hits in [\d.]+ ms/);
  });

  it('refuses a vector of the wrong dimension, naming the line, keeping what was stored', async () => {
    const dataDir = await tempDir();
    await runCli(['ingest', fixture('vectors-4d.jsonl'), '-c', 'vec'], { dataDir });
    const bad = await runCli(['ingest', fixture('bad/wrong-dim.jsonl'), '-c', 'vec'], { dataDir });
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /wrong-dim\.jsonl, line 3, field "vector": vector has 3 dimensions; the collection expects 4/);
    const asJson = await runCli(['ingest', fixture('bad/wrong-dim.jsonl'), '-c', 'vec', '--json'], { dataDir });
    const error = parseJson<ErrorJson>(asJson).error;
    assert.equal(asJson.code, 4);
    assert.equal(error.code, 'DIMENSION_MISMATCH');
    assert.deepEqual([error.location?.line, error.location?.field], [3, 'vector']);
    const stats = parseJson<InfoJson>(await runCli(['info', 'vec', '--json'], { dataDir }));
    assert.equal(stats.count, 22); // the 20 before, plus lines 1-2 written before the bad line 3
  });

  it('skips bad lines with --on-error skip and reports them', async () => {
    const dataDir = await tempDir();
    const result = await runCli(['ingest', fixture('bad/wrong-dim.jsonl'), '-c', 'vec', '--on-error', 'skip', '--json'], { dataDir });
    assert.equal(result.code, 0, result.stderr);
    const summary = parseJson<{ added: number; skipped: number; errors: { location: { line: number; field: string }; code: string }[] }>(result);
    assert.deepEqual([summary.added, summary.skipped], [2, 1]);
    assert.deepEqual(summary.errors.map((e) => [e.location.line, e.location.field, e.code]), [[3, 'vector', 'DIMENSION_MISMATCH']]);
  });

  it('takes vectors as base64 float32 in JSONL, --vector and --queries, answering as with numbers', async () => {
    const dataDir = await tempDir();
    const lines = (await readFile(fixture('vectors-4d.jsonl'), 'utf8')).trimEnd().split('\n');
    const asBase64 = lines.map((line) => {
      const doc = JSON.parse(line) as { vector: number[] };
      return JSON.stringify({ ...doc, vector: encodeVectorBase64(doc.vector) });
    });
    const numbers = await runCli(['ingest', fixture('vectors-4d.jsonl'), '-c', 'numbers', '--json'], { dataDir });
    assert.equal(numbers.code, 0, numbers.stderr);
    const base64 = await runCli(['ingest', '-', '-c', 'base64', '--json'], { dataDir, stdin: `${asBase64.join('\n')}\n` });
    assert.equal(base64.code, 0, base64.stderr);
    assert.equal(parseJson<{ added: number }>(base64).added, lines.length);

    const query = [0.2, 0.9, 0.1, 0.3];
    const hitsOf = async (collection: string, vector: string): Promise<QueryJson['hits']> => {
      const result = await runCli(['query', '--vector', vector, '-c', collection, '-k', '5', '--json'], { dataDir });
      assert.equal(result.code, 0, result.stderr);
      return parseJson<QueryJson>(result).hits;
    };
    const expected = await hitsOf('numbers', JSON.stringify(query));
    assert.equal(expected.length, 5);
    assert.deepEqual(await hitsOf('base64', JSON.stringify(query)), expected);
    assert.deepEqual(await hitsOf('numbers', encodeVectorBase64(query)), expected);

    const queries = join(dataDir, 'queries.jsonl');
    await writeFile(queries, `${JSON.stringify({ id: 'q1', vector: encodeVectorBase64(query), k: 5 })}\n`);
    const batch = await runCli(['query', '-c', 'base64', '--queries', queries], { dataDir });
    assert.equal(batch.code, 0, batch.stderr);
    assert.deepEqual((JSON.parse(batch.stdout) as { hits: QueryJson['hits'] }).hits.map((h) => h.id), expected.map((h) => h.id));

    // Bad base64 is named by line and field; what came before it is kept.
    const bad = `${asBase64[0] ?? ''}\n{"id":"b","vector":"not base64!"}\n`;
    const refused = await runCli(['ingest', '-', '-c', 'fresh', '--json'], { dataDir, stdin: bad });
    assert.equal(refused.code, 4);
    const error = parseJson<ErrorJson>(refused).error;
    assert.deepEqual([error.code, error.location?.line, error.location?.field], ['INVALID_INPUT', 2, 'vector']);
    assert.match(error.message, /not base64/);
    assert.equal(parseJson<InfoJson>(await runCli(['info', 'fresh', '--json'], { dataDir })).count, 1);
    const badFlag = await runCli(['query', '--vector', 'AAAA!', '-c', 'base64'], { dataDir });
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /--vector is neither a JSON array nor base64 float32/);
  });

  it('reads JSONL from stdin', async () => {
    const dataDir = await tempDir();
    const stdin = '{"id":"s1","vector":[1,2]}\n\n{"id":"s2","vector":[2,1],"metadata":{"k":"v"}}\n';
    const result = await runCli(['ingest', '-', '-c', 'piped', '--json'], { dataDir, stdin });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(parseJson<{ added: number }>(result).added, 2);
  });

  it('names an unknown collection with exit code 3', async () => {
    const dataDir = await tempDir();
    await runCli(['ingest', fixture('vectors-4d.jsonl'), '-c', 'vec'], { dataDir });
    const result = await runCli(['query', '--vector', '[1,0,0,0]', '-c', 'missing'], { dataDir });
    assert.equal(result.code, 3);
    assert.match(result.stderr, /Collection "missing" does not exist/);
    assert.equal(result.stdout, '');
    const json = await runCli(['info', 'missing', '--json'], { dataDir });
    assert.equal(json.code, 3);
    assert.equal(parseJson<ErrorJson>(json).error.code, 'COLLECTION_NOT_FOUND');
  });

  it('refuses a folder locked by another process, naming the lock', async () => {
    const dataDir = await tempDir();
    const db = await Database.open(dataDir);
    try {
      const result = await runCli(['list'], { dataDir });
      assert.equal(result.code, 5);
      assert.ok(result.stderr.includes(join(dataDir, 'db', 'LOCK')), result.stderr);
      assert.match(result.stderr, /in use by another process/);
    } finally {
      await db.close();
    }
  });

  it('rejects bad flags and a text query on a vectors-only collection', async () => {
    const dataDir = await tempDir();
    await runCli(['ingest', fixture('vectors-4d.jsonl'), '-c', 'vec'], { dataDir });
    const text = await runCli(['query', 'fruit', '-c', 'vec'], { dataDir });
    assert.equal(text.code, 7);
    assert.match(text.stderr, /has no embedder/);
    const badVector = await runCli(['query', '--vector', '[1,0]', '-c', 'vec'], { dataDir });
    assert.equal(badVector.code, 4);
    const badMetric = await runCli(['create', 'x', '--metric', 'manhattan'], { dataDir });
    assert.equal(badMetric.code, 2);
    const badDatatype = await runCli(['create', 'x', '--embedder', 'none', '--dim', '4', '--index', 'ivf', '--datatype', 'float8'], { dataDir });
    assert.equal(badDatatype.code, 2);
    assert.match(badDatatype.stderr, /float16, float32|float16,float32/);
  });

  it('creates an IVF collection with float32 lists and shows the datatype in index-config', async () => {
    const dataDir = await tempDir();
    const created = await runCli(['create', 'exact', '--embedder', 'none', '--dim', '4', '--index', 'ivf', '--datatype', 'float32', '--json'], { dataDir });
    assert.equal(created.code, 0, created.stderr);
    const tuning = parseJson<{ settings: { datatype?: string } }>(await runCli(['index-config', 'exact', '--json'], { dataDir }));
    assert.equal(tuning.settings.datatype, 'float32');
    const table = await runCli(['index-config', 'exact'], { dataDir });
    assert.match(table.stdout, /datatype\s+float32\s+set/);
  });
});
