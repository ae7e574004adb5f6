import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, serverFlags } from '../base-command.js';
import { PiramidError } from '../engine/errors.js';
import type { BackupManifest } from '../engine/ops/archive-format.js';
import { inspectArchive } from '../engine/ops/restore.js';
import { formatBytes } from '../ui/bytes.js';
import { info } from '../ui/output.js';
import { createProgress } from '../ui/progress.js';

export interface BackupJson {
  archive: string;
  bytes: number;
  createdAt: string;
  collections: { name: string; records: number; documents: number; index: boolean }[];
  entries: number;
  ms: number;
}

export default class Backup extends BaseCommand<typeof Backup> {
  static override description = `Write a consistent point-in-time backup of the data folder (or of some collections) into one .tar.gz with a manifest and the sha256 of every entry.
Works while piramid serve holds the folder (the server writes the archive from its open database). The archive is written to a temporary name, read back and checked, then renamed into place.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> backups/piramid-2026-11-24.tar.gz',
    '<%= config.bin %> <%= command.id %> notes.tar.gz -c notes --json',
  ];

  static override args = {
    archive: Args.string({ ignoreStdin: true, description: 'Archive file to write (.tar.gz).', required: true }),
  };

  static override flags = {
    collection: Flags.string({ char: 'c', description: 'Collection to back up (repeatable; default: all).', multiple: true }),
    indexes: Flags.boolean({ description: 'Include index checkpoints so a restore needs no rebuild (--no-indexes: smaller archive).', default: true, allowNo: true }),
    force: Flags.boolean({ char: 'f', description: 'Overwrite the archive if it exists.', default: false }),
    ...serverFlags,
  };

  async run(): Promise<BackupJson> {
    const started = performance.now();
    const archive = resolve(this.args.archive);
    if (!this.flags.force && (await exists(archive))) {
      throw new PiramidError('TARGET_EXISTS', `${archive} already exists.`, { hint: 'Choose another file name, or pass --force to overwrite it.' });
    }
    const backend = await this.backend({ createIfMissing: false });
    const partial = `${archive}.partial-${process.pid}`;
    const progress = await createProgress(1, 'backup |{bar}| {percentage}% | {records}/{total} records | {size}', { records: 0, total: 0, size: '0 B' });
    try {
      const out = createWriteStream(partial);
      const collections = this.flags.collection;
      await backend.backup(out, {
        ...(collections === undefined ? {} : { collections }),
        includeIndexes: this.flags.indexes,
        onProgress: (p) => progress.update(p.totalRecords === 0 ? 1 : p.records / p.totalRecords, { records: p.records, total: p.totalRecords, size: formatBytes(p.bytes) }),
      });
      progress.stop();
      // Read back what was written: an archive that is on disk under its name has been checked.
      const manifest = await inspectArchive(partial);
      await rename(partial, archive);
      const result = summary(archive, manifest, (await stat(archive)).size, Math.round(performance.now() - started));
      if (!this.jsonEnabled()) {
        info(`Backed up ${result.collections.map((c) => `${c.name} (${c.records} records)`).join(', ') || 'no collections'} to ${archive}: ${formatBytes(result.bytes)} in ${result.ms} ms.`);
      }
      return result;
    } catch (err) {
      progress.stop();
      await rm(partial, { force: true });
      throw err;
    }
  }
}

function summary(archive: string, manifest: BackupManifest, bytes: number, ms: number): BackupJson {
  return {
    archive,
    bytes,
    createdAt: manifest.createdAt,
    collections: manifest.collections.map((c) => ({ name: c.name, records: c.records, documents: c.documents, index: c.index !== null })),
    entries: manifest.entries.length,
    ms,
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
