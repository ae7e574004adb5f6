import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { Flags } from '@oclif/core';
import { BaseCommand, embedConnection, embedFlags } from '../base-command.js';
import { PiramidError } from '../engine/errors.js';
import { setBatchSearchThreads } from '../engine/index/faiss-index.js';
import { buildApp, DEFAULT_BODY_LIMIT } from '../server/app.js';
import { busyPollAfterResponses } from '../server/busy-poll.js';
import { BufferedLogStream } from '../server/log-stream.js';
import { removeServeFile, writeServeFile } from '../server/serve-file.js';
import { info } from '../ui/output.js';

export default class Serve extends BaseCommand<typeof Serve> {
  static override description = `Serve the data folder over HTTP: the native REST API under /v1 (see docs/http-api.md),
/healthz, /readyz, /openapi.json and /metrics. The server holds the folder's lock; it writes
serve.json (url, pid, started) into the folder while it runs. SIGINT or SIGTERM stops it
gracefully: requests in flight finish, indexes are checkpointed, then it exits 0.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'PIRAMID_API_KEY=secret <%= config.bin %> <%= command.id %> --host 0.0.0.0 --port 6333',
    '<%= config.bin %> <%= command.id %> --port 0          # any free port; the URL is printed on stderr',
  ];

  static override flags = {
    host: Flags.string({ description: 'Address to listen on.', default: '127.0.0.1' }),
    port: Flags.integer({ char: 'p', description: 'Port to listen on (0: any free port).', default: 6333, min: 0, max: 65535 }),
    'api-key': Flags.string({ description: 'Read-write API key (repeatable); clients send it as "api-key" or "Authorization: Bearer".', env: 'PIRAMID_API_KEY', multiple: true }),
    'read-only-api-key': Flags.string({ description: 'API key allowed on read routes only (repeatable).', env: 'PIRAMID_READ_ONLY_API_KEY', multiple: true }),
    'search-threads': Flags.integer({ description: 'OpenMP threads for searches the server batches together (default: every core). A lone query runs on one thread.', min: 1, max: 1024 }),
    'busy-poll': Flags.integer({
      description:
        'After answering, keep polling for the next request for this many microseconds instead of sleeping (0: off). Cuts tens of microseconds off back-to-back requests, at the cost of a busy core while they keep coming; see docs/serve-performance.md.',
      env: 'PIRAMID_BUSY_POLL',
      default: 0,
      min: 0,
      max: 1_000_000,
    }),
    sync: Flags.boolean({ description: 'fsync every write before acknowledging it (survives power loss; slower). A request can also ask with "sync": true.', default: false }),
    insecure: Flags.boolean({ description: 'Allow listening on a non-loopback address without an API key.', default: false }),
    'body-limit': Flags.integer({ description: 'Largest JSON request body, in bytes (JSONL ingest bodies are streamed).', default: DEFAULT_BODY_LIMIT, min: 1024 }),
    'log-level': Flags.string({
      description: 'Request log level on stdout: JSON lines (pino), human-readable when stdout is a terminal.',
      options: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
    }),
    'tls-cert': Flags.string({ description: 'Serve HTTPS: certificate file (PEM).', dependsOn: ['tls-key'] }),
    'tls-key': Flags.string({ description: 'Serve HTTPS: private key file (PEM).', dependsOn: ['tls-cert'] }),
    ...embedFlags,
  };

  async run(): Promise<{ url: string }> {
    const { flags } = this;
    const readWrite = nonEmpty(flags['api-key']);
    const readOnly = nonEmpty(flags['read-only-api-key']);
    if (!isLoopback(flags.host) && readWrite.length + readOnly.length === 0 && !flags.insecure) {
      throw new PiramidError('INVALID_ARGUMENT', `Refusing to listen on ${flags.host} without an API key: anyone who can reach it could read and change the data.`, {
        hint: 'Set PIRAMID_API_KEY (or --api-key), or pass --insecure if the network is yours alone.',
      });
    }
    const tls = flags['tls-cert'] !== undefined && flags['tls-key'] !== undefined ? await readTls(flags['tls-cert'], flags['tls-key']) : undefined;
    // Idle OpenMP threads sleep instead of spinning (libgomp reads this when the faiss addon loads,
    // on first index use). The server runs batched searches on several threads between stretches of
    // JavaScript: spinning threads then take the cores that JavaScript (and other processes) need.
    // Measured at 16 connections on 2 busy cores: 2-thread batches went from 2.5x slower than
    // 1 thread (spinning) to 1.1-1.4x faster (passive). A user's own setting is kept.
    process.env.OMP_WAIT_POLICY ??= 'passive';
    // With sleeping idle threads, batched searches use every core whatever the load (see
    // setBatchSearchThreads); with a user's spinning policy, the engine's load-aware default.
    if (process.env.OMP_WAIT_POLICY.toLowerCase() === 'passive') setBatchSearchThreads(availableParallelism());
    if (flags['search-threads'] !== undefined) setBatchSearchThreads(flags['search-threads']);
    const db = await this.openDatabase({ embed: embedConnection(flags), syncWrites: flags.sync, responsive: true });
    const logStream = process.stdout.isTTY === true ? undefined : new BufferedLogStream();
    const app = await buildApp({
      db,
      apiKeys: { readWrite, readOnly },
      bodyLimit: flags['body-limit'],
      logger: loggerOptions(flags['log-level'], logStream),
      ...(tls === undefined ? {} : { tls }),
    });
    const stopBusyPoll = flags['busy-poll'] > 0 ? busyPollAfterResponses(app.server, flags['busy-poll']) : undefined;
    // Set up before listening: a signal that arrives early still shuts down cleanly.
    let stop: () => void = () => undefined;
    const stopped = new Promise<string>((resolve) => {
      const onSignal = (signal: NodeJS.Signals): void => resolve(signal);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      stop = () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      };
    });
    let url: string | undefined;
    try {
      await listen(app, flags.host, flags.port);
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : flags.port;
      url = `${tls === undefined ? 'http' : 'https'}://${isIP(flags.host) === 6 ? `[${flags.host}]` : flags.host}:${port}`;
      await writeServeFile(db.location, { url, pid: process.pid, started: new Date().toISOString() });
      info(`listening on ${url}`);
      const signal = await stopped;
      info(`${signal}: stopping (letting requests in flight finish)`);
    } finally {
      stop();
      stopBusyPoll?.();
      // Stop accepting, wait for requests in flight; the base command then closes the database
      // (checkpointing indexes) in finally().
      await app.close();
      logStream?.close();
      if (url !== undefined) await removeServeFile(db.location);
    }
    return { url };
  }
}

async function listen(app: Awaited<ReturnType<typeof buildApp>>, host: string, port: number): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new PiramidError('IO_ERROR', `Cannot listen on ${host}:${port} (${code}).`, {
        hint: code === 'EADDRINUSE' ? 'Another process uses the port: pick another with --port (0 for any free one).' : 'Check --host and --port.',
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * pino: JSON lines on stdout for machines, written in batches (BufferedLogStream: one write per
 * few dozen requests under load, not two per request); pino-pretty when a person watches a terminal.
 */
function loggerOptions(
  level: string,
  stream: BufferedLogStream | undefined,
): false | { level: string; stream?: BufferedLogStream; transport?: { target: string; options: Record<string, unknown> } } {
  if (level === 'silent') return false;
  if (stream === undefined) return { level, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } };
  return { level, stream };
}

async function readTls(certPath: string, keyPath: string): Promise<{ cert: Buffer; key: Buffer }> {
  try {
    const [cert, key] = await Promise.all([readFile(certPath), readFile(keyPath)]);
    return { cert, key };
  } catch (err) {
    throw new PiramidError('INVALID_ARGUMENT', `Cannot read the TLS certificate or key: ${(err as Error).message}`, { hint: 'Pass PEM files to --tls-cert and --tls-key.' });
  }
}

/** Keys from repeated flags, or one from the environment (oclif gives that as a plain string). */
function nonEmpty(keys: string[] | string | undefined): string[] {
  const list = typeof keys === 'string' ? [keys] : (keys ?? []);
  return list.filter((key) => key.length > 0);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
