import assert from 'node:assert/strict';
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJson, runCli } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp-dir.js';
import { randomVectors } from '../helpers/vectors.js';

const DIM = 12;
const vectors = randomVectors(1200, DIM, 31);
const probe = JSON.stringify(Array.from(randomVectors(1, DIM, 32)[0] as Float32Array));

interface QueryJson {
  hits: { id: string; score: number }[];
}

/** A data folder with one HNSW collection of 1200 documents, 400 of them deleted. */
async function folderWithDeletes(): Promise<string> {
  const dir = await tempDir();
  const file = join(dir, '..', `${dir.split('/').pop()}.jsonl`);
  await writeFile(file, vectors.map((v, i) => JSON.stringify({ id: `d${i}`, vector: Array.from(v), text: `doc ${i}`, metadata: { n: i } })).join('\n'));
  assert.equal((await runCli(['create', 'docs', '--embedder', 'none', '--dim', String(DIM), '--index', 'hnsw'], { dataDir: dir })).code, 0);
  assert.equal((await runCli(['ingest', file, '-c', 'docs'], { dataDir: dir })).code, 0);
  const gone = Array.from({ length: 400 }, (_, i) => `d${i * 3}`);
  assert.equal((await runCli(['delete', ...gone, '-c', 'docs'], { dataDir: dir })).code, 0);
  return dir;
}

async function hits(dataDir: string): Promise<[string, number][]> {
  const result = await runCli(['query', '--vector', probe, '-c', 'docs', '-k', '10', '--json'], { dataDir });
  assert.equal(result.code, 0, result.stderr);
  return parseJson<QueryJson>(result).hits.map((h) => [h.id, h.score]);
}

// Made at the top level: a temp folder registered inside a before() hook is removed when the hook ends.
const dir = await folderWithDeletes();

describe('verify, compact, backup and restore from the CLI', () => {
  it('verify exits 0 with a JSON report; a damaged index makes it exit 10; --repair fixes it', async () => {
    const ok = await runCli(['verify', '--json'], { dataDir: dir });
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.equal(parseJson<{ ok: boolean }>(ok).ok, true);

    const expected = await hits(dir);
    const handle = await open(join(dir, 'indexes', 'docs.pidx'), 'r+');
    await handle.write(Buffer.from('garbage'), 0, 7, 64);
    await handle.close();
    const bad = await runCli(['verify', 'docs'], { dataDir: dir });
    assert.equal(bad.code, 10);
    assert.match(bad.stderr, /INDEX_CORRUPT: Index file .*docs\.pidx fails its sha256 checksum/);

    const repaired = await runCli(['verify', '--repair', '--json'], { dataDir: dir });
    assert.equal(repaired.code, 0, repaired.stdout);
    assert.deepEqual(parseJson<{ collections: { repaired: string[] }[] }>(repaired).collections[0]?.repaired, ['index']);
    assert.deepEqual(await hits(dir), expected);
  });

  it('compact drops the deleted documents, shrinks the index file and keeps the answers', async () => {
    const expected = await hits(dir);
    const before = (await stat(join(dir, 'indexes', 'docs.pidx'))).size;
    const result = await runCli(['compact', '--json'], { dataDir: dir });
    assert.equal(result.code, 0, result.stderr);
    const [compacted] = parseJson<{ collections: { records: number; dropped: number; indexBytesAfter: number }[] }>(result).collections;
    assert.equal(compacted?.records, 800);
    assert.equal(compacted?.dropped, 400);
    assert.ok((compacted?.indexBytesAfter ?? Infinity) < before * 0.8);
    const after = await hits(dir);
    assert.deepEqual(after.map(([id]) => id), expected.map(([id]) => id));
    assert.equal((await runCli(['verify'], { dataDir: dir })).code, 0);
  });

  it('backup then restore into a new folder answers the same; a damaged archive is refused (exit 4) and changes nothing', async () => {
    const expected = await hits(dir);
    const work = await tempDir();
    const archive = join(work, 'docs.tar.gz');
    const backup = await runCli(['backup', archive, '--json'], { dataDir: dir });
    assert.equal(backup.code, 0, backup.stderr);
    const summary = parseJson<{ collections: { name: string; records: number; index: boolean }[]; bytes: number }>(backup);
    assert.deepEqual(summary.collections, [{ name: 'docs', records: 800, documents: 800, index: true }]);
    assert.equal(summary.bytes, (await stat(archive)).size);

    const again = await runCli(['backup', archive], { dataDir: dir });
    assert.equal(again.code, 6, 'an existing archive is not overwritten without --force');

    const target = join(work, 'restored');
    const restore = await runCli(['restore', archive, '--json'], { dataDir: target });
    assert.equal(restore.code, 0, restore.stderr);
    assert.deepEqual(await hits(target), expected);

    const bytes = await readFile(archive);
    bytes[bytes.length - 40] = (bytes[bytes.length - 40] as number) ^ 0xff;
    const damaged = join(work, 'damaged.tar.gz');
    await writeFile(damaged, bytes);
    const refused = await runCli(['restore', damaged, '--force'], { dataDir: target });
    assert.equal(refused.code, 4, refused.stderr);
    assert.match(refused.stderr, /ARCHIVE_INVALID/);
    assert.deepEqual(await hits(target), expected, 'the folder is as it was');

    const occupied = await runCli(['restore', archive, '--json'], { dataDir: target });
    assert.equal(occupied.code, 6);
    assert.equal(parseJson<{ error: { code: string } }>(occupied).error.code, 'TARGET_EXISTS');
  });

  describe('while piramid serve holds the folder', () => {
    let server: Awaited<ReturnType<typeof startServe>>;
    before(async () => {
      server = await startServe(dir);
    });
    after(async () => {
      await server.stop();
    });

    it('backup, verify and compact go through the server; restore into the served folder is refused', async () => {
      const expected = await hits(dir);
      const archive = join(await tempDir(), 'served.tar.gz');
      const backup = await runCli(['backup', archive, '--json'], { dataDir: dir });
      assert.equal(backup.code, 0, backup.stderr);
      assert.match(backup.stderr, /is served by http:\/\/127\.0\.0\.1:\d+; using it/);
      assert.equal(parseJson<{ collections: { records: number }[] }>(backup).collections[0]?.records, 800);

      const verify = await runCli(['verify', '--json'], { dataDir: dir });
      assert.equal(verify.code, 0, verify.stderr);
      const compact = await runCli(['compact', 'docs', '--json'], { dataDir: dir });
      assert.equal(compact.code, 0, compact.stderr);

      const restoreHere = await runCli(['restore', archive, '--force'], { dataDir: dir });
      assert.equal(restoreHere.code, 5, restoreHere.stderr);
      assert.match(restoreHere.stderr, /DATABASE_LOCKED/);

      const target = join(await tempDir(), 'copy');
      assert.equal((await runCli(['restore', archive], { dataDir: target })).code, 0);
      assert.deepEqual(await hits(target), expected);
    });
  });
});
