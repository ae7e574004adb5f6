import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { restoreBackup, type RestoreResult } from '../engine/ops/restore-backup.js';
import { info } from '../ui/output.js';

export default class Restore extends BaseCommand<typeof Restore> {
  static override description = `Restore a backup made by piramid backup. Every checksum is verified and the data is rebuilt and checked in a temporary folder before anything is changed; then the whole data folder is swapped in, or, with -c/--as, just those collections (each in one atomic write).
Refuses to replace existing data without --force. The data folder must not be in use (stop piramid serve first).`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> backup.tar.gz --data-dir ./restored',
    '<%= config.bin %> <%= command.id %> backup.tar.gz --force',
    '<%= config.bin %> <%= command.id %> backup.tar.gz -c notes --as notes-yesterday',
  ];

  static override args = {
    archive: Args.string({ ignoreStdin: true, description: 'Backup archive (.tar.gz) to restore.', required: true }),
  };

  static override flags = {
    collection: Flags.string({ char: 'c', description: 'Restore only this collection, beside the others in the folder (repeatable).', multiple: true }),
    as: Flags.string({ description: 'Restore the chosen collection under this name.' }),
    force: Flags.boolean({ char: 'f', description: 'Replace existing data: the whole folder, or same-named collections.', default: false }),
  };

  async run(): Promise<RestoreResult> {
    const result = await restoreBackup(resolve(this.args.archive), this.flags['data-dir'], {
      ...(this.flags.collection === undefined ? {} : { collections: this.flags.collection }),
      ...(this.flags.as === undefined ? {} : { as: this.flags.as }),
      force: this.flags.force,
      onStage: (stage) => {
        if (!this.jsonEnabled() && process.stderr.isTTY === true) info(`restore: ${stage.replace('-', ' ')}...`);
      },
    });
    if (!this.jsonEnabled()) {
      const what = result.collections.map((c) => (c.name === c.from ? `${c.name} (${c.records} records)` : `${c.from} as ${c.name} (${c.records} records)`)).join(', ');
      info(`Restored ${what || 'no collections'} into ${result.dataDir} (backup of ${result.createdAt}) in ${result.ms} ms.`);
    }
    return result;
  }
}
