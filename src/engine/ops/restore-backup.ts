import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Database, type OpenOptions } from '../database.js';
import { PiramidError } from '../errors.js';
import { materialize, stageArchive, type CollectionChoice } from './restore.js';

export interface RestoreOptions {
  /** Restore only these collections of the archive, beside what the folder holds (default: the whole folder). */
  collections?: readonly string[];
  /** Restore the one chosen collection under this name (into the folder, beside the others). */
  as?: string;
  /** Replace what is there (the folder, or same-named collections). */
  force?: boolean;
  /** Options for the databases opened on the way (faiss binding, warnings). */
  open?: OpenOptions;
  onStage?: (stage: 'verifying-archive' | 'writing' | 'checking' | 'swapping') => void;
}

export interface RestoreResult {
  archive: string;
  dataDir: string;
  /** folder: the data folder was replaced whole; collections: the chosen ones were swapped in. */
  mode: 'folder' | 'collections';
  createdAt: string;
  collections: { name: string; from: string; records: number; documents: number }[];
  ms: number;
}

/**
 * Restores a backup without ever leaving the target half-written:
 *  1. extracts the archive next to the target and checks every sha256 against the manifest;
 *  2. writes the chosen collections into a fresh data folder there and runs `verify` on it;
 *  3. only then swaps: the whole folder by two renames, or each collection by one atomic batch.
 * Any failure before 3 leaves the target exactly as it was.
 */
export async function restoreBackup(archive: string, dataDir: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  const started = performance.now();
  const target = resolve(dataDir);
  const partial = options.collections !== undefined || options.as !== undefined;
  // Fail fast on what needs no archive: an occupied target without --force, a held lock.
  if (!partial) await assertReplaceable(target, options.force === true, options.open);
  const work = `${target}.restore-${randomBytes(4).toString('hex')}`;
  await mkdir(work, { recursive: true });
  try {
    options.onStage?.('verifying-archive');
    const staged = await stageArchive(archive, join(work, 'archive'));
    const choices = chooseCollections(staged.manifest.collections, options, archive);
    if (partial) await assertCollectionsFree(target, choices, options.force === true, options.open);

    options.onStage?.('writing');
    const data = join(work, 'data');
    await materialize(staged, choices, data);

    options.onStage?.('checking');
    const check = await Database.open(data, { ...options.open, createIfMissing: false, embeddingCache: false });
    try {
      // Repair rebuilds only derived data (an index left out of the archive): records must be whole.
      const report = await check.verify({ repair: true });
      if (!report.ok) {
        const codes = report.collections.flatMap((c) => c.problems.map((p) => `${c.name}: ${p.code}`));
        throw new PiramidError('ARCHIVE_INVALID', `Backup archive ${archive} restores to data that fails verify (${codes.join(', ')}).`, {
          hint: 'Nothing was changed. Use another copy of the backup.',
        });
      }
    } finally {
      await check.close();
    }

    options.onStage?.('swapping');
    if (partial) {
      const db = await Database.open(target, { ...options.open, embeddingCache: false });
      try {
        for (const choice of choices) await db.adoptCollection(data, choice.as);
      } finally {
        await db.close();
      }
    } else {
      await swapFolder(data, target);
    }
    return {
      archive,
      dataDir: target,
      mode: partial ? 'collections' : 'folder',
      createdAt: staged.manifest.createdAt,
      collections: choices.map((c) => ({ name: c.as, from: c.from.name, records: c.from.records, documents: c.from.documents })),
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function chooseCollections(available: CollectionChoice['from'][], options: RestoreOptions, archive: string): CollectionChoice[] {
  const names = options.collections ?? available.map((c) => c.name);
  const chosen = names.map((name) => {
    const from = available.find((c) => c.name === name);
    if (from === undefined) {
      throw new PiramidError('COLLECTION_NOT_FOUND', `Backup ${archive} has no collection "${name}".`, {
        hint: `It holds: ${available.map((c) => c.name).join(', ') || 'no collections'}.`,
      });
    }
    return from;
  });
  if (options.as !== undefined) {
    const [only] = chosen;
    if (chosen.length !== 1 || only === undefined) {
      throw new PiramidError('INVALID_ARGUMENT', `--as renames one collection; ${chosen.length} are chosen.`, {
        hint: 'Pick the collection with -c NAME (the backup holds several).',
      });
    }
    return [{ from: only, as: options.as }];
  }
  return chosen.map((from) => ({ from, as: from.name }));
}

/** A whole-folder restore may replace an empty or missing folder, or a piramid folder with --force. */
async function assertReplaceable(target: string, force: boolean, open: OpenOptions | undefined): Promise<void> {
  const entries = await readdir(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  if (entries.length === 0) return;
  const isPiramid = await stat(join(target, 'db')).then(
    () => true,
    () => false,
  );
  if (!isPiramid) {
    throw new PiramidError('TARGET_EXISTS', `${target} is not empty and is not a piramid data folder.`, {
      hint: 'Restore into a new or empty folder with --data-dir.',
    });
  }
  // Opening proves no other process holds it (a running server answers DATABASE_LOCKED).
  const db = await Database.open(target, { ...open, createIfMissing: false, embeddingCache: false });
  let names: string[];
  try {
    names = (await db.listCollections()).map((c) => c.name);
  } finally {
    await db.close();
  }
  if (names.length > 0 && !force) {
    throw new PiramidError('TARGET_EXISTS', `${target} already holds ${names.length} collection(s) (${names.join(', ')}); a restore replaces the whole folder.`, {
      hint: 'Run again with --force to replace it, restore into another --data-dir, or restore single collections with -c/--as.',
    });
  }
}

async function assertCollectionsFree(target: string, choices: readonly CollectionChoice[], force: boolean, open: OpenOptions | undefined): Promise<void> {
  const db = await Database.open(target, { ...open, embeddingCache: false });
  try {
    for (const choice of choices) {
      if (!force && (await db.hasCollection(choice.as))) {
        throw new PiramidError('TARGET_EXISTS', `Collection "${choice.as}" already exists in ${target}.`, {
          hint: `Run again with --force to replace it, or restore it under another name with --as.`,
        });
      }
    }
  } finally {
    await db.close();
  }
}

/** Puts `fresh` where `target` is: the old folder moves aside first and is removed last. */
async function swapFolder(fresh: string, target: string): Promise<void> {
  const exists = await stat(target).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await rename(fresh, target);
    return;
  }
  const old = `${target}.old-${randomBytes(4).toString('hex')}`;
  await rename(target, old);
  try {
    await rename(fresh, target);
  } catch (err) {
    await rename(old, target);
    throw err;
  }
  await rm(old, { recursive: true, force: true });
}
