import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Database, type EngineWarning } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { randomVectors } from '../helpers/vectors.js';

const DIM = 16;
const vectors = randomVectors(3000, DIM, 11);
const queries = randomVectors(10, DIM, 12);
const engineEntry = fileURLToPath(new URL('../../src/index.js', import.meta.url));

async function seeded(kind: 'flat' | 'hnsw' = 'hnsw') {
  const dir = await tempDir();
  const db = await Database.open(dir);
  const collection = await db.createCollection('c', { embedder: 'none', dimension: DIM, index: kind });
  await collection.upsert(vectors.map((v, i) => ({ id: `v${i}`, vector: Array.from(v) })));
  await collection.delete(['v1', 'v2', 'v3']);
  const answers = [];
  for (const q of queries) answers.push((await collection.search(q, { k: 10 })).hits);
  await db.close();
  return { dir, answers, indexFile: join(dir, 'indexes', 'c.pidx') };
}

async function reopenAndSearch(dir: string) {
  const warnings: EngineWarning[] = [];
  const db = await Database.open(dir, { onWarning: (w) => warnings.push(w) });
  const collection = await db.collection('c');
  const answers = [];
  for (const q of queries) answers.push((await collection.search(q, { k: 10 })).hits);
  const count = await collection.count();
  await db.close();
  return { warnings, answers, count };
}

describe('index file durability', () => {
  it('loads the checkpoint without rebuilding when it is intact', async () => {
    const { dir, answers } = await seeded();
    const again = await reopenAndSearch(dir);
    assert.deepEqual(again.warnings, []);
    assert.deepEqual(again.answers, answers);
  });

  it('rebuilds a deleted index file from LevelDB with the same results', async () => {
    const { dir, answers, indexFile } = await seeded();
    await rm(indexFile);
    const again = await reopenAndSearch(dir);
    assert.equal(again.warnings[0]?.code, 'INDEX_REBUILT');
    assert.match(again.warnings[0]?.message ?? '', /missing/);
    assert.deepEqual(again.answers, answers);
    // The rebuild wrote a fresh checkpoint: the next open is clean.
    assert.deepEqual((await reopenAndSearch(dir)).warnings, []);
  });

  it('rebuilds a corrupted index file (flipped byte) with the same results', async () => {
    const { dir, answers, indexFile } = await seeded();
    const bytes = await readFile(indexFile);
    const middle = Math.floor(bytes.length / 2); // inside the faiss payload
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    await writeFile(indexFile, bytes);
    const again = await reopenAndSearch(dir);
    assert.equal(again.warnings[0]?.code, 'INDEX_REBUILT');
    assert.match(again.warnings[0]?.message ?? '', /checksum/);
    assert.deepEqual(again.answers, answers);
  });

  it('accepts a rewritten but intact file after checking its checksum', async () => {
    const { dir, answers, indexFile } = await seeded();
    await writeFile(indexFile, await readFile(indexFile)); // new mtime: the stamp no longer matches
    const again = await reopenAndSearch(dir);
    assert.deepEqual(again.warnings, []);
    assert.deepEqual(again.answers, answers);
  });

  it('rebuilds an index file whose trailer was damaged', async () => {
    const { dir, answers, indexFile } = await seeded('flat');
    const bytes = await readFile(indexFile);
    bytes[bytes.length - 1] = 0x00; // the magic
    await writeFile(indexFile, bytes);
    const again = await reopenAndSearch(dir);
    assert.match(again.warnings[0]?.message ?? '', /not a piramid index file/);
    assert.deepEqual(again.answers, answers);
  });

  it('rebuilds a truncated index file', async () => {
    const { dir, answers, indexFile } = await seeded('flat');
    await truncate(indexFile, 1000);
    const again = await reopenAndSearch(dir);
    assert.equal(again.warnings[0]?.code, 'INDEX_REBUILT');
    assert.deepEqual(again.answers, answers);
  });

  it('replays writes acknowledged after the last checkpoint when the process was killed', async () => {
    const { dir } = await seeded();
    // A child appends 500 documents, reports them written, and is SIGKILLed before any checkpoint.
    const script = `
      import { Database } from ${JSON.stringify(engineEntry)};
      const db = await Database.open(${JSON.stringify(dir)});
      const c = await db.collection('c');
      const docs = Array.from({ length: 500 }, (_, i) => ({ id: 'late' + i, vector: Array.from({ length: ${DIM} }, (_, j) => Math.sin(i * 31 + j)) }));
      await c.upsert(docs);
      process.stdout.write('acknowledged\\n');
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL');
    assert.equal(child.stdout.trim(), 'acknowledged');

    const warnings: EngineWarning[] = [];
    const db = await Database.open(dir, { onWarning: (w) => warnings.push(w) });
    const collection = await db.collection('c');
    assert.equal(await collection.count(), 3000 - 3 + 500);
    const target = Array.from({ length: DIM }, (_, j) => Math.sin(123 * 31 + j));
    const { hits } = await collection.search(target, { k: 1 });
    assert.equal(hits[0]?.id, 'late123');
    assert.equal(warnings[0]?.code, 'INDEX_REPLAYED');
    assert.equal((await collection.stats()).deleted, 3);
    await db.close();
  });
});

describe('index training across a crash', () => {
  it('trains on load what the growth called for when the process died before the next checkpoint', async () => {
    // An IVF collection stays on an exact Flat index until it can train its lists (4096 vectors
    // here); the write that crosses that trains it, and the trained index reaches disk only with
    // the next checkpoint. A child crosses it and is SIGKILLed before closing.
    const dir = await tempDir();
    const setup = await Database.open(dir);
    await setup.createCollection('c', { embedder: 'none', dimension: DIM, metric: 'l2', index: { kind: 'ivf', nlist: 16 } });
    await setup.close();
    const script = `
      import { Database } from ${JSON.stringify(engineEntry)};
      const db = await Database.open(${JSON.stringify(dir)});
      const c = await db.collection('c');
      const docs = Array.from({ length: 5000 }, (_, i) => ({ id: 'v' + i, vector: Array.from({ length: ${DIM} }, (_, j) => Math.sin(i * 31 + j)) }));
      await c.upsert(docs);
      process.stdout.write((await c.stats()).indexState + '\\n');
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    assert.equal(child.stdout.trim(), 'IVF16,SQfp16', 'trained in the child');

    const db = await Database.open(dir);
    try {
      const collection = await db.collection('c');
      const target = Array.from({ length: DIM }, (_, j) => Math.sin(4321 * 31 + j));
      assert.equal((await collection.search(target, { k: 1 })).hits[0]?.id, 'v4321');
      assert.equal((await collection.stats()).indexState, 'IVF16,SQfp16', 'trained again on load, not left on the exact index');
      assert.equal((await collection.indexTuning()).settings.calibrated?.nlist, 16);
    } finally {
      await db.close();
    }
  });
});

describe('data folder lock', () => {
  it('refuses a second process with an error naming the lock file', async () => {
    const dir = await tempDir();
    const db = await Database.open(dir);
    const script = `
      import { Database } from ${JSON.stringify(engineEntry)};
      try { await Database.open(${JSON.stringify(dir)}); console.log('opened'); }
      catch (err) { console.log(JSON.stringify({ code: err.code, message: err.message })); }
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const result = JSON.parse(child.stdout) as { code: string; message: string };
    assert.equal(result.code, 'DATABASE_LOCKED');
    assert.ok(result.message.includes(join(dir, 'db', 'LOCK')), result.message);
    await db.close();
  });
});
