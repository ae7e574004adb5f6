import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, collectionFlag } from '../base-command.js';
import { PiramidError, isPiramidError } from '../engine/errors.js';
import { DEFAULT_BATCH_SIZE, ingestJsonl, type IngestProgress, type IngestSummary, type LineError } from '../engine/ingest/jsonl-ingest.js';
import { INDEX_KINDS, METRICS, type CreateCollectionOptions, type IndexKind, type Metric } from '../engine/types.js';
import { info, plural, warning } from '../ui/output.js';
import { createProgress } from '../ui/progress.js';

export interface IngestJson {
  collection: string;
  created: boolean;
  lines: number;
  added: number;
  updated: number;
  skipped: number;
  errors: LineError[];
  took_ms: number;
}

export default class Ingest extends BaseCommand<typeof Ingest> {
  static override description = `Add documents from a JSONL file (or - for stdin) to a collection.
Each line: {"id"?: string, "text"?: string, "vector"?: number[], "metadata"?: object}. Documents
with text and no vector are embedded with the collection's model. A missing collection is created:
with the built-in model when the first document has no vector, as vectors-only otherwise.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> fixtures/docs.jsonl',
    'cat docs.jsonl | <%= config.bin %> <%= command.id %> - -c notes --on-error skip --json',
  ];

  static override args = {
    file: Args.string({ description: 'JSONL file to read, or - for stdin.', required: true }),
  };

  static override flags = {
    collection: collectionFlag,
    batch: Flags.integer({ description: 'Documents per atomic write.', default: DEFAULT_BATCH_SIZE, min: 1, max: 100_000 }),
    'on-error': Flags.string({
      description: 'On a bad line: abort (keep what came before, stop) or skip (report it, go on).',
      options: ['abort', 'skip'],
      default: 'abort',
    }),
    sync: Flags.boolean({ description: 'fsync every batch before acknowledging it (slower, survives power loss).', default: false }),
    embedder: Flags.string({ description: 'Embedder when the collection is created here: use or none.' }),
    metric: Flags.string({ description: 'Metric when the collection is created here.', options: [...METRICS] }),
    index: Flags.string({ description: 'Index kind when the collection is created here.', options: [...INDEX_KINDS] }),
  };

  async run(): Promise<IngestJson> {
    const { flags } = this;
    const fromStdin = this.args.file === '-';
    const sourceName = fromStdin ? '<stdin>' : this.args.file;
    const totalBytes = fromStdin ? 0 : await fileSize(this.args.file);
    const input: Readable = fromStdin ? process.stdin : createReadStream(this.args.file);

    const create: CreateCollectionOptions = {};
    if (flags.embedder !== undefined) create.embedder = flags.embedder;
    if (flags.metric !== undefined) create.metric = flags.metric as Metric;
    if (flags.index !== undefined) create.index = flags.index as IndexKind;

    const db = await this.openDatabase();
    const progress = await createProgress(totalBytes, '{bar} {percentage}% | {docs} docs | {rate} docs/s | ETA {eta_formatted}', { docs: 0, rate: 0 });
    let last: IngestProgress = { lines: 0, bytes: 0, added: 0, updated: 0, skipped: 0 };
    let createdNote: string | undefined; // printed after the progress bar is gone
    const started = Date.now();
    let summary: IngestSummary;
    try {
      summary = await ingestJsonl(db, input, {
        collection: flags.collection,
        sourceName,
        batchSize: flags.batch,
        onError: flags['on-error'] as 'abort' | 'skip',
        create,
        sync: flags.sync,
        onCollection: (collection, created) => {
          if (created) createdNote = `Created collection ${collection.name} (embedder ${collection.config.embedder?.name ?? 'none'}, ${collection.config.dimension} dims).`;
        },
        onProgress: (p) => {
          last = p;
          const seconds = Math.max(0.001, (Date.now() - started) / 1000);
          progress.update(p.bytes, { docs: p.added + p.updated, rate: Math.round((p.added + p.updated) / seconds) });
        },
      });
    } catch (err) {
      progress.stop();
      if (isPiramidError(err) && (last.added > 0 || last.updated > 0)) {
        info(`Stored before the error: ${plural(last.added, 'document')} added, ${last.updated} updated.`);
      }
      throw err;
    } finally {
      progress.stop();
    }
    if (fromStdin && summary.lines === 0) {
      throw new PiramidError('INVALID_INPUT', 'stdin was empty: no documents to ingest.', { location: { file: sourceName } });
    }
    const tookMs = Date.now() - started;
    if (!this.jsonEnabled()) {
      if (createdNote !== undefined) info(createdNote);
      for (const e of summary.errors) warning(`${sourceName}, line ${e.line}: ${e.message} [${e.code}]`);
      const rate = Math.round(((summary.added + summary.updated) * 1000) / Math.max(1, tookMs));
      info(
        `Ingested ${sourceName} into ${summary.collection}: ${summary.added} added, ${summary.updated} updated, ` +
          `${summary.skipped} skipped in ${(tookMs / 1000).toFixed(1)} s (${rate} docs/s).`,
      );
    }
    return { ...summary, took_ms: tookMs };
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    throw new PiramidError('INVALID_ARGUMENT', `Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`, {
      location: { file: path },
    });
  }
}
