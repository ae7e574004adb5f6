import { Args } from '@oclif/core';
import { BaseCommand, serverFlags } from '../base-command.js';
import type { CompactResult } from '../engine/ops/compact.js';
import { formatBytes } from '../ui/bytes.js';
import { info } from '../ui/output.js';

export default class Compact extends BaseCommand<typeof Compact> {
  static override description = `Rebuild collections without their deleted and replaced records: the index is rebuilt from the live vectors (labels renumbered) and LevelDB's range compacted; reports bytes before and after.
Safe to interrupt: the switch to the new layout is one atomic write; before it nothing has changed, after it the index is rebuilt on next open if it was not written yet.`;

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> notes --json'];

  static override args = {
    collection: Args.string({ ignoreStdin: true, description: 'Collection to compact (default: all).' }),
  };

  static override flags = { ...serverFlags };

  async run(): Promise<{ collections: CompactResult[] }> {
    const backend = await this.backend({ createIfMissing: false });
    const names = this.args.collection === undefined ? (await backend.listCollections()).map((c) => c.name) : [this.args.collection];
    const results: CompactResult[] = [];
    for (const name of names) {
      const result = await backend.compact(name);
      results.push(result);
      if (!this.jsonEnabled()) {
        info(`${name}: ${result.records} records kept, ${result.dropped} dead labels dropped, ${formatBytes(result.bytesBefore)} -> ${formatBytes(result.bytesAfter)} (index ${formatBytes(result.indexBytesBefore)} -> ${formatBytes(result.indexBytesAfter)}) in ${result.ms} ms`);
      }
    }
    return { collections: results };
  }
}
