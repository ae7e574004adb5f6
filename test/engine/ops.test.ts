import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { open, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Level } from 'level';
import { Database } from '../../src/index.js';
import { restoreBackup } from '../../src/engine/ops/restore-backup.js';
import { tempDir } from '../helpers/temp-dir.js';
import { randomVectors } from '../helpers/vectors.js';

const DIM = 16;
const vectors = randomVectors(2000, DIM, 21);
const queries = randomVectors(8, DIM, 22);

/** A collection with texts, metadata (one indexed key) and deleted / replaced documents. */
async function seeded(kind: 'flat' | 'hnsw' | 'ivf' = 'hnsw', count = 2000) {
  const dir = await tempDir();
  const db = await Database.open(dir);
  const collection = await db.createCollection('c', { embedder: 'none', dimension: DIM, index: kind, payloadIndexes: { tag: 'keyword' } });
  await collection.upsert(
    vectors.slice(0, count).map((v, i) => ({ id: `v${i}`, vector: Array.from(v), text: `passage ${i} about ${i % 3 === 0 ? 'whales' : 'ships'}`, metadata: { tag: `t${i % 4}`, n: i } })),
  );
  return { dir, db, collection };
}

async function answers(collection: Awaited<ReturnType<Database['collection']>>) {
  const result = [];
  for (const q of queries) result.push((await collection.search(q, { k: 10 })).hits.map((h) => [h.id, h.score.toFixed(5)]));
  result.push((await collection.search('whales', { k: 5, mode: 'keyword' })).hits.map((h) => h.id));
  result.push((await collection.search(queries[0] as Float32Array, { k: 5, filter: { must: [{ key: 'tag', match: { value: 't2' } }] } })).hits.map((h) => h.id));
  return result;
}

async function backupTo(db: Database, path: string, collections?: string[]): Promise<void> {
  const out = createWriteStream(path);
  await db.backup(out, collections === undefined ? {} : { collections });
}

describe('verify', () => {
  it('passes on a healthy collection with deletes and replacements', async () => {
    const { db, collection } = await seeded();
    await collection.delete(['v1', 'v2']);
    await collection.upsert([{ id: 'v3', vector: Array.from(vectors[5] as Float32Array), text: 'replaced', metadata: { tag: 't9' } }]);
    const report = await db.verify();
    await db.close();
    assert.equal(report.ok, true, JSON.stringify(report));
    const [c] = report.collections;
    assert.equal(c?.records, 1998);
    assert.equal(c?.labels, 2001);
  });

  it('finds a corrupted index file, and --repair rebuilds it with the same answers', async () => {
    const { dir, db, collection } = await seeded();
    const before = await answers(collection);
    await db.close();
    const file = join(dir, 'indexes', 'c.pidx');
    const handle = await open(file, 'r+');
    await handle.write(Buffer.from([0xff, 0xee, 0xdd]), 0, 3, 200);
    await handle.close();

    const again = await Database.open(dir);
    const found = await again.verify();
    assert.equal(found.ok, false);
    assert.deepEqual(
      found.collections[0]?.problems.map((p) => [p.code, p.repairable]),
      [['INDEX_CORRUPT', true]],
    );
    const repaired = await again.verify({ repair: true });
    assert.equal(repaired.ok, true, JSON.stringify(repaired));
    assert.deepEqual(repaired.collections[0]?.repaired, ['index']);
    assert.deepEqual(await answers(await again.collection('c')), before);
    await again.close();
  });

  it('finds damaged derived data (counters, keyword and payload postings) and repairs it', async () => {
    const { dir, db } = await seeded('flat', 300);
    await db.close();
    const level = new Level<string, string>(join(dir, 'db'));
    await level.open();
    await level.put('!c~c~meta!count', '7');
    await level.del('!c~c~kw!d!v10');
    await level.put('!c~c~pidx!tag\x00"t1\x00ghost', '');
    await level.close();

    const again = await Database.open(dir);
    const found = await again.verify();
    assert.deepEqual(found.collections[0]?.problems.map((p) => p.code).sort(), ['COUNT_MISMATCH', 'KEYWORD_INDEX_MISMATCH', 'PAYLOAD_INDEX_MISMATCH']);
    const repaired = await again.verify({ repair: true });
    assert.equal(repaired.ok, true, JSON.stringify(repaired.collections[0]?.problems));
    assert.equal((await (await again.collection('c')).stats()).count, 300);
    await again.close();
  });

  it('reports damage to the records themselves as not repairable', async () => {
    const { dir, db } = await seeded('flat', 50);
    await db.close();
    const level = new Level<string, string>(join(dir, 'db'));
    await level.open();
    const [labelKey] = await level.keys({ gte: '!c~c~vec!', lt: '!c~c~vec"', limit: 1 }).all();
    await level.del(labelKey as string); // label 0's vector gone: a gap, and a record without vector
    await level.close();
    const again = await Database.open(dir);
    const report = await again.verify({ repair: true });
    await again.close();
    assert.equal(report.ok, false);
    const codes = report.collections[0]?.problems.map((p) => p.code) ?? [];
    assert.ok(codes.includes('LABEL_GAP') && codes.includes('RECORD_WITHOUT_VECTOR'), codes.join());
    assert.ok(report.collections[0]?.problems.every((p) => p.code === 'INDEX_MISSING' || p.code === 'INDEX_COUNT_MISMATCH' || !p.repairable));
  });

  it('finds and removes leftovers no collection owns', async () => {
    const { dir, db } = await seeded('flat', 20);
    await writeFile(join(dir, 'indexes', 'gone.pidx'), 'old');
    await db.close();
    const level = new Level<string, string>(join(dir, 'db'));
    await level.open();
    await level.put('!c~gone~rec!000000000000', '{}');
    await level.close();
    const again = await Database.open(dir);
    const found = await again.verify();
    assert.deepEqual(found.folder.problems.map((p) => p.code).sort(), ['ORPHAN_DATA', 'ORPHAN_INDEX_FILE']);
    const repaired = await again.verify({ repair: true });
    assert.equal(repaired.ok, true);
    assert.equal(repaired.folder.repaired, 2);
    await again.close();
    assert.deepEqual(await readdir(join(dir, 'indexes')), ['c.pidx']);
  });
});

describe('compact', () => {
  for (const kind of ['flat', 'hnsw', 'ivf'] as const) {
    it(`after deleting half of a ${kind} collection: smaller index file, same answers, verify passes`, async () => {
      const { dir, db, collection } = await seeded(kind, kind === 'ivf' ? 2000 : 1500);
      await collection.delete(Array.from({ length: 750 }, (_, i) => `v${i * 2}`));
      await collection.checkpoint();
      const before = await answers(collection);
      const indexBefore = (await stat(join(dir, 'indexes', 'c.pidx'))).size;

      const result = await db.compact('c');
      assert.equal(result.records, kind === 'ivf' ? 1250 : 750);
      assert.equal(result.dropped, 750);
      assert.ok(result.indexBytesAfter < indexBefore * 0.75, `${result.indexBytesAfter} vs ${indexBefore}`);
      assert.ok(result.bytesAfter < result.bytesBefore);
      const after = await answers(collection);
      if (kind === 'flat') assert.deepEqual(after, before);
      else assert.ok(overlap(after, before) >= 0.9, `overlap ${overlap(after, before)}`);
      assert.equal((await db.verify()).ok, true);
      await db.close();

      // Reopening loads the new checkpoint as it is (no rebuild, no replay) and answers the same.
      const warnings: string[] = [];
      const again = await Database.open(dir, { onWarning: (w) => warnings.push(w.code) });
      assert.deepEqual(await answers(await again.collection('c')), after);
      assert.deepEqual(warnings, []);
      const stats = await (await again.collection('c')).stats();
      assert.equal(stats.deleted, 0);
      await again.close();
    });
  }

  it('keeps writes queued during a compaction, and they land after it', async () => {
    const { db, collection } = await seeded('hnsw', 1000);
    await collection.delete(Array.from({ length: 500 }, (_, i) => `v${i}`));
    const compacting = db.compact('c');
    const writing = collection.upsert([{ id: 'late', vector: Array.from(vectors[1999] as Float32Array), text: 'late' }]);
    await Promise.all([compacting, writing]);
    const hits = (await collection.search(vectors[1999] as Float32Array, { k: 1 })).hits;
    assert.equal(hits[0]?.id, 'late');
    assert.equal((await db.verify()).ok, true);
    await db.close();
  });
});

describe('backup and restore', () => {
  it('round trip: a restored folder answers every query identically', async () => {
    const { dir, db, collection } = await seeded('hnsw');
    await collection.delete(['v7']);
    const expected = await answers(collection);
    const archive = join(dir, '..', `${dir.split('/').pop()}-b.tar.gz`);
    await backupTo(db, archive);
    await db.close();

    const target = await tempDir();
    const result = await restoreBackup(archive, join(target, 'restored'));
    assert.equal(result.mode, 'folder');
    assert.deepEqual(result.collections, [{ name: 'c', from: 'c', records: 1999, documents: 1999 }]);
    const warnings: string[] = [];
    const restored = await Database.open(join(target, 'restored'), { onWarning: (w) => warnings.push(w.code) });
    assert.deepEqual(await answers(await restored.collection('c')), expected);
    assert.deepEqual(warnings, [], 'the index checkpoint came with the archive: no rebuild');
    assert.equal((await restored.verify()).ok, true);
    await restored.close();
  });

  it('a backup is a point in time: a write acknowledged after its snapshot is not in it', async () => {
    const { db, collection } = await seeded('flat', 500);
    const archive = join(await tempDir(), 'b.tar.gz');
    // The first progress report comes after the snapshot was taken: write then, while the backup runs.
    let writing: Promise<unknown> | undefined;
    await db.backup(createWriteStream(archive), {
      onProgress: () => {
        writing ??= collection.upsert([{ id: 'after', vector: Array.from(vectors[600] as Float32Array), text: 'written during the backup' }]);
      },
    });
    await writing;
    assert.equal(await collection.count(), 501, 'the write itself went through');
    await db.close();
    const target = join(await tempDir(), 'r');
    await restoreBackup(archive, target);
    const restored = await Database.open(target);
    const copy = await restored.collection('c');
    assert.equal(await copy.count(), 500);
    assert.deepEqual(await copy.get(['after']), [undefined]);
    assert.equal((await restored.verify()).ok, true);
    await restored.close();
  });

  it('refuses a flipped byte or a truncated archive, and changes nothing', async () => {
    const { db } = await seeded('flat', 800);
    const folder = await tempDir();
    const archive = join(folder, 'b.tar.gz');
    await backupTo(db, archive);
    await db.close();
    const bytes = await readFile(archive);

    const flipped = join(folder, 'flipped.tar.gz');
    const copy = Buffer.from(bytes);
    const middle = Math.floor(copy.length / 2);
    copy[middle] = (copy[middle] as number) ^ 0x40;
    await writeFile(flipped, copy);
    const truncated = join(folder, 'truncated.tar.gz');
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.7)));

    // An existing folder with its own data, restored over with --force: must survive a bad archive.
    const target = join(folder, 'existing');
    const existing = await Database.open(target);
    const own = await existing.createCollection('mine', { embedder: 'none', dimension: 4 });
    await own.upsert([{ id: 'keep', vector: [1, 0, 0, 0] }]);
    await existing.close();

    for (const bad of [flipped, truncated]) {
      await assert.rejects(restoreBackup(bad, target, { force: true }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ARCHIVE_INVALID');
        assert.match(err.message, /cannot be restored/);
        return true;
      });
      const after = await Database.open(target);
      assert.deepEqual((await after.listCollections()).map((c) => c.name), ['mine']);
      assert.equal((await (await after.collection('mine')).get(['keep']))[0]?.id, 'keep');
      await after.close();
      assert.deepEqual((await readdir(folder)).filter((f) => f.includes('.restore-') || f.includes('.old-')), [], 'no temporary folders left');
    }
  });

  it('refuses to replace data without force; restores one collection under another name beside the others', async () => {
    const { dir, db, collection } = await seeded('flat', 300);
    const expected = await answers(collection);
    const archive = join(await tempDir(), 'b.tar.gz');
    await backupTo(db, archive, ['c']);
    await collection.delete(['v0', 'v1']);
    await db.close();

    await assert.rejects(restoreBackup(archive, dir), { code: 'TARGET_EXISTS' });
    await assert.rejects(restoreBackup(archive, dir, { collections: ['c'] }), { code: 'TARGET_EXISTS' });
    const renamed = await restoreBackup(archive, dir, { collections: ['c'], as: 'c-yesterday' });
    assert.equal(renamed.mode, 'collections');

    const after = await Database.open(dir);
    assert.deepEqual((await after.listCollections()).map((c) => c.name), ['c', 'c-yesterday']);
    assert.equal(await (await after.collection('c')).count(), 298);
    assert.deepEqual(await answers(await after.collection('c-yesterday')), expected);
    assert.equal((await after.verify()).ok, true);
    await after.close();

    // --force swaps the collection back to its backed-up state in place.
    await restoreBackup(archive, dir, { collections: ['c'], force: true });
    const forced = await Database.open(dir);
    assert.deepEqual(await answers(await forced.collection('c')), expected);
    await forced.close();
  });

  it('restores without index checkpoints (rebuilt on open), and a truncated index file in a folder is rebuilt', async () => {
    const { db, collection } = await seeded('hnsw', 600);
    const expected = await answers(collection);
    const archive = join(await tempDir(), 'b.tar.gz');
    await db.backup(createWriteStream(archive), { includeIndexes: false });
    await db.close();
    const target = join(await tempDir(), 'r');
    await restoreBackup(archive, target);
    const warnings: string[] = [];
    const restored = await Database.open(target, { onWarning: (w) => warnings.push(w.code) });
    const got = await answers(await restored.collection('c'));
    await restored.close();
    assert.ok(overlap(got, expected) >= 0.9);
    assert.deepEqual(warnings, [], 'restore rebuilt the index before swapping the folder in');
    await truncate(join(target, 'indexes', 'c.pidx'), 100);
    const again = await Database.open(target);
    assert.equal((await again.verify()).ok, false);
    await again.close();
  });
});

/** Share of hit ids two answer lists have in common, query by query. */
function overlap(a: unknown[][], b: unknown[][]): number {
  let shared = 0;
  let total = 0;
  a.forEach((hits, i) => {
    const other = new Set((b[i] ?? []).map((h) => JSON.stringify(Array.isArray(h) ? h[0] : h)));
    for (const h of hits) {
      total += 1;
      if (other.has(JSON.stringify(Array.isArray(h) ? h[0] : h))) shared += 1;
    }
  });
  return total === 0 ? 1 : shared / total;
}
