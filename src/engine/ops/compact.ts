import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { CollectionParts } from '../collection.js';
import { encodeLabel, decodeLabel } from '../store/keys.js';
import { encodeVector } from '../store/vector-codec.js';
import { decodeText, scanKeys, scanPrefix } from './scan.js';

export interface CompactResult {
  collection: string;
  /** Live records kept (renumbered 0..records-1). */
  records: number;
  /** Labels of deleted or replaced records that were dropped. */
  dropped: number;
  /** Bytes of the whole data folder on disk (LevelDB files and index files), before and after. */
  bytesBefore: number;
  bytesAfter: number;
  indexBytesBefore: number;
  indexBytesAfter: number;
  /** faiss structure of the rebuilt index. */
  index: string;
  ms: number;
}

/**
 * Rebuilds a collection without its dead labels, writes held (run inside Collection.maintain):
 *  1. reads the live records and vectors and builds the renumbered index off to the side;
 *  2. commits, in ONE fsync'd LevelDB batch, the renumbered records, vectors and id map, the
 *     removal of every dead label, and a new collection uid (so the old checkpoint can never be
 *     loaded over the new labels);
 *  3. swaps the new index in and checkpoints it; then compacts the LevelDB key range.
 * Killed before 2, nothing changed; killed after 2, the store is complete and the index is rebuilt
 * from it on next open (the old checkpoint's uid no longer matches). Payload and keyword indexes
 * are keyed by record id, not label, so they stay as they are.
 */
export async function compactCollection(parts: CollectionParts, folderBytes: () => Promise<number>): Promise<CompactResult> {
  const started = performance.now();
  const { store, config } = parts;
  const root = store.rootLevel;
  const prefixes = store.keyPrefixes;
  const indexBytesBefore = await fileSize(parts.indexPath);
  const bytesBefore = await folderBytes();

  // Live records in label order, with their raw bytes: renumbering keeps their relative order.
  const live: { label: number; record: Uint8Array }[] = [];
  for await (const chunk of scanPrefix(root, prefixes.records)) for (const [key, value] of chunk) live.push({ label: decodeLabel(key), record: value });
  const issued: number[] = [];
  for await (const keys of scanKeys(root, prefixes.vectors)) for (const key of keys) issued.push(decodeLabel(key));
  const vectors = await store.vectorsAt(live.map((entry) => entry.label));
  const liveVectors = vectors.map((vector, i) => {
    if (vector === undefined) throw new TypeError(`record at label ${live[i]?.label} has no vector: run piramid verify`);
    return vector;
  });

  const built = await parts.index.buildDetached(liveVectors);

  const batch = root.batch();
  for (const label of issued) batch.del(prefixes.vectors + encodeLabel(label));
  for (const entry of live) batch.del(prefixes.records + encodeLabel(entry.label));
  batch.del(`${prefixes.files}index`);
  live.forEach((entry, newLabel) => {
    const key = encodeLabel(newLabel);
    const text = decodeText(entry.record);
    const record = JSON.parse(text) as { id: string };
    batch.put(prefixes.records + key, text);
    batch.put(prefixes.vectors + key, encodeVector(liveVectors[newLabel] as Float32Array), { valueEncoding: 'buffer' });
    batch.put(prefixes.ids + record.id, key);
  });
  const renumbered = { ...config, uid: randomUUID() };
  parts.stageConfig(batch, renumbered);
  await batch.write({ sync: true });

  // The store now holds the new labels: swap in the matching index before anything else runs.
  config.uid = renumbered.uid;
  await parts.index.installBuilt(built);
  await store.compactStorage();

  const indexBytesAfter = await fileSize(parts.indexPath);
  return {
    collection: config.name,
    records: live.length,
    dropped: issued.length - live.length,
    bytesBefore,
    bytesAfter: await folderBytes(),
    indexBytesBefore,
    indexBytesAfter,
    index: built.index.description,
    ms: Math.round(performance.now() - started),
  };
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
