import { BaseCommand, serverFlags } from '../base-command.js';
import { renderTable } from '../ui/table.js';
import { statsJson, type StatsJson } from '../ui/stats.js';

export default class List extends BaseCommand<typeof List> {
  static override description = 'List the collections in the data folder.';

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  static override flags = {
    ...serverFlags,
  };

  async run(): Promise<{ collections: StatsJson[] }> {
    const stats = await (await this.backend()).listCollections();
    if (!this.jsonEnabled()) {
      if (stats.length === 0) this.log('No collections. Create one with: piramid create <name>');
      else {
        this.log(
          renderTable(
            ['name', 'count', 'dim', 'metric', 'index', 'embedder'],
            stats.map((s) => [s.name, String(s.count), String(s.dimension), s.metric, s.index, s.embedder]),
            { align: ['left', 'right', 'right'] },
          ),
        );
      }
    }
    return { collections: stats.map(statsJson) };
  }
}
