import { Args } from '@oclif/core';
import { BaseCommand, serverFlags } from '../base-command.js';
import { statsJson, statsRows, type StatsJson } from '../ui/stats.js';
import { renderTable } from '../ui/table.js';

export default class Info extends BaseCommand<typeof Info> {
  static override description = 'Show a collection: size, dimension, metric, index and embedder.';

  static override examples = ['<%= config.bin %> <%= command.id %> default', '<%= config.bin %> <%= command.id %> notes --json'];

  static override args = {
    collection: Args.string({ ignoreStdin: true, description: 'Collection to describe.', required: true }),
  };

  static override flags = {
    ...serverFlags,
  };

  async run(): Promise<StatsJson> {
    const backend = await this.backend({ createIfMissing: false });
    const stats = statsJson(await backend.collectionStats(this.args.collection));
    if (!this.jsonEnabled()) {
      this.log(renderTable(['field', 'value'], statsRows(stats)));
    }
    return stats;
  }
}
