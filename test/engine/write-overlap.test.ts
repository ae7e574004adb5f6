import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Database, isPiramidError } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { resizeTmpfs, tmpfs } from '../helpers/tmpfs.js';
import { randomVectors } from '../helpers/vectors.js';

/**
 * Runs `step(0)`, `step(1)`, ... until `writing` settles (and rethrows its failure); returns how
 * many steps ran. Steps reach the engine as a server's requests do, as events: the event loop
 * (the write's slices, LevelDB's callbacks) runs between them, or a loop of resolved promises
 * could starve the write.
 */
async function whileWriting(writing: Promise<unknown>, step: (n: number) => Promise<void>): Promise<number> {
  let done = false;
  void writing.then(
    () => (done = true),
    () => (done = true),
  );
  let n = 0;
  while (!done) {
    await step(n);
    n += 1;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await writing;
  return n;
}

/**
 * An upsert reads the registry ahead of its turn and adds its vectors to faiss while LevelDB
 * commits them (Collection.writeDocuments): neither may change what is stored or found.
 */
describe('upserts overlapping their reads and index adds with the commit', () => {
  it('concurrent upserts of the same ids apply in call order, as if awaited one by one', async () => {
    const db = await Database.open(await tempDir());
    try {
      const c = await db.createCollection('c', { embedder: 'none', dimension: 8, metric: 'l2', index: 'flat' });
      const [first, second] = [randomVectors(50, 8, 1), randomVectors(50, 8, 2)];
      const docs = (vectors: Float32Array[]) => vectors.map((vector, i) => ({ id: `d${i}`, vector }));
      const [a, b, c3] = await Promise.all([c.upsert(docs(first)), c.upsert(docs(second)), c.upsert(docs(second))]);
      assert.deepEqual([a.added, a.updated], [50, 0]);
      assert.deepEqual([b.added, b.updated], [0, 50], 'the second call sees the first one written');
      assert.equal(c3.unchanged, 50, 'the third finds the second stored');
      assert.equal((await c.stats()).count, 50);
      for (const i of [0, 17, 49]) {
        const hit = (await c.search(second[i] as Float32Array, { k: 1 })).hits[0];
        assert.equal(hit?.id, `d${i}`);
        assert.equal(hit?.score, 0, 'the second vector is the one stored');
      }
    } finally {
      await db.close();
    }
  });

  it('Float32Array vectors are checked and copied: errors name the document and element, later changes to the caller\'s array change nothing', async () => {
    const db = await Database.open(await tempDir());
    try {
      const c = await db.createCollection('c', { embedder: 'none', dimension: 4, metric: 'l2', index: 'flat' });
      const bad = [Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 2, Number.NaN, 4)];
      await assert.rejects(c.upsert(bad.map((vector, i) => ({ id: `b${i}`, vector }))), (err: { code?: string; message?: string; location?: { field?: string } }) => {
        assert.equal(err.code, 'INVALID_INPUT');
        assert.equal(err.location?.field, 'documents[1].vector');
        assert.match(err.message ?? '', /vector\[2\] is NaN, not a finite number/);
        return true;
      });
      await assert.rejects(c.upsert([{ id: 'w', vector: Float32Array.of(1, 2, 3) }]), { code: 'DIMENSION_MISMATCH' });
      assert.equal((await c.stats()).count, 0, 'nothing of a refused call is written');

      const mine = randomVectors(300, 4, 8);
      const written = mine.map((v) => Array.from(v));
      await c.upsert(mine.map((vector, i) => ({ id: `d${i}`, vector })));
      for (const v of mine) v.fill(9);
      const stored = await c.get(['d0', 'd150', 'd299'], { withVector: true });
      assert.deepEqual(stored.map((r) => r?.vector), [written[0], written[150], written[299]]);
    } finally {
      await db.close();
    }
  });

  it('searches during an upsert only return stored records', async () => {
    const db = await Database.open(await tempDir());
    try {
      const c = await db.createCollection('c', { embedder: 'none', dimension: 16, metric: 'cosine', index: 'flat' });
      const vectors = randomVectors(6000, 16, 3);
      await c.upsert(vectors.slice(0, 1000).map((vector, i) => ({ id: `d${i}`, vector })));
      const searches = await whileWriting(c.upsert(vectors.slice(1000).map((vector, i) => ({ id: `d${1000 + i}`, vector }))), async (n) => {
        const { hits } = await c.search(vectors[1000 + (n % 5000)] as Float32Array, { k: 5 });
        const found = await c.get(hits.map((h) => h.id));
        assert.ok(found.every((record) => record !== undefined), 'every hit is a stored record');
      });
      assert.ok(searches > 0);
      assert.equal((await c.stats()).count, 6000);
    } finally {
      await db.close();
    }
  });

  it('searches between the slices of a large add (as under serve) use the index being filled: no rebuild, no error', { timeout: 120_000 }, async () => {
    const warnings: string[] = [];
    const db = await Database.open(await tempDir(), { responsive: true, onWarning: (w) => warnings.push(`${w.code}: ${w.message}`) });
    try {
      const c = await db.createCollection('c', { embedder: 'none', dimension: 16, metric: 'cosine', index: 'flat' });
      const vectors = randomVectors(21_000, 16, 5);
      await c.upsert(vectors.slice(0, 1000).map((vector, i) => ({ id: `d${i}`, vector })));
      // 20000 vectors: added to faiss in slices of 4096, the event loop let through between them.
      const searches = await whileWriting(c.upsert(vectors.slice(1000).map((vector, i) => ({ id: `d${1000 + i}`, vector }))), async (n) => {
        const { hits } = await c.search(vectors[n % 1000] as Float32Array, { k: 3 });
        assert.equal(hits[0]?.id, `d${n % 1000}`);
      });
      assert.ok(searches > 1, `${searches} searches ran during the write`);
      assert.deepEqual(warnings, [], 'nothing was rebuilt');
      assert.equal((await c.search(vectors[20_999] as Float32Array, { k: 1 })).hits[0]?.id, 'd20999');
    } finally {
      await db.close();
    }
  });

  it('after a write refused by a full disk: its vectors are not searchable, and no write is taken until the folder is opened again', async (t) => {
    const disk = await tmpfs(6);
    if ('skip' in disk) return t.skip(disk.skip);
    const folder = join(disk.path, 'data');
    const dim = 128;
    const vectors = randomVectors(16_000, dim, 9);
    const batch = (from: number, to: number) => vectors.slice(from, to).map((vector, i) => ({ id: `d${from + i}`, vector }));
    const codeOf = async (work: Promise<unknown>) => work.then(() => 'ok', (err: unknown) => (isPiramidError(err) ? err.code : String(err)));
    const db = await Database.open(folder);
    let acknowledged = 0;
    try {
      const c = await db.createCollection('c', { embedder: 'none', dimension: dim, metric: 'l2', index: 'flat' });
      let failure = 'ok';
      for (; acknowledged < 15_000 && failure === 'ok'; ) {
        failure = await codeOf(c.upsert(batch(acknowledged, acknowledged + 500)));
        if (failure === 'ok') acknowledged += 500;
      }
      assert.equal(failure, 'DISK_FULL');
      assert.ok(acknowledged >= 500, 'some batches fit');
      // faiss had the refused batch's vectors added while LevelDB failed to commit them.
      assert.notEqual((await c.search(vectors[acknowledged + 7] as Float32Array, { k: 1 })).hits[0]?.score, 0, 'the refused batch is not searchable');
      assert.equal((await c.search(vectors[acknowledged - 1] as Float32Array, { k: 1 })).hits[0]?.id, `d${acknowledged - 1}`);
      assert.equal((await c.stats()).count, acknowledged);

      // LevelDB would drop anything written after the failed batch when the folder is next opened.
      assert.ok(resizeTmpfs(disk.path, 96), 'grow the tmpfs');
      assert.equal(await codeOf(c.upsert(batch(acknowledged, acknowledged + 500))), 'WRITES_STOPPED');
      assert.equal(await codeOf(c.delete(['d0'])), 'WRITES_STOPPED');
      assert.equal(await codeOf(db.createCollection('other', { embedder: 'none', dimension: 4 })), 'WRITES_STOPPED');
      assert.equal((await c.get(['d0']))[0]?.id, 'd0', 'reads go on');
    } finally {
      await db.close();
    }
    const reopened = await Database.open(folder);
    try {
      const c = await reopened.collection('c');
      assert.equal((await c.stats()).count, acknowledged);
      await c.upsert(batch(acknowledged, acknowledged + 500));
      assert.equal((await c.stats()).count, acknowledged + 500);
      for (const i of [0, acknowledged - 1, acknowledged + 7, acknowledged + 499]) {
        assert.equal((await c.search(vectors[i] as Float32Array, { k: 1 })).hits[0]?.id, `d${i}`);
      }
    } finally {
      await reopened.close();
    }
    const again = await Database.open(folder);
    try {
      assert.equal((await (await again.collection('c')).stats()).count, acknowledged + 500, 'what was written after reopening survives the next open');
    } finally {
      await again.close();
    }
  });
});
