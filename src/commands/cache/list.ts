import { BaseCommand, serverFlags } from '../../base-command.js';
import type { CacheStats } from '../../engine/embed/embedding-cache.js';
import { renderTable } from '../../ui/table.js';

export default class CacheList extends BaseCommand<typeof CacheList> {
  static override description = 'Show the embedding cache: entries, hits and misses per model.';

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json'];

  static override flags = {
    ...serverFlags,
  };

  async run(): Promise<{ models: (CacheStats & { hit_rate: number })[] }> {
    const backend = await this.backend({ createIfMissing: false });
    const models = (await backend.cacheStats()).map((s) => ({ ...s, hit_rate: s.hits + s.misses === 0 ? 0 : s.hits / (s.hits + s.misses) }));
    if (!this.jsonEnabled()) {
      if (models.length === 0) this.log('The embedding cache is empty.');
      else {
        this.log(
          renderTable(
            ['model', 'entries', 'hits', 'misses', 'hit rate'],
            models.map((m) => [m.model, String(m.entries), String(m.hits), String(m.misses), `${(m.hit_rate * 100).toFixed(1)}%`]),
            { align: ['left', 'right', 'right', 'right', 'right'] },
          ),
        );
      }
    }
    return { models };
  }
}
