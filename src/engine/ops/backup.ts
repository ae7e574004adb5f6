import type { AbstractSnapshot } from 'abstract-level';
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { Catalog } from '../catalog.js';
import { FORMAT_VERSION } from '../catalog.js';
import { PiramidError } from '../errors.js';
import type { CollectionStore, RootLevel } from '../store/collection-store.js';
import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  MANIFEST_PATH,
  SEGMENT_BYTES,
  SegmentWriter,
  indexEntryPath,
  segmentPath,
  type BackupManifest,
  type ManifestCollection,
  type ManifestEntry,
} from './archive-format.js';
import { scanRange } from './scan.js';

export interface BackupProgress {
  /** Records (live) written so far, of `totalRecords`. */
  records: number;
  totalRecords: number;
  /** Uncompressed bytes put into the archive so far. */
  bytes: number;
}

export interface BackupOptions {
  /** Collections to back up (default: all). */
  collections?: readonly string[];
  /** Include index checkpoints (default true): restore then skips the rebuild. */
  includeIndexes?: boolean;
  /** gzip level 1-9 (default 1: vectors are float noise to gzip, and level 6 buys ~10% for 3× the time). */
  compressionLevel?: number;
  onProgress?: (progress: BackupProgress) => void;
}

/** What a backup needs of an open database. */
export interface BackupSource {
  root: RootLevel;
  catalog: Catalog;
  /** The collection's store, its index path, and a way to checkpoint its index first. */
  collection(name: string): Promise<{ store: CollectionStore; indexPath: string; checkpoint: () => Promise<unknown> }>;
}

export interface BackupSummary {
  manifest: BackupManifest;
  /** Uncompressed bytes of every entry. */
  bytes: number;
}

/**
 * Writes a consistent point-in-time backup to `out` as a gzip'd tar (see archive-format.ts) while
 * the database stays open: index checkpoints are brought up to date and their files opened first,
 * then every key comes from ONE LevelDB snapshot. A checkpoint opened before the snapshot never
 * holds labels the snapshot lacks; one made stale by a later compaction carries an old uid and is
 * rebuilt on restore. Writes go on meanwhile and are simply not in the backup.
 */
export async function writeBackup(source: BackupSource, out: Writable, options: BackupOptions = {}): Promise<BackupSummary> {
  const known = await source.catalog.list();
  const names = options.collections ?? known.map((c) => c.name);
  for (const name of names) {
    if (!known.some((c) => c.name === name)) {
      throw new PiramidError('COLLECTION_NOT_FOUND', `Collection "${name}" does not exist.`, { hint: 'List collections with: piramid list' });
    }
  }
  const parts = await Promise.all(names.map(async (name) => ({ name, ...(await source.collection(name)) })));
  const indexFiles = new Map<string, FileHandle>();
  const pack = tar.pack();
  const written = pipeline(pack, createGzip({ level: options.compressionLevel ?? 1 }), out);
  written.catch(() => undefined); // awaited below; an early failure must not go unhandled
  const snapshotHolder: { close?: () => Promise<void> } = {};
  try {
    if (options.includeIndexes !== false) {
      for (const part of parts) {
        await part.checkpoint();
        const handle = await open(part.indexPath, 'r').catch(() => undefined);
        if (handle !== undefined) indexFiles.set(part.name, handle);
      }
    }
    const snapshot = source.root.snapshot();
    snapshotHolder.close = () => snapshot.close();
    const configs = (await source.catalog.list(snapshot)).filter((c) => names.includes(c.name));
    const entries: ManifestEntry[] = [];
    const collections: ManifestCollection[] = [];
    const progress: BackupProgress = { records: 0, totalRecords: 0, bytes: 0 };
    const counted = await Promise.all(parts.map((part) => part.store.counts()));
    progress.totalRecords = counted.reduce((sum, c) => sum + c.records, 0);

    for (const config of configs) {
      const part = parts.find((p) => p.name === config.name) as (typeof parts)[number];
      const { gte, lt } = part.store.keyRange;
      const recordPrefix = Buffer.from(part.store.keyPrefixes.records.slice(gte.length));
      const stampPrefix = Buffer.from(part.store.keyPrefixes.files.slice(gte.length));
      const segments: string[] = [];
      const segment = new SegmentWriter();
      let keys = 0;
      const flush = async (): Promise<void> => {
        if (segment.count === 0) return;
        const path = segmentPath(config.name, segments.length);
        const data = segment.take();
        entries.push(await addBuffer(pack, path, data));
        segments.push(path);
        progress.bytes += data.length;
        options.onProgress?.({ ...progress });
      };
      for await (const chunk of scanRange(source.root, gte, lt, { snapshot })) {
        for (const [fullKey, value] of chunk) {
          const key = fullKey.subarray(gte.length);
          // The checkpoint stamp names this machine's inode: meaningless in another folder.
          if (startsWith(key, stampPrefix)) continue;
          if (startsWith(key, recordPrefix)) progress.records += 1;
          segment.add(key, value);
          keys += 1;
          if (segment.bytes >= SEGMENT_BYTES) await flush();
        }
      }
      await flush();
      const counts = await countsAt(part.store, snapshot);
      let index: string | null = null;
      const handle = indexFiles.get(config.name);
      if (handle !== undefined) {
        index = indexEntryPath(config.name);
        const entry = await addFile(pack, index, handle);
        entries.push(entry);
        progress.bytes += entry.bytes;
        options.onProgress?.({ ...progress });
      }
      collections.push({ name: config.name, config, records: counts.records, documents: counts.documents, keys, segments, index });
    }
    await snapshot.close();
    snapshotHolder.close = undefined;

    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      engineFormat: FORMAT_VERSION,
      createdAt: new Date().toISOString(),
      collections,
      entries,
    };
    await addBuffer(pack, MANIFEST_PATH, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    pack.finalize();
    await written;
    return { manifest, bytes: progress.bytes };
  } catch (err) {
    pack.destroy(err as Error);
    await written.catch(() => undefined);
    throw err;
  } finally {
    await snapshotHolder.close?.();
    for (const handle of indexFiles.values()) await handle.close();
  }
}

async function countsAt(store: CollectionStore, snapshot: AbstractSnapshot): Promise<{ records: number; documents: number }> {
  const meta = store.keyPrefixes.meta;
  const [records, documents] = await store.rootLevel.getMany([`${meta}count`, `${meta}documents`], { snapshot });
  return { records: Number(records ?? 0), documents: Number(documents ?? 0) };
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.byteLength < prefix.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function addBuffer(pack: tar.Pack, path: string, data: Buffer): Promise<ManifestEntry> {
  return new Promise((resolve, reject) => {
    pack.entry({ name: path, size: data.length, mode: 0o644 }, data, (err) => {
      if (err) reject(err);
      else resolve({ path, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
    });
  });
}

/** Streams an open file into the archive (the handle keeps the file even if it is replaced meanwhile). */
async function addFile(pack: tar.Pack, path: string, handle: FileHandle): Promise<ManifestEntry> {
  const { size } = await handle.stat();
  const hash = createHash('sha256');
  let entry: ReturnType<tar.Pack['entry']> | undefined;
  const done = new Promise<void>((resolve, reject) => {
    entry = pack.entry({ name: path, size, mode: 0o644 }, (err) => (err ? reject(err) : resolve()));
  });
  const sink = entry as unknown as { write(chunk: Buffer): boolean; end(): void; once(event: 'drain', listener: () => void): void };
  const buffer = Buffer.allocUnsafe(1 << 20);
  let position = 0;
  while (position < size) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
    if (bytesRead === 0) throw new PiramidError('IO_ERROR', `Index file for ${path} shrank while it was backed up.`);
    const chunk = Buffer.from(buffer.subarray(0, bytesRead));
    hash.update(chunk);
    if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.once('drain', resolve));
    position += bytesRead;
  }
  sink.end();
  await done;
  return { path, bytes: size, sha256: hash.digest('hex') };
}
