import { Args } from '@oclif/core';
import { RemoteBackend } from '../client/remote-backend.js';
import { BaseCommand, embedConnection, embedFlags, serverFlags } from '../base-command.js';
import { PiramidError } from '../engine/errors.js';
import { EXIT } from '../exit-codes.js';
import { themeFromEnv } from '../tui/theme.js';

export default class Browse extends BaseCommand<typeof Browse> {
  static override description = 'Explore collections, records and live search results in a full-screen terminal UI.';

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> docs',
    '<%= config.bin %> <%= command.id %> --url http://127.0.0.1:6333',
  ];

  // An interactive screen has no JSON result.
  static override enableJsonFlag = false;

  static override args = {
    collection: Args.string({ ignoreStdin: true, description: 'Collection to open first (the list is one Esc away).', required: false }),
  };

  static override flags = {
    ...serverFlags,
    ...embedFlags,
  };

  async run(): Promise<void> {
    // Checked before anything is opened: without a terminal there is nothing to draw on or read keys from.
    if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) {
      const which = process.stdin.isTTY !== true && process.stdout.isTTY !== true ? 'stdin and stdout are not' : process.stdin.isTTY !== true ? 'stdin is not' : 'stdout is not';
      throw new PiramidError('INVALID_ARGUMENT', `piramid browse is interactive and needs a terminal, but ${which} a TTY.`, {
        hint: 'Run it in a terminal. In scripts use piramid list, info or query (with --json).',
      });
    }
    const backend = await this.backend({ createIfMissing: false, embed: embedConnection(this.flags) });
    const collection = this.args.collection;
    if (collection !== undefined) await backend.assertCollection(collection);
    const source = backend instanceof RemoteBackend ? (backend.reason.kind === 'explicit' ? backend.client.url : `${this.flags['data-dir']} via ${backend.client.url}`) : this.flags['data-dir'];
    // Ink draws only the final frame when it thinks it runs in CI (a CI variable in the environment);
    // a person at a terminal wants every frame, so Ink is loaded after that variable is dropped.
    delete process.env.CI;
    const { launchBrowser } = await import('../tui/launch.js');
    const result = await launchBrowser(backend, {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      source,
      theme: themeFromEnv(process.env),
      ...(collection === undefined ? {} : { initialCollection: collection }),
    });
    if (result.reason === 'signal') process.exitCode = EXIT.interrupted;
  }
}
