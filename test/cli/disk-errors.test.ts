import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { mount, resizeTmpfs, tmpfs } from '../helpers/tmpfs.js';
import { randomVectors } from '../helpers/vectors.js';

/** A full disk and a read-only folder, for real: a small tmpfs mounted for the test. */
const DIM = 128;

async function vectorFile(count: number, seed: number): Promise<string> {
  const dir = await tempDir();
  const path = join(dir, 'docs.jsonl');
  const vectors = randomVectors(count, DIM, seed);
  await writeFile(path, vectors.map((v, i) => JSON.stringify({ id: `doc-${i}`, vector: Array.from(v, (x) => Number(x.toFixed(4))), text: `document ${i}` })).join('\n'));
  return path;
}

/** Lines of the input covered by "acknowledged through FILE, line N" messages. */
function acknowledgedLines(stderr: string): number {
  let last = 0;
  for (const match of stderr.matchAll(/acknowledged through .*line (\d+)/g)) last = Math.max(last, Number(match[1]));
  return last;
}

describe('disk full and read-only data folders', () => {
  it('a full disk stops the ingest with DISK_FULL (exit 8); every acknowledged batch survives and the folder reopens once space is freed', async (t) => {
    const disk = await tmpfs(6);
    if ('skip' in disk) return t.skip(disk.skip);
    const data = join(disk.path, 'data');
    const file = await vectorFile(12_000, 41);
    assert.equal((await runCli(['create', 'big', '--embedder', 'none', '--dim', String(DIM), '--no-keyword-index'], { dataDir: data })).code, 0);

    const full = await runCli(['ingest', file, '-c', 'big', '--batch', '250', '--verbose'], { dataDir: data });
    assert.equal(full.code, 8, full.stderr);
    assert.match(full.stderr, /disk holding .* is full.*\[DISK_FULL\]/);
    const acknowledged = acknowledgedLines(full.stderr);
    assert.ok(acknowledged >= 250, `some batches were acknowledged before the disk filled up (${acknowledged})`);

    assert.ok(resizeTmpfs(disk.path, 96), 'grow the tmpfs');
    const info = await runCli(['info', 'big', '--json'], { dataDir: data });
    assert.equal(info.code, 0, info.stderr);
    const count = parseJson<{ count: number }>(info).count;
    assert.ok(count >= acknowledged, `${count} records stored, ${acknowledged} acknowledged`);
    for (const line of [1, Math.ceil(acknowledged / 2), acknowledged]) {
      const vector = JSON.stringify(Array.from(randomVectors(line, DIM, 41)[line - 1] as Float32Array, (x) => Number(x.toFixed(4))));
      const hit = await runCli(['query', '--vector', vector, '-c', 'big', '-k', '1', '--json'], { dataDir: data });
      assert.equal(parseJson<{ hits: { id: string }[] }>(hit).hits[0]?.id, `doc-${line - 1}`);
    }
    assert.equal((await runCli(['verify'], { dataDir: data })).code, 0);

    const rerun = await runCli(['ingest', file, '-c', 'big', '--batch', '1000'], { dataDir: data });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(parseJson<{ count: number }>(await runCli(['info', 'big', '--json'], { dataDir: data })).count, 12_000);
  });

  it('a read-only folder is refused with READ_ONLY (exit 8) and opens again once writable', async (t) => {
    const disk = await tmpfs(32);
    if ('skip' in disk) return t.skip(disk.skip);
    const data = join(disk.path, 'data');
    await mkdir(data);
    const file = await vectorFile(200, 42);
    assert.equal((await runCli(['create', 'small', '--embedder', 'none', '--dim', String(DIM)], { dataDir: data })).code, 0);
    assert.equal((await runCli(['ingest', file, '-c', 'small'], { dataDir: data })).code, 0);

    assert.ok(mount(['-o', 'remount,ro', disk.path]).ok, 'remount read-only');
    const query = await runCli(['list', '--json'], { dataDir: data });
    assert.equal(query.code, 8, query.stderr);
    assert.equal(parseJson<{ error: { code: string; message: string } }>(query).error.code, 'READ_ONLY');
    const ingest = await runCli(['ingest', file, '-c', 'small'], { dataDir: data });
    assert.equal(ingest.code, 8);
    assert.match(ingest.stderr, /cannot be written .*\[READ_ONLY\]/);

    assert.ok(mount(['-o', 'remount,rw', disk.path]).ok, 'remount read-write');
    const info = await runCli(['info', 'small', '--json'], { dataDir: data });
    assert.equal(info.code, 0, info.stderr);
    assert.equal(parseJson<{ count: number }>(info).count, 200);
    assert.equal((await runCli(['verify'], { dataDir: data })).code, 0);
  });
});
