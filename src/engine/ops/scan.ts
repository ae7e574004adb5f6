import type { AbstractSnapshot } from 'abstract-level';
import type { RootLevel } from '../store/collection-store.js';

/** Upper bound of every key starting with a sublevel prefix (`...!`): the same prefix ending in `"`. */
export function prefixEnd(prefix: string): string {
  if (!prefix.endsWith('!')) throw new TypeError(`not a sublevel prefix: ${prefix}`);
  return `${prefix.slice(0, -1)}"`;
}

export interface ScanOptions {
  snapshot?: AbstractSnapshot;
  /** Entries per nextv call. */
  chunkSize?: number;
}

/** Raw key/value pairs in [gte, lt), keys and values as bytes, in key order, in chunks. */
export async function* scanRange(root: RootLevel, gte: string, lt: string, options: ScanOptions = {}): AsyncGenerator<[Uint8Array, Uint8Array][]> {
  const iterator = root.iterator<Uint8Array, Uint8Array>({
    gte: Buffer.from(gte),
    lt: Buffer.from(lt),
    keyEncoding: 'view',
    valueEncoding: 'view',
    ...(options.snapshot === undefined ? {} : { snapshot: options.snapshot }),
  });
  try {
    for (;;) {
      const entries = await iterator.nextv(options.chunkSize ?? 4096);
      if (entries.length === 0) return;
      yield entries;
    }
  } finally {
    await iterator.close();
  }
}

/** Raw key/value pairs of one sublevel (key without the prefix, value as bytes), in key order, in chunks. */
export async function* scanPrefix(root: RootLevel, prefix: string, options: ScanOptions = {}): AsyncGenerator<[string, Uint8Array][]> {
  const skip = Buffer.byteLength(prefix);
  for await (const chunk of scanRange(root, prefix, prefixEnd(prefix), options)) {
    yield chunk.map(([key, value]) => [decodeText(key.subarray(skip)), value]);
  }
}

/** Keys only (without the prefix), in key order, in chunks. */
export async function* scanKeys(root: RootLevel, prefix: string, chunkSize = 8192): AsyncGenerator<string[]> {
  const iterator = root.keys<string>({ gte: prefix, lt: prefixEnd(prefix), keyEncoding: 'utf8' });
  try {
    for (;;) {
      const keys = await iterator.nextv(chunkSize);
      if (keys.length === 0) return;
      yield keys.map((key) => key.slice(prefix.length));
    }
  } finally {
    await iterator.close();
  }
}

const utf8 = new TextDecoder();

export function decodeText(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}
