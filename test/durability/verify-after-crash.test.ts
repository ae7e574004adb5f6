/**
 * `verify` on the states a crash leaves the index checkpoint in, made deterministically (the crash
 * harness reaches them only when a kill happens to land in the right window): a new collection
 * killed during its first writes (its first checkpoint, empty, is written before its first label,
 * so there is one to replay onto), and a compact killed between its renumbering batch and its new
 * checkpoint (the previous incarnation's file, rebuilt on next load). Both are normal, so verify
 * passes; a checkpoint that went missing, or a file of another collection, is still reported.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';
import { Database, type EngineWarning } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { randomVectors } from '../helpers/vectors.js';

const DIM = 8;
const vectors = randomVectors(400, DIM, 5);
const docs = vectors.map((v, i) => ({ id: `v${i}`, vector: Array.from(v), text: `word${i}`, metadata: { n: i } }));
const engineEntry = fileURLToPath(new URL('../../src/index.js', import.meta.url));

async function problemCodes(dir: string, name = 'c'): Promise<string[]> {
  const db = await Database.open(dir);
  const report = await db.verify({ collections: [name] });
  await db.close();
  return report.collections[0]?.problems.map((p) => p.code) ?? [];
}

async function searchAfter(dir: string): Promise<{ warnings: EngineWarning[]; top: string | undefined; codes: string[] }> {
  const warnings: EngineWarning[] = [];
  const db = await Database.open(dir, { onWarning: (w) => warnings.push(w) });
  const collection = await db.collection('c');
  const { hits } = await collection.search(docs[207]?.vector as number[], { k: 1 });
  const report = await db.verify({ collections: ['c'] });
  await db.close();
  return { warnings, top: hits[0]?.id, codes: report.collections[0]?.problems.map((p) => p.code) ?? [] };
}

describe('verify after a crash', () => {
  it('passes when the process was killed during a new collection\'s first writes', async () => {
    const dir = await tempDir();
    const script = `
      import { Database } from ${JSON.stringify(engineEntry)};
      const db = await Database.open(${JSON.stringify(dir)});
      const c = await db.createCollection('c', { embedder: 'none', dimension: ${DIM} });
      await c.upsert(${JSON.stringify(docs)});
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    assert.deepEqual(await problemCodes(dir), []);
    const after = await searchAfter(dir);
    assert.equal(after.top, 'v207');
    assert.equal(after.warnings[0]?.code, 'INDEX_REPLAYED');
    assert.deepEqual(after.codes, []);
  });

  it('passes when compact was killed between its renumbering batch and its new checkpoint', async () => {
    const dir = await tempDir();
    const db = await Database.open(dir);
    const collection = await db.createCollection('c', { embedder: 'none', dimension: DIM });
    await collection.upsert(docs);
    await collection.delete(docs.slice(0, 100).map((d) => d.id));
    await collection.checkpoint();
    const oldCheckpoint = await readFile(join(dir, 'indexes', 'c.pidx'));
    await db.compact('c');
    await db.close();
    // What a kill right after the batch leaves: the old incarnation's checkpoint, no stamp.
    await writeFile(join(dir, 'indexes', 'c.pidx'), oldCheckpoint);
    const level = new Level<string, string>(join(dir, 'db'));
    await level.open();
    await level.del('!c~c~file!index');
    await level.close();

    assert.deepEqual(await problemCodes(dir), []);
    const after = await searchAfter(dir);
    assert.equal(after.top, 'v207');
    assert.match(after.warnings[0]?.message ?? '', /another version/);
    assert.deepEqual(after.codes, []);
  });

  it('still reports a lost checkpoint (with or without its stamp), or one of another collection', async () => {
    const dir = await tempDir();
    const db = await Database.open(dir);
    for (const name of ['c', 'other']) await (await db.createCollection(name, { embedder: 'none', dimension: DIM })).upsert(docs);
    await db.close();
    await copyFile(join(dir, 'indexes', 'other.pidx'), join(dir, 'indexes', 'c.pidx'));
    assert.deepEqual(await problemCodes(dir), ['INDEX_FOREIGN']);
    await rm(join(dir, 'indexes', 'c.pidx'));
    assert.deepEqual(await problemCodes(dir), ['INDEX_MISSING']);
    // As a restore of an archive without indexes stages it: verify --repair must build it.
    const level = new Level<string, string>(join(dir, 'db'));
    await level.open();
    await level.del('!c~c~file!index');
    await level.close();
    assert.deepEqual(await problemCodes(dir), ['INDEX_MISSING']);
  });
});
