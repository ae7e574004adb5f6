import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { NativeIndex } from './faiss-index.js';
import { loadFaissNative } from './faiss-native.js';
import { indexFilePath } from './index-path.js';

/** What identifies one version of an index file: written by rename, so a new version is a new inode. */
export interface IndexFileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

interface Prefetch {
  identity: IndexFileIdentity;
  /** undefined when the read failed: the normal path reads again and reports the problem. */
  index: Promise<NativeIndex | undefined>;
}

const prefetched = new Map<string, Prefetch>();

/**
 * Starts reading an index file on a libuv worker thread, ahead of need: a one-shot `piramid query`
 * prefetches its collection's index while the CLI is still loading, so the ~60-100 ms of
 * faiss::read_index overlap that instead of following it. Nothing is trusted yet: the engine takes
 * the result only if the file is still the one that was read (takePrefetchedIndex) and after its
 * usual checks of that file. Returns whether a read was started.
 */
export function prefetchIndexFile(path: string, readAsync: (path: string) => Promise<NativeIndex>): boolean {
  const file = resolve(path);
  if (prefetched.has(file)) return true;
  let identity: IndexFileIdentity;
  try {
    const info = statSync(file);
    identity = { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
  } catch {
    return false; // no file (yet): nothing to read ahead
  }
  prefetched.set(file, {
    identity,
    index: readAsync(file).then(
      (index) => index,
      () => undefined,
    ),
  });
  return true;
}

/**
 * The index prefetched from `path`, if its read succeeded and the file is still that version
 * (`current`: the file as the engine found and checked it). Consumed: a second call gets nothing.
 */
export async function takePrefetchedIndex(path: string, current: IndexFileIdentity): Promise<NativeIndex | undefined> {
  const file = resolve(path);
  const entry = prefetched.get(file);
  if (entry === undefined) return undefined;
  prefetched.delete(file);
  const index = await entry.index;
  if (index === undefined) return undefined;
  const { identity } = entry;
  if (identity.ino !== current.ino || identity.size !== current.size || identity.mtimeMs !== current.mtimeMs) {
    index.reset(); // another version of the file: free its memory now rather than at GC
    return undefined;
  }
  return index;
}

/**
 * prefetchIndexFile for collection `name` of data folder `folder`, with the default build of the
 * binding (the one Database.open uses). False when there is nothing to read or no way to read it
 * ahead (a binding built before readAsync existed); never throws.
 */
export function prefetchCollectionIndex(folder: string, name: string): boolean {
  try {
    const { Index } = loadFaissNative();
    const readAsync = Index.readAsync;
    if (readAsync === undefined) return false;
    return prefetchIndexFile(indexFilePath(folder, name), (file) => readAsync.call(Index, file));
  } catch {
    return false; // the engine reports a missing or broken binding when it needs one
  }
}
