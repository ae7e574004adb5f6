import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { prefetchCollectionIndex } from '../engine/index/index-prefetch.js';
import { serveFilePath } from '../server/serve-file.js';
import { DEFAULT_COLLECTION, DEFAULT_DATA_DIR } from './folder-defaults.js';

/**
 * Called by bin/run.js for `piramid query` before oclif loads: starts reading the collection's
 * faiss index on a worker thread, so that the read (60-130 ms for a few hundred thousand vectors)
 * overlaps the ~150 ms of CLI start-up instead of following it. A hint only: the engine uses the
 * result only if it was read from the very file it then checks (engine/index/index-prefetch.ts),
 * and a guess that misses, or anything going wrong here, just means no prefetch.
 *
 * The folder and collection are picked out of the query's arguments with node's parseArgs, which
 * lets the other flags pass; oclif parses and validates every flag when the command runs. Imports
 * nothing heavy: this runs before everything else. Returns whether a read was started.
 */
export function prefetchForQuery(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    const { values } = parseArgs({
      args: [...argv],
      strict: false,
      allowPositionals: true,
      options: { 'data-dir': { type: 'string', short: 'd' }, collection: { type: 'string', short: 'c' }, url: { type: 'string' } },
    });
    const folder = stringOr(values['data-dir'], env.PIRAMID_DATA_DIR, DEFAULT_DATA_DIR);
    const collection = stringOr(values.collection, env.PIRAMID_COLLECTION, DEFAULT_COLLECTION);
    // Through a server (given, or holding the folder): the server has the index in memory.
    if (stringOr(values.url, env.PIRAMID_URL, '') !== '' || existsSync(serveFilePath(folder))) return false;
    return prefetchCollectionIndex(folder, collection);
  } catch {
    return false; // the command parses its flags itself and reports what is wrong
  }
}

function stringOr(value: unknown, fromEnv: string | undefined, fallback: string): string {
  if (typeof value === 'string') return value;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : fallback;
}
