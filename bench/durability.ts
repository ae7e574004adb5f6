/**
 * Durability and operations at 100k records (issue 5/7), each beside a peer measured in the same run:
 *   - ingest with vectors given, batches acknowledged without and with fsync (--sync)
 *   - backup of the folder to a .tar.gz (records/s, MB/s of data) vs system tar + gzip -1 of the same folder
 *     (closed) by the system tar: the floor for "read every byte and gzip it"
 *   - restore of that archive into a new folder (checksums, LevelDB writes, verify, swap)
 *   - compact after deleting half the records
 * Medians over --runs repetitions.
 *
 * Run: npm run build && node dist/bench/durability.js [--n 100000] [--dim 384] [--runs 3]
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Database } from '../src/index.js';
import { restoreBackup } from '../src/engine/ops/restore-backup.js';
import { clusteredVectors } from '../test/helpers/vectors.js';
import { fmt, median, nowMs } from './stats.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    dim: { type: 'string', default: '384' },
    runs: { type: 'string', default: '3' },
    'sync-n': { type: 'string', default: '20000' },
  },
});
const N = Number(values.n);
const DIM = Number(values.dim);
const RUNS = Number(values.runs);
const SYNC_N = Number(values['sync-n']);
const work = mkdtempSync(join(tmpdir(), 'piramid-bench-durability-'));
const data = clusteredVectors(N, DIM, 200, 7);
const docs = data.map((v, i) => ({ id: `doc-${i}`, vector: Array.from(v), text: `passage ${i}`, metadata: { n: i, tag: `t${i % 10}` } }));
const rows: string[] = [];
const row = (...cells: string[]) => rows.push(`| ${cells.join(' | ')} |`);

function folderBytes(path: string): number {
  const out = spawnSync('du', ['-sb', path], { encoding: 'utf8' });
  return Number(out.stdout.split('\t')[0]);
}

async function ingestRate(folder: string, sync: boolean, batch: number): Promise<number> {
  const db = await Database.open(folder);
  const collection = await db.createCollection('c', { embedder: 'none', dimension: DIM, index: 'flat' });
  const started = nowMs();
  for (let i = 0; i < SYNC_N; i += batch) await collection.upsert(docs.slice(i, i + batch), { sync, chunking: false });
  const seconds = (nowMs() - started) / 1000;
  await db.close();
  return SYNC_N / seconds;
}

async function main(): Promise<void> {
  // --sync: the cost of an fsync per acknowledged batch.
  for (const batch of [100, 1000]) {
    const plain: number[] = [];
    const synced: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      for (const sync of [false, true]) {
        const folder = join(work, `ingest-${batch}-${r}-${sync}`);
        (sync ? synced : plain).push(await ingestRate(folder, sync, batch));
        rmSync(folder, { recursive: true, force: true });
      }
    }
    row(`ingest ${SYNC_N} × ${DIM}, batches of ${batch}`, `${fmt(median(synced), 0)} vectors/s with --sync`, `${fmt(median(plain), 0)} vectors/s without`, `${fmt(median(plain) / median(synced))}× slower with --sync`);
  }

  // The 100k folder.
  const source = join(work, 'source');
  const db = await Database.open(source);
  const collection = await db.createCollection('c', { embedder: 'none', dimension: DIM, index: 'flat' });
  for (let i = 0; i < N; i += 2000) await collection.upsert(docs.slice(i, i + 2000), { chunking: false });
  await db.close();
  const sourceBytes = folderBytes(source);
  const mb = sourceBytes / 1e6;

  const backupMs: number[] = [];
  const tarMs: number[] = [];
  const restoreMs: number[] = [];
  let archiveBytes = 0;
  for (let r = 0; r < RUNS; r++) {
    const archive = join(work, `b-${r}.tar.gz`);
    const open = await Database.open(source);
    let started = nowMs();
    await open.backup(createWriteStream(archive));
    backupMs.push(nowMs() - started);
    await open.close();
    archiveBytes = statSync(archive).size;

    started = nowMs();
    // The same gzip level piramid uses (1).
    spawnSync('tar', ['-I', 'gzip -1', '-cf', join(work, `sys-${r}.tar.gz`), '-C', source, '.']);
    tarMs.push(nowMs() - started);

    const target = join(work, `restored-${r}`);
    started = nowMs();
    await restoreBackup(archive, target);
    restoreMs.push(nowMs() - started);
    rmSync(target, { recursive: true, force: true });
    rmSync(archive);
    rmSync(join(work, `sys-${r}.tar.gz`));
  }
  const b = median(backupMs) / 1000;
  const t = median(tarMs) / 1000;
  const rs = median(restoreMs) / 1000;
  row(`backup ${N} records (${fmt(mb, 0)} MB folder → ${fmt(archiveBytes / 1e6, 0)} MB archive)`, `${fmt(b)} s: ${fmt(N / b, 0)} records/s, ${fmt(mb / b, 1)} MB/s`, `system tar + gzip -1 of the closed folder: ${fmt(t)} s, ${fmt(mb / t, 1)} MB/s`, `${fmt(b / t)}× the time`);
  row(`restore ${N} records (checksums, write, verify, swap)`, `${fmt(rs)} s: ${fmt(N / rs, 0)} records/s, ${fmt(mb / rs, 1)} MB/s`, '', '');

  // Compact after deleting half.
  const compactMs: number[] = [];
  let before = 0;
  let after = 0;
  for (let r = 0; r < RUNS; r++) {
    const copy = join(work, `compact-${r}`);
    spawnSync('cp', ['-r', source, copy]);
    const open = await Database.open(copy);
    const c = await open.collection('c');
    await c.delete(docs.filter((_, i) => i % 2 === 0).map((d) => d.id));
    await c.checkpoint();
    before = folderBytes(copy);
    const result = await open.compact('c');
    compactMs.push(result.ms);
    await open.close();
    after = folderBytes(copy);
    rmSync(copy, { recursive: true, force: true });
  }
  row(`compact after deleting ${N / 2} of ${N}`, `${fmt(median(compactMs) / 1000)} s`, `folder ${fmt(before / 1e6, 0)} MB → ${fmt(after / 1e6, 0)} MB`, '');

  console.log(`Measured ${new Date().toISOString().slice(0, 10)}, ${N} × ${DIM} flat, medians of ${RUNS} runs\n`);
  console.log('| measure | piramid | peer / detail | ratio |');
  console.log('|---|---|---|---|');
  for (const line of rows) console.log(line);
  rmSync(work, { recursive: true, force: true });
}

await main();
