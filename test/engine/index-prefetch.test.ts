import assert from 'node:assert/strict';
import { copyFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Database, type EngineWarning } from '../../src/index.js';
import { prefetchForQuery } from '../../src/cli/prefetch-index.js';
import { prefetchCollectionIndex, takePrefetchedIndex } from '../../src/engine/index/index-prefetch.js';
import { indexFilePath } from '../../src/engine/index/index-path.js';
import { tempDir } from '../helpers/temp-dir.js';
import { randomVectors } from '../helpers/vectors.js';

const DIM = 8;
const vectors = randomVectors(400, DIM, 11);

/** A folder with collection "c" (HNSW) holding the first `count` vectors, closed (checkpointed). */
async function folderWith(count: number, dir?: string): Promise<string> {
  const folder = dir ?? (await tempDir());
  const db = await Database.open(folder);
  const c = dir === undefined ? await db.createCollection('c', { embedder: 'none', dimension: DIM, metric: 'l2', index: 'hnsw' }) : await db.collection('c');
  const start = (await c.stats()).count;
  await c.upsert(vectors.slice(start, count).map((v, i) => ({ id: `d${start + i}`, vector: v })));
  await db.close();
  return folder;
}

async function identity(path: string) {
  const info = await stat(path);
  return { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
}

/** Every vector of the folder finds itself, with no warning (no rebuild, no replay). */
async function searchAll(folder: string, count: number): Promise<EngineWarning[]> {
  const warnings: EngineWarning[] = [];
  const db = await Database.open(folder, { onWarning: (w) => warnings.push(w) });
  try {
    const c = await db.collection('c');
    for (let i = 0; i < count; i++) assert.equal((await c.search(vectors[i] as Float32Array, { k: 1 })).hits[0]?.id, `d${i}`);
  } finally {
    await db.close();
  }
  return warnings;
}

describe('index prefetch', () => {
  it('hands over the index read ahead from the same file, once', async () => {
    const folder = await folderWith(200);
    const file = indexFilePath(folder, 'c');
    assert.equal(prefetchCollectionIndex(folder, 'c'), true);
    const index = await takePrefetchedIndex(file, await identity(file));
    assert.equal(index?.ntotal(), 200);
    assert.equal(await takePrefetchedIndex(file, await identity(file)), undefined, 'consumed by the first taker');
    assert.equal(prefetchCollectionIndex(folder, 'missing'), false, 'no file, no read');
  });

  it('is dropped when the file was replaced after the read began', async () => {
    const folder = await folderWith(200);
    const file = indexFilePath(folder, 'c');
    assert.equal(prefetchCollectionIndex(folder, 'c'), true);
    // Another version of the file, put in place as checkpoints are: written aside, renamed over.
    const aside = join(folder, 'indexes', 'c.pidx.tmp-1');
    await copyFile(indexFilePath(await folderWith(400), 'c'), aside);
    await rename(aside, file);
    assert.equal(await takePrefetchedIndex(file, await identity(file)), undefined);
  });

  it('serves a query opened after it, with no rebuild or replay', async () => {
    const folder = await folderWith(300);
    assert.equal(prefetchCollectionIndex(folder, 'c'), true);
    assert.deepEqual(await searchAll(folder, 300), []);
    assert.equal(await takePrefetchedIndex(indexFilePath(folder, 'c'), await identity(indexFilePath(folder, 'c'))), undefined, 'consumed by the engine');
  });

  it('a failed read leaves the engine to find the damage itself', async () => {
    const folder = await folderWith(100);
    const file = indexFilePath(folder, 'c');
    await writeFile(file, 'not a faiss index');
    assert.equal(prefetchCollectionIndex(folder, 'c'), true);
    assert.equal(await takePrefetchedIndex(file, await identity(file)), undefined);
  });

  it('picks the folder and collection out of a query command line, and stands aside for a server', async () => {
    const folder = await folderWith(50);
    const file = indexFilePath(folder, 'c');
    const started = (argv: string[], env: NodeJS.ProcessEnv = {}): boolean => {
      const result = prefetchForQuery(argv, env);
      if (result) void takePrefetchedIndex(file, { size: -1, mtimeMs: 0, ino: 0 }); // discard it for the next case
      return result;
    };
    assert.equal(started(['--vector', '[1,2,3]', '-k', '3', '-c', 'c', '-d', folder, '--json']), true);
    assert.equal(started([`--data-dir=${folder}`, '--collection', 'c', 'some text', '--mode', 'hybrid']), true);
    assert.equal(started(['hello'], { PIRAMID_DATA_DIR: folder, PIRAMID_COLLECTION: 'c' }), true);
    assert.equal(started(['-c', 'other', '-d', folder]), false, 'no such index file');
    assert.equal(started(['-c', 'c', '-d', folder, '--url', 'http://127.0.0.1:1']), false);
    assert.equal(started(['-c', 'c', '-d', folder], { PIRAMID_URL: 'http://127.0.0.1:1' }), false);
    await writeFile(join(folder, 'serve.json'), '{}');
    assert.equal(started(['-c', 'c', '-d', folder]), false, 'a server holds the folder');
  });
});
