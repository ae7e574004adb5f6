import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The checkpoint file of a collection's index:
 *   faiss payload (faiss' own format) | header JSON | u32 header length | u32 format | "PIRAMIDX"
 * The header is a trailer so that faiss can read the payload straight from the file (it stops at
 * the end of its own data): one copy instead of read-into-JS-then-deserialise. The header names the
 * collection incarnation (uid), how many labels the payload holds and the payload's sha256, so a
 * truncated, corrupted or foreign file is detected and rebuilt from LevelDB.
 */
const MAGIC = Buffer.from('PIRAMIDX', 'ascii');
const FILE_FORMAT = 2;
const TRAILER_FIXED_BYTES = 8 + MAGIC.length;

export interface IndexFileHeader {
  uid: string;
  /** Labels 0..labels-1 are in the payload; replay starts at this label. */
  labels: number;
  /** faiss factory description of the payload, e.g. `HNSW32,Flat`. */
  description: string;
  dimension: number;
  /** IVF lists, when the payload is an IVF index. */
  nlist?: number;
  sha256: string;
  payloadBytes: number;
  writtenAt: string;
}

/**
 * What the file looked like when its checksum was last known good. A file whose stat still matches
 * is not re-hashed on open (hashing 150 MB costs ~100 ms of a one-shot query); any rewrite, copy or
 * truncation changes size, inode or mtime and brings the full check back.
 */
export interface IndexFileStamp {
  sha256: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

export type IndexFileProblem = 'missing' | 'truncated' | 'bad-magic' | 'bad-format' | 'bad-header' | 'checksum';

export type IndexFileCheck =
  | { ok: true; header: IndexFileHeader; stamp: IndexFileStamp }
  | { ok: false; problem: IndexFileProblem };

/** Writes atomically: temp file, fsync, rename over the old file, fsync the folder. */
export async function writeIndexFile(
  path: string,
  header: Omit<IndexFileHeader, 'sha256' | 'payloadBytes' | 'writtenAt'>,
  payload: Uint8Array,
): Promise<IndexFileStamp> {
  const full: IndexFileHeader = {
    ...header,
    sha256: createHash('sha256').update(payload).digest('hex'),
    payloadBytes: payload.byteLength,
    writtenAt: new Date().toISOString(),
  };
  const headerBytes = Buffer.from(JSON.stringify(full), 'utf8');
  const fixed = Buffer.alloc(TRAILER_FIXED_BYTES);
  fixed.writeUInt32LE(headerBytes.length, 0);
  fixed.writeUInt32LE(FILE_FORMAT, 4);
  MAGIC.copy(fixed, 8);

  const temp = `${path}.tmp-${process.pid}`;
  const handle = await open(temp, 'w');
  try {
    await handle.writev([payload, headerBytes, fixed]);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(temp, path);
  await syncDirectory(dirname(path));
  const info = await stat(path);
  return { sha256: full.sha256, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
}

/** Reads and checks the trailer only (cheap: for `info`, and the first step of loading). */
export async function readIndexTrailer(path: string): Promise<IndexFileCheck> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, problem: 'missing' };
    throw err;
  }
  try {
    const info = await handle.stat();
    if (info.size < TRAILER_FIXED_BYTES) return { ok: false, problem: 'truncated' };
    const fixed = Buffer.alloc(TRAILER_FIXED_BYTES);
    await handle.read(fixed, 0, TRAILER_FIXED_BYTES, info.size - TRAILER_FIXED_BYTES);
    if (!fixed.subarray(8).equals(MAGIC)) return { ok: false, problem: 'bad-magic' };
    if (fixed.readUInt32LE(4) !== FILE_FORMAT) return { ok: false, problem: 'bad-format' };
    const headerLength = fixed.readUInt32LE(0);
    const headerStart = info.size - TRAILER_FIXED_BYTES - headerLength;
    if (headerStart < 0) return { ok: false, problem: 'truncated' };
    const headerBytes = Buffer.alloc(headerLength);
    await handle.read(headerBytes, 0, headerLength, headerStart);
    let header: IndexFileHeader;
    try {
      header = JSON.parse(headerBytes.toString('utf8')) as IndexFileHeader;
    } catch {
      return { ok: false, problem: 'bad-header' };
    }
    if (header.payloadBytes !== headerStart) return { ok: false, problem: 'truncated' };
    return { ok: true, header, stamp: { sha256: header.sha256, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino } };
  } finally {
    await handle.close();
  }
}

/** Hashes the payload part of the file (streamed) and compares it with the header's checksum. */
export async function payloadMatchesChecksum(path: string, header: IndexFileHeader): Promise<boolean> {
  if (header.payloadBytes === 0) return header.sha256 === createHash('sha256').digest('hex');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { start: 0, end: header.payloadBytes - 1, highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex') === header.sha256;
}

export function sameStamp(a: IndexFileStamp | undefined, b: IndexFileStamp): boolean {
  return a !== undefined && a.sha256 === b.sha256 && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
