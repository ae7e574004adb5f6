import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { DEFAULT_DATA_DIR, dataDirFlag } from './cli/folder-flags.js';
import { EmbeddedBackend, type Backend } from './client/backend.js';
import { findServer } from './client/discovery.js';
import { PiramidClient, RemoteError } from './client/http-client.js';
import { RemoteBackend } from './client/remote-backend.js';
import { Database } from './engine/database.js';
import { createEmbedderFactory, type EmbedderConnection } from './engine/embed/registry.js';
import { isPiramidError } from './engine/errors.js';
import { asStorageError } from './engine/storage-errors.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { formatError, info, warning } from './ui/output.js';

export type InferredFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;
export type InferredArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

export { DEFAULT_COLLECTION, DEFAULT_DATA_DIR, collectionFlag } from './cli/folder-flags.js';

/** Where HTTP embedders (openai:, ollama:) are reached: flags or environment, never stored. */
export const embedFlags = {
  'embed-url': Flags.string({ description: 'Base URL of the embedding server (openai:/ollama: embedders).', env: 'PIRAMID_EMBED_URL', helpGroup: 'EMBEDDER' }),
  'embed-api-key': Flags.string({ description: 'API key for the embedding server.', env: 'PIRAMID_EMBED_API_KEY', helpGroup: 'EMBEDDER' }),
};

/**
 * Where a running `piramid serve` is reached, for every command but serve itself. Without --url, a
 * command that finds its data folder locked by a server (serve.json, live pid, /healthz answers)
 * uses that server on its own, and says so on stderr.
 */
export const serverFlags = {
  url: Flags.string({ description: 'Run through the piramid server at this URL instead of opening the data folder.', env: 'PIRAMID_URL', helpGroup: 'SERVER' }),
  'api-key': Flags.string({ description: 'API key sent to the server (--url, or the server found holding the data folder).', env: 'PIRAMID_API_KEY', helpGroup: 'SERVER' }),
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
    'data-dir': dataDirFlag,
    'build-threads': Flags.integer({
      description: 'OpenMP threads for index builds, training and adds (default: every core, one when the machine is busy). Queries run on one thread.',
      env: 'PIRAMID_BUILD_THREADS',
      min: 1,
      max: 1024,
      helpGroup: 'GLOBAL',
    }),
  };

  protected flags!: InferredFlags<T>;
  protected args!: InferredArgs<T>;
  private database: Database | undefined;
  private chosenBackend: Backend | undefined;

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
  protected async openDatabase(options: { createIfMissing?: boolean; embed?: EmbedderConnection; syncWrites?: boolean; responsive?: boolean } = {}): Promise<Database> {
    this.database ??= await Database.open(this.flags['data-dir'], {
      createIfMissing: options.createIfMissing ?? true,
      syncWrites: options.syncWrites === true,
      responsive: options.responsive === true,
      ...(this.flags['build-threads'] === undefined ? {} : { threads: { build: this.flags['build-threads'] } }),
      embedderFactory: createEmbedderFactory(options.embed ?? {}),
      onWarning: (w) => warning(`${w.collection}: ${w.message}`),
    });
    return this.database;
  }

  /**
   * The database the command works on: a server when --url (PIRAMID_URL) names one; otherwise the
   * data folder, opened here, or, when it is locked by a live `piramid serve` that wrote its
   * serve.json there, that server. A stale serve.json is ignored (the lock error stands).
   */
  protected async backend(options: { createIfMissing?: boolean; embed?: EmbedderConnection } = {}): Promise<Backend> {
    if (this.chosenBackend !== undefined) return this.chosenBackend;
    const { url, apiKey } = this.serverOptions();
    if (url !== undefined) {
      this.chosenBackend = new RemoteBackend(new PiramidClient(url, apiKey === undefined ? {} : { apiKey }), { kind: 'explicit' });
    } else {
      this.chosenBackend = await this.localOrServed(options, apiKey);
    }
    // --embed-url/--embed-api-key (often set in the environment) are the server's business there.
    return this.chosenBackend;
  }

  /** The folder opened here, or the live server that holds its lock. */
  private async localOrServed(options: { createIfMissing?: boolean; embed?: EmbedderConnection }, apiKey: string | undefined): Promise<Backend> {
    try {
      return new EmbeddedBackend(await this.openDatabase(options));
    } catch (err) {
      if (!isPiramidError(err, 'DATABASE_LOCKED')) throw err;
      const dataDir = this.flags['data-dir'];
      const found = await findServer(dataDir, apiKey === undefined ? {} : { apiKey });
      if (found === undefined) throw err;
      info(`piramid: ${dataDir} is served by ${found.client.url}; using it`);
      return new RemoteBackend(found.client, { kind: 'discovered', dataDir });
    }
  }

  /** --url and --api-key, on the commands that declare them (serverFlags); empty means unset. */
  private serverOptions(): { url?: string; apiKey?: string } {
    const flags = this.flags as Partial<Record<string, unknown>>;
    const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);
    const url = text(flags.url);
    const apiKey = text(flags['api-key']);
    return { ...(url === undefined ? {} : { url }), ...(apiKey === undefined ? {} : { apiKey }) };
  }

  protected override async finally(err: Error | undefined): Promise<void> {
    const database = this.database;
    const backend = this.chosenBackend;
    this.database = undefined;
    this.chosenBackend = undefined;
    try {
      await backend?.close();
      await database?.close();
    } catch (closeErr) {
      // The command's own error (if any) is the one to report; a failed close after success is reported here.
      if (err === undefined) await this.catch(asStorageError(closeErr, this.flags['data-dir']) as Error);
      else warning(`could not close ${this.flags['data-dir']} cleanly: ${(closeErr as Error).message}`);
    } finally {
      await super.finally(err);
    }
  }

  protected override async catch(thrown: Error & { exitCode?: number }): Promise<void> {
    // A full disk or a read-only folder, however it surfaced, is said in plain words.
    const err = asStorageError(thrown, this.flags?.['data-dir'] ?? DEFAULT_DATA_DIR) as Error & { exitCode?: number };
    if (isPiramidError(err)) {
      // A server-only failure (no API key, ...) keeps the server's code and has its own exit code.
      const remote = err instanceof RemoteError ? err : undefined;
      process.exitCode = remote?.exit ?? exitCodeFor(err.code);
      if (this.jsonEnabled()) this.logJson({ error: remote?.wireJson() ?? err.toJSON() });
      else process.stderr.write(`${remote === undefined ? formatError(err) : formatError(err).replace(`[${err.code}]`, `[${remote.wireCode}]`)}\n`);
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
