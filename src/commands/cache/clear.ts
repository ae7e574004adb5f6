import { Flags } from '@oclif/core';
import { BaseCommand, serverFlags } from '../../base-command.js';
import { info, plural } from '../../ui/output.js';

export default class CacheClear extends BaseCommand<typeof CacheClear> {
  static override description = 'Remove cached embeddings (all, or of one model), so texts are embedded again.';

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --model use:use-lite-en@0.2.0'];

  static override flags = {
    ...serverFlags,
    model: Flags.string({ description: 'Only this model, as `piramid cache list` names it (<provider>:<model>).' }),
  };

  async run(): Promise<{ removed: number }> {
    const backend = await this.backend({ createIfMissing: false });
    const removed = await backend.clearCache(this.flags.model);
    if (!this.jsonEnabled()) info(`Removed ${plural(removed, 'cached embedding')}.`);
    return { removed };
  }
}
