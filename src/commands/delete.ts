import { Args } from '@oclif/core';
import { BaseCommand, collectionFlag, serverFlags } from '../base-command.js';
import { info, plural } from '../ui/output.js';

export default class Delete extends BaseCommand<typeof Delete> {
  static override description = 'Delete documents by id.';

  static override examples = ['<%= config.bin %> <%= command.id %> doc-1 doc-2 -c notes'];

  static override strict = false;

  static override args = {
    ids: Args.string({ ignoreStdin: true, description: 'Ids of the documents to delete.', required: true }),
  };

  static override flags = {
    collection: collectionFlag,
    ...serverFlags,
  };

  async run(): Promise<{ collection: string; deleted: number; not_found: string[] }> {
    const { argv } = await this.parse(Delete);
    const ids = argv as string[];
    const backend = await this.backend({ createIfMissing: false });
    const result = await backend.deleteDocuments(this.flags.collection, ids);
    if (!this.jsonEnabled()) {
      info(`Deleted ${plural(result.deleted, 'document')} from ${this.flags.collection}.`);
      if (result.notFound.length > 0) info(`Not found: ${result.notFound.join(', ')}`);
    }
    return { collection: this.flags.collection, deleted: result.deleted, not_found: result.notFound };
  }
}
