import type { CollectionConfig } from '../types.js';

/**
 * A piramid backup is one gzip'd tar:
 *   collections/<name>/kv-000000.bin ...  the collection's LevelDB keys and values, from one snapshot
 *   collections/<name>/index.pidx         its index checkpoint, when it had one (derived: optional)
 *   manifest.json                         last: format, collections, counts, sha256 of every entry
 * A kv segment is a run of records: u32le key length, u32le value length, key bytes, value bytes.
 * Keys are the collection's own keys without their `!c~<name>~` prefix, so a collection can be
 * restored under another name.
 */
export const BACKUP_FORMAT = 'piramid-backup';
export const BACKUP_VERSION = 1;
export const MANIFEST_PATH = 'manifest.json';
/** Segments are buffered whole (tar needs each entry's size first): keep them moderate. */
export const SEGMENT_BYTES = 16 * 1024 * 1024;

export interface ManifestEntry {
  path: string;
  bytes: number;
  sha256: string;
}

export interface ManifestCollection {
  name: string;
  config: CollectionConfig;
  records: number;
  documents: number;
  /** Key/value pairs in the collection's kv segments. */
  keys: number;
  segments: string[];
  /** Path of the index checkpoint in the archive, or null. */
  index: string | null;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  /** The data folder format the keys are in (catalog FORMAT_VERSION). */
  engineFormat: number;
  createdAt: string;
  collections: ManifestCollection[];
  entries: ManifestEntry[];
}

export function segmentPath(collection: string, n: number): string {
  return `collections/${collection}/kv-${String(n).padStart(6, '0')}.bin`;
}

export function indexEntryPath(collection: string): string {
  return `collections/${collection}/index.pidx`;
}

/** Appends key/value records to a growing segment. */
export class SegmentWriter {
  private parts: Buffer[] = [];
  private size = 0;
  count = 0;

  add(key: Uint8Array, value: Uint8Array): void {
    const lengths = Buffer.allocUnsafe(8);
    lengths.writeUInt32LE(key.byteLength, 0);
    lengths.writeUInt32LE(value.byteLength, 4);
    this.parts.push(lengths, Buffer.from(key.buffer, key.byteOffset, key.byteLength), Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    this.size += 8 + key.byteLength + value.byteLength;
    this.count += 1;
  }

  get bytes(): number {
    return this.size;
  }

  /** The segment so far, and a fresh start. */
  take(): Buffer {
    const segment = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return segment;
  }
}

/** Key/value pairs of a segment; throws TypeError on a malformed one (checked by sha256 first). */
export function* readSegment(segment: Buffer): Generator<[Buffer, Buffer]> {
  let offset = 0;
  while (offset < segment.length) {
    if (offset + 8 > segment.length) throw new TypeError('segment ends inside a record header');
    const keyLength = segment.readUInt32LE(offset);
    const valueLength = segment.readUInt32LE(offset + 4);
    const keyStart = offset + 8;
    const valueStart = keyStart + keyLength;
    offset = valueStart + valueLength;
    if (offset > segment.length) throw new TypeError('segment ends inside a record');
    yield [segment.subarray(keyStart, valueStart), segment.subarray(valueStart, offset)];
  }
}
