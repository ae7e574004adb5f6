import { Args, Flags } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand, serverFlags } from '../base-command.js';
import type { VerifyReport } from '../engine/database.js';
import { EXIT } from '../exit-codes.js';
import { info } from '../ui/output.js';

export default class Verify extends BaseCommand<typeof Verify> {
  static override description = `Check a data folder: records <-> vectors <-> labels, counters, index checksums and counts, keyword and payload indexes.
Exits 0 when everything checks out and ${EXIT.verifyFailed} when a problem is found (each has a stable code). With --repair, rebuilds derived data (indexes, counters) from the records and removes leftovers, then checks again.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> notes --json',
    '<%= config.bin %> <%= command.id %> --repair',
  ];

  static override args = {
    collection: Args.string({ ignoreStdin: true, description: 'Collection to check (default: all).' }),
  };

  static override flags = {
    repair: Flags.boolean({ description: 'Rebuild derived data (faiss index, keyword and payload indexes, counters) from the records.', default: false }),
    ...serverFlags,
  };

  async run(): Promise<VerifyReport> {
    const backend = await this.backend({ createIfMissing: false });
    const collection = this.args.collection;
    const report = await backend.verify({ ...(collection === undefined ? {} : { collections: [collection] }), repair: this.flags.repair });
    if (!this.jsonEnabled()) printReport(report);
    if (!report.ok) process.exitCode = EXIT.verifyFailed;
    return report;
  }
}

function printReport(report: VerifyReport): void {
  for (const problem of report.folder.found) info(`${chalk.yellow('folder')}: ${problem.message} [${problem.code}]`);
  if (report.folder.repaired > 0) info(`folder: removed ${report.folder.repaired} leftover(s)`);
  for (const c of report.collections) {
    const status = c.ok ? chalk.green('ok') : chalk.red('PROBLEMS');
    const checkpoint = c.checkpointLabels === null ? 'no checkpoint' : `checkpoint ${c.checkpointLabels}/${c.labels} labels`;
    info(`${c.name}: ${status} - ${c.records} records, ${c.documents} documents, ${c.labels} labels, ${checkpoint}`);
    const shown = c.repaired.length > 0 ? c.found : c.problems;
    for (const problem of shown) info(`  ${problem.code}: ${problem.message}${problem.repairable ? '' : chalk.dim(' (records damaged: restore a backup)')}`);
    if (c.repaired.length > 0) info(`  repaired: ${c.repaired.join(', ')}${c.ok ? '' : `; remaining: ${c.problems.map((p) => p.code).join(', ')}`}`);
  }
  if (report.collections.length === 0) info('No collections.');
}
