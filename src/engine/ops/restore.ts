import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Level } from 'level';
import tar from 'tar-stream';
import { Catalog, FORMAT_VERSION, validateCollectionName } from '../catalog.js';
import { PiramidError } from '../errors.js';
import type { RootLevel } from '../store/collection-store.js';
import { BACKUP_FORMAT, BACKUP_VERSION, MANIFEST_PATH, readSegment, type BackupManifest, type ManifestCollection, type ManifestEntry } from './archive-format.js';

/** Entry names a piramid backup may contain: nothing else is extracted (no path tricks). */
const ENTRY_NAME = /^(manifest\.json|collections\/[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\/(kv-\d{6}\.bin|index\.pidx))$/;
const BATCH_BYTES = 8 * 1024 * 1024;

export interface StagedArchive {
  manifest: BackupManifest;
  /** Folder holding the extracted entries under their archive paths. */
  folder: string;
}

/**
 * Extracts a backup into `folder` (which nobody else uses), hashing every entry on the way, then
 * checks the manifest against what was extracted: every listed entry present with its size and
 * sha256, nothing unlisted. Any failure is ARCHIVE_INVALID naming the archive and the entry.
 */
export async function stageArchive(archive: string, folder: string): Promise<StagedArchive> {
  return { manifest: await readArchive(archive, folder), folder };
}

/** Reads and checks an archive without extracting it (`piramid backup` re-reads what it wrote). */
export async function inspectArchive(archive: string): Promise<BackupManifest> {
  return readArchive(archive, null);
}

async function readArchive(archive: string, folder: string | null): Promise<BackupManifest> {
  const seen = new Map<string, ManifestEntry>();
  const manifestSource = { text: '' };
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const name = header.name;
    const fail = (message: string): void => {
      stream.resume();
      extract.destroy(invalid(archive, message));
    };
    if (header.type !== 'file' || !ENTRY_NAME.test(name) || name.includes('..')) return fail(`unexpected entry "${name}"`);
    if (seen.has(name)) return fail(`entry "${name}" appears twice`);
    const target = folder === null ? null : join(folder, name);
    const hash = createHash('sha256');
    let bytes = 0;
    let manifestText = '';
    (target === null ? Promise.resolve() : mkdir(dirname(target), { recursive: true }).then(() => undefined))
      .then(() => {
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            bytes += chunk.length;
            if (name === MANIFEST_PATH) manifestText += chunk.toString('utf8');
            callback(null, chunk);
          },
        });
        return target === null ? pipeline(stream, counter, new Writable({ write: (_chunk, _encoding, done) => done() })) : pipeline(stream, counter, createWriteStream(target));
      })
      .then(() => {
        if (name === MANIFEST_PATH) manifestSource.text = manifestText;
        seen.set(name, { path: name, bytes, sha256: hash.digest('hex') });
        next();
      })
      .catch((err: unknown) => extract.destroy(err as Error));
  });
  try {
    await pipeline(createReadStream(archive), createGunzip(), extract);
  } catch (err) {
    if (err instanceof PiramidError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PiramidError('INVALID_ARGUMENT', `Backup archive ${archive} does not exist.`);
    throw invalid(archive, `it is damaged or truncated (${(err as Error).message})`, err);
  }

  const manifestEntry = seen.get(MANIFEST_PATH);
  if (manifestEntry === undefined) throw invalid(archive, 'it has no manifest.json (not a piramid backup, or cut short)');
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(manifestSource.text) as BackupManifest;
  } catch (err) {
    throw invalid(archive, 'its manifest.json is not valid JSON', err);
  }
  if (manifest.format !== BACKUP_FORMAT || !Array.isArray(manifest.entries) || !Array.isArray(manifest.collections)) {
    throw invalid(archive, 'its manifest is not a piramid backup manifest');
  }
  if (manifest.version > BACKUP_VERSION || manifest.engineFormat > FORMAT_VERSION) {
    throw new PiramidError('FORMAT_UNSUPPORTED', `Backup ${archive} was written by a newer piramid (backup v${manifest.version}, data format ${manifest.engineFormat}).`, {
      hint: 'Restore it with that version of piramid or a newer one.',
    });
  }
  for (const entry of manifest.entries) {
    const found = seen.get(entry.path);
    if (found === undefined) throw invalid(archive, `entry "${entry.path}" listed in the manifest is missing`);
    if (found.bytes !== entry.bytes) throw invalid(archive, `entry "${entry.path}" has ${found.bytes} bytes; the manifest says ${entry.bytes}`);
    if (found.sha256 !== entry.sha256) throw invalid(archive, `entry "${entry.path}" fails its sha256 checksum`);
  }
  for (const name of seen.keys()) {
    if (name !== MANIFEST_PATH && !manifest.entries.some((e) => e.path === name)) throw invalid(archive, `entry "${name}" is not in the manifest`);
  }
  for (const collection of manifest.collections) {
    for (const path of [...collection.segments, ...(collection.index === null ? [] : [collection.index])]) {
      if (!seen.has(path)) throw invalid(archive, `collection "${collection.name}" names the missing entry "${path}"`);
    }
  }
  return manifest;
}

export interface CollectionChoice {
  /** Name in the archive. */
  from: ManifestCollection;
  /** Name to restore it as. */
  as: string;
}

/**
 * Writes the chosen collections of a staged archive into a new, empty data folder `target`
 * (LevelDB under db/, index checkpoints under indexes/), as `Database.open` expects to find them.
 */
export async function materialize(staged: StagedArchive, choices: readonly CollectionChoice[], target: string): Promise<void> {
  await mkdir(join(target, 'indexes'), { recursive: true });
  const root: RootLevel = new Level<string, string>(join(target, 'db'));
  await root.open();
  try {
    const catalog = new Catalog(root);
    await catalog.checkFormat(target);
    for (const choice of choices) {
      validateCollectionName(choice.as);
      const prefix = Buffer.from(`!c~${choice.as}~`);
      let batch = root.batch();
      let pending = 0;
      for (const path of choice.from.segments) {
        for (const [key, value] of readSegment(await readFile(join(staged.folder, path)))) {
          batch.put(Buffer.concat([prefix, key]) as unknown as string, value as unknown as string, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
          pending += key.length + value.length;
          if (pending >= BATCH_BYTES) {
            await batch.write();
            batch = root.batch();
            pending = 0;
          }
        }
      }
      await batch.write({ sync: true });
      await catalog.put({ ...choice.from.config, name: choice.as });
      if (choice.from.index !== null) await copyFile(join(staged.folder, choice.from.index), join(target, 'indexes', `${choice.as}.pidx`));
    }
  } finally {
    await root.close();
  }
}

function invalid(archive: string, problem: string, cause?: unknown): PiramidError {
  return new PiramidError('ARCHIVE_INVALID', `Backup archive ${archive} cannot be restored: ${problem}.`, {
    hint: 'Nothing was changed. Use another copy of the backup, or make a new one with: piramid backup <archive>',
    ...(cause === undefined ? {} : { cause }),
  });
}
