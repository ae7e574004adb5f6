import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { Database } from './engine/database.js';
import { createEmbedderFactory, type EmbedderConnection } from './engine/embed/registry.js';
import { isPiramidError } from './engine/errors.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { formatError, warning } from './ui/output.js';

export type InferredFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;
export type InferredArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

export const DEFAULT_DATA_DIR = '.piramid';
export const DEFAULT_COLLECTION = 'default';

/** The `-c/--collection` flag shared by commands that work on one collection. */
export const collectionFlag = Flags.string({
  char: 'c',
  description: 'Collection to use.',
  env: 'PIRAMID_COLLECTION',
  default: DEFAULT_COLLECTION,
});

/** Where HTTP embedders (openai:, ollama:) are reached: flags or environment, never stored. */
export const embedFlags = {
  'embed-url': Flags.string({ description: 'Base URL of the embedding server (openai:/ollama: embedders).', env: 'PIRAMID_EMBED_URL', helpGroup: 'EMBEDDER' }),
  'embed-api-key': Flags.string({ description: 'API key for the embedding server.', env: 'PIRAMID_EMBED_API_KEY', helpGroup: 'EMBEDDER' }),
};

export function embedConnection(flags: { 'embed-url'?: string | undefined; 'embed-api-key'?: string | undefined }): EmbedderConnection {
  return {
    ...(flags['embed-url'] === undefined ? {} : { url: flags['embed-url'] }),
    ...(flags['embed-api-key'] === undefined ? {} : { apiKey: flags['embed-api-key'] }),
  };
}

/**
 * Shared by every command: `--data-dir`, `--json`, opening and always closing the database, and
 * turning engine errors into a message on stderr (or `{"error":{...}}` on stdout with --json)
 * and a stable exit code.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    'data-dir': Flags.string({
      char: 'd',
      description: 'Data folder of the database.',
      env: 'PIRAMID_DATA_DIR',
      default: DEFAULT_DATA_DIR,
      helpGroup: 'GLOBAL',
    }),
  };

  protected flags!: InferredFlags<T>;
  protected args!: InferredArgs<T>;
  private database: Database | undefined;

  override async init(): Promise<void> {
    await super.init();
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as InferredFlags<T>;
    this.args = args as InferredArgs<T>;
  }

  /** Opens the data folder once per command; closed (index checkpointed) in finally(). */
  protected async openDatabase(options: { createIfMissing?: boolean; embed?: EmbedderConnection } = {}): Promise<Database> {
    this.database ??= await Database.open(this.flags['data-dir'], {
      createIfMissing: options.createIfMissing ?? true,
      embedderFactory: createEmbedderFactory(options.embed ?? {}),
      onWarning: (w) => warning(`${w.collection}: ${w.message}`),
    });
    return this.database;
  }

  protected override async finally(err: Error | undefined): Promise<void> {
    const database = this.database;
    this.database = undefined;
    try {
      await database?.close();
    } finally {
      await super.finally(err);
    }
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<void> {
    if (isPiramidError(err)) {
      process.exitCode = exitCodeFor(err.code);
      if (this.jsonEnabled()) this.logJson({ error: err.toJSON() });
      else process.stderr.write(`${formatError(err)}\n`);
      return;
    }
    if (err instanceof Errors.CLIError || err instanceof Errors.ExitError) return super.catch(err);
    process.exitCode = EXIT.internal;
    if (this.jsonEnabled()) this.logJson({ error: { code: 'INTERNAL', message: err.message } });
    else throw err;
  }

  /** JSON results are printed compactly: one line, easy for `jq` and line-oriented tools. */
  override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json)}\n`);
  }
}
