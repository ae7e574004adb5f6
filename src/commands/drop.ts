import { Args, Flags } from '@oclif/core';
import { BaseCommand, serverFlags } from '../base-command.js';
import { PiramidError } from '../engine/errors.js';
import { info } from '../ui/output.js';

export default class Drop extends BaseCommand<typeof Drop> {
  static override description = 'Delete a collection and everything in it.';

  static override examples = ['<%= config.bin %> <%= command.id %> notes --force'];

  static override args = {
    collection: Args.string({ ignoreStdin: true, description: 'Collection to drop.', required: true }),
  };

  static override flags = {
    force: Flags.boolean({ char: 'f', description: 'Really drop it (required: there is no undo).', default: false }),
    ...serverFlags,
  };

  async run(): Promise<{ dropped: string }> {
    // No prompt: a script must never hang waiting for an answer; --force states the intent.
    if (!this.flags.force) {
      throw new PiramidError('INVALID_ARGUMENT', `Dropping "${this.args.collection}" deletes all of its documents.`, {
        hint: `Run again with --force: piramid drop ${this.args.collection} --force`,
      });
    }
    const backend = await this.backend({ createIfMissing: false });
    await backend.dropCollection(this.args.collection);
    if (!this.jsonEnabled()) info(`Dropped collection ${this.args.collection}.`);
    return { dropped: this.args.collection };
  }
}
