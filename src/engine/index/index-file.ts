import { createHash } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The checkpoint file of a collection's index:
 *   "PIRAMIDX" | u32 format | u32 header length | header JSON | faiss payload
 * The header names the collection incarnation (uid), how many labels the payload holds and the
 * payload's sha256, so a truncated, corrupted or foreign file is detected and rebuilt from LevelDB.
 */
const MAGIC = Buffer.from('PIRAMIDX', 'ascii');
const FILE_FORMAT = 1;
const PREFIX_BYTES = MAGIC.length + 8;

export interface IndexFileHeader {
  uid: string;
  /** Labels 0..labels-1 are in the payload; replay starts at this label. */
  labels: number;
  /** faiss factory description of the payload, e.g. `HNSW32,Flat`. */
  description: string;
  dimension: number;
  /** IVF lists probed by default when the payload is an IVF index. */
  nlist?: number;
  sha256: string;
  payloadBytes: number;
  writtenAt: string;
}

export type IndexFileProblem = 'missing' | 'truncated' | 'bad-magic' | 'bad-format' | 'bad-header' | 'checksum';

export type IndexFileRead =
  | { ok: true; header: IndexFileHeader; payload: Buffer }
  | { ok: false; problem: IndexFileProblem };

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes atomically: temp file, fsync, rename over the old file, fsync the folder. */
export async function writeIndexFile(
  path: string,
  header: Omit<IndexFileHeader, 'sha256' | 'payloadBytes' | 'writtenAt'>,
  payload: Uint8Array,
): Promise<void> {
  const full: IndexFileHeader = {
    ...header,
    sha256: sha256(payload),
    payloadBytes: payload.byteLength,
    writtenAt: new Date().toISOString(),
  };
  const headerBytes = Buffer.from(JSON.stringify(full), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(FILE_FORMAT, MAGIC.length);
  prefix.writeUInt32LE(headerBytes.length, MAGIC.length + 4);

  const temp = `${path}.tmp-${process.pid}`;
  const handle = await open(temp, 'w');
  try {
    await handle.writev([prefix, headerBytes, payload]);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(temp, path);
  await syncDirectory(dirname(path));
}

export async function readIndexFile(path: string): Promise<IndexFileRead> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, problem: 'missing' };
    throw err;
  }
  if (data.length < PREFIX_BYTES) return { ok: false, problem: 'truncated' };
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) return { ok: false, problem: 'bad-magic' };
  if (data.readUInt32LE(MAGIC.length) !== FILE_FORMAT) return { ok: false, problem: 'bad-format' };
  const headerLength = data.readUInt32LE(MAGIC.length + 4);
  if (data.length < PREFIX_BYTES + headerLength) return { ok: false, problem: 'truncated' };
  let header: IndexFileHeader;
  try {
    header = JSON.parse(data.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength).toString('utf8')) as IndexFileHeader;
  } catch {
    return { ok: false, problem: 'bad-header' };
  }
  const payload = data.subarray(PREFIX_BYTES + headerLength);
  if (payload.length !== header.payloadBytes) return { ok: false, problem: 'truncated' };
  if (sha256(payload) !== header.sha256) return { ok: false, problem: 'checksum' };
  return { ok: true, header, payload };
}

/** Reads only the header (for `info`): no payload, no checksum. undefined when unreadable. */
export async function readIndexHeader(path: string): Promise<IndexFileHeader | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const prefix = Buffer.alloc(PREFIX_BYTES);
    const { bytesRead } = await handle.read(prefix, 0, PREFIX_BYTES, 0);
    if (bytesRead < PREFIX_BYTES || !prefix.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const header = Buffer.alloc(prefix.readUInt32LE(MAGIC.length + 4));
    await handle.read(header, 0, header.length, PREFIX_BYTES);
    return JSON.parse(header.toString('utf8')) as IndexFileHeader;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
