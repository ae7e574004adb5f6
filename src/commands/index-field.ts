import { Args } from '@oclif/core';
import { BaseCommand, serverFlags } from '../base-command.js';
import { PiramidError } from '../engine/errors.js';
import { PAYLOAD_INDEX_KINDS, type PayloadIndexKind } from '../engine/store/payload-index.js';
import { info } from '../ui/output.js';

export default class IndexField extends BaseCommand<typeof IndexField> {
  static override description = `Index a metadata key (value -> records), so that filters on it are answered from the index.
A selective filter (few matching records) is then answered by exact scoring of just those records.`;

  static override examples = ['<%= config.bin %> <%= command.id %> docs source keyword', '<%= config.bin %> <%= command.id %> docs year integer'];

  static override args = {
    collection: Args.string({ ignoreStdin: true, description: 'Collection.', required: true }),
    key: Args.string({ ignoreStdin: true, description: 'Metadata key (dots for nested keys: author.name).', required: true }),
    kind: Args.string({ ignoreStdin: true, description: 'Value type: keyword (strings), integer, float.', required: true, options: [...PAYLOAD_INDEX_KINDS] }),
  };

  static override flags = {
    ...serverFlags,
  };

  async run(): Promise<{ collection: string; key: string; kind: PayloadIndexKind; indexed: number }> {
    const { collection: name, key, kind } = this.args;
    if (!(PAYLOAD_INDEX_KINDS as readonly string[]).includes(kind)) {
      throw new PiramidError('INVALID_ARGUMENT', `Unknown index kind "${kind}".`, { hint: `Use one of: ${PAYLOAD_INDEX_KINDS.join(', ')}.` });
    }
    const backend = await this.backend({ createIfMissing: false });
    const indexed = await backend.indexField(name, key, kind as PayloadIndexKind);
    if (!this.jsonEnabled()) info(`Indexed ${key} (${kind}) over ${indexed} records of ${name}.`);
    return { collection: name, key, kind: kind as PayloadIndexKind, indexed };
  }
}
