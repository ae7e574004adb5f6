import { Args, Flags } from '@oclif/core';
import type { IngestResponseJson } from '../client/http-client.js';
import { BaseCommand, collectionFlag, embedConnection, embedFlags, serverFlags } from '../base-command.js';
import { DEFAULT_CHUNKING, type ChunkingOptions } from '../engine/document-plan.js';
import { PiramidError, describeLocation, isPiramidError } from '../engine/errors.js';
import { DEFAULT_BATCH_SIZE, type IngestProgress, type IngestSummary } from '../engine/ingest/ingest.js';
import { jsonlSource, openSource } from '../engine/ingest/sources.js';
import { INDEX_KINDS, METRICS, type CreateCollectionOptions, type IndexKind, type Metric } from '../engine/types.js';
import { EXIT } from '../exit-codes.js';
import { info, warning } from '../ui/output.js';
import { createProgress } from '../ui/progress.js';

/** The `ingest --json` result: what the server's ingest route answers, plus folder pruning. */
export type IngestJson = IngestResponseJson & { pruned: number };

export default class Ingest extends BaseCommand<typeof Ingest> {
  static override description = `Add documents to a collection from a JSONL file, a JSON array file, a folder, or - (stdin).
JSONL/JSON documents: {"id"?: string, "text"?: string, "vector"?: number[], "metadata"?: object}
(--text-field/--id-field map other shapes; their other fields become metadata). A folder is read
recursively: .md, .txt and .html files, one document each, id = relative path, with path, title,
format and mtime as metadata. Long texts are split into chunks "<id>#<n>". Documents already stored
unchanged are skipped, so re-running an interrupted ingest finishes it without duplicates.
A missing collection is created: with the built-in model when the first document has no vector,
as vectors-only otherwise.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> fixtures/docs.jsonl',
    '<%= config.bin %> <%= command.id %> ./notes -c notes --glob "**/*.md" --prune',
    'cat docs.jsonl | <%= config.bin %> <%= command.id %> - -c notes --on-error skip --json',
    '<%= config.bin %> <%= command.id %> faq.jsonl --text-field answer --id-field qid',
  ];

  static override args = {
    path: Args.string({ ignoreStdin: true, description: 'JSONL file, JSON array file, folder, or - for JSONL on stdin.', required: true }),
  };

  static override flags = {
    collection: collectionFlag,
    batch: Flags.integer({ description: 'Documents per atomic write.', default: DEFAULT_BATCH_SIZE, min: 1, max: 100_000 }),
    'on-error': Flags.string({
      description: 'On a bad document: abort (keep what came before, stop) or skip (report it, go on).',
      options: ['abort', 'skip'],
      default: 'abort',
    }),
    'chunk-size': Flags.integer({ description: 'Most characters per chunk.', default: DEFAULT_CHUNKING.size, min: 50 }),
    'chunk-overlap': Flags.integer({ description: 'Characters a chunk may repeat from the one before.', default: DEFAULT_CHUNKING.overlap, min: 0 }),
    'no-chunk': Flags.boolean({ description: 'Keep every document whole, however long.', default: false }),
    'text-field': Flags.string({ description: 'JSON field holding the text (default "text").' }),
    'id-field': Flags.string({ description: 'JSON field holding the id (default "id").' }),
    glob: Flags.string({ description: 'Folder files to read (repeatable); default: all .md, .markdown, .txt, .html, .htm.', multiple: true }),
    prune: Flags.boolean({ description: 'Folder ingest: delete documents from earlier ingests of this folder whose files are gone.', default: false }),
    sync: Flags.boolean({ description: 'fsync every batch before acknowledging it (slower, survives power loss).', default: false }),
    verbose: Flags.boolean({ char: 'v', description: 'Report every acknowledged batch on stderr.', default: false }),
    embedder: Flags.string({ description: 'Embedder when the collection is created here: use, openai:<model>, ollama:<model> or none.' }),
    metric: Flags.string({ description: 'Metric when the collection is created here.', options: [...METRICS] }),
    index: Flags.string({ description: 'Index kind when the collection is created here.', options: [...INDEX_KINDS] }),
    ...embedFlags,
    ...serverFlags,
  };

  async run(): Promise<IngestJson> {
    const { flags } = this;
    const chunking = this.chunking();
    const fromStdin = this.args.path === '-';
    const source = fromStdin ? jsonlSource(process.stdin, '<stdin>') : await openSource(this.args.path, flags.glob === undefined ? {} : { globs: flags.glob });
    if (flags.prune && source.folder === undefined) {
      throw new PiramidError('INVALID_ARGUMENT', '--prune applies to folder ingests only.', { hint: 'Pass a folder path to prune its removed files.' });
    }
    const create: CreateCollectionOptions = {};
    if (flags.embedder !== undefined) create.embedder = flags.embedder;
    if (flags.metric !== undefined) create.metric = flags.metric as Metric;
    if (flags.index !== undefined) create.index = flags.index as IndexKind;

    const backend = await this.backend({ embed: embedConnection(flags) });
    const unit = source.folder === undefined ? '' : ' files';
    const progress = await createProgress(source.total, `{bar} {percentage}% | {docs} docs | {chunks} chunks | {rate} docs/s | ETA {eta_formatted}${unit}`, {
      docs: 0,
      chunks: 0,
      rate: 0,
    });
    // Ctrl-C finishes the batch in hand, then stops: everything reported is stored, and running
    // the same command again picks up where this one stopped.
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let last: IngestProgress | undefined;
    let createdNote: string | undefined; // printed after the progress bar is gone
    const started = Date.now();
    let summary: IngestSummary;
    try {
      summary = await backend.ingest(source, {
        collection: flags.collection,
        batchSize: flags.batch,
        onError: flags['on-error'] as 'abort' | 'skip',
        create,
        chunking,
        ...(flags['text-field'] === undefined && flags['id-field'] === undefined
          ? {}
          : { fieldMap: { ...(flags['text-field'] === undefined ? {} : { text: flags['text-field'] }), ...(flags['id-field'] === undefined ? {} : { id: flags['id-field'] }) } }),
        prune: flags.prune,
        sync: flags.sync,
        signal: stop.signal,
        onCreated: (collection) => {
          createdNote = `Created collection ${collection.name} (embedder ${collection.embedder}, ${collection.dimension} dims).`;
        },
        onProgress: (p) => {
          last = p;
          const seconds = Math.max(0.001, (Date.now() - started) / 1000);
          const docs = p.added + p.updated + p.unchanged;
          progress.update(p.done, { docs, chunks: p.records, rate: Math.round(docs / seconds) });
        },
        onBatch: (ack) => {
          if (flags.verbose) info(`acknowledged through ${describeLocation(ack.through)}: ${ack.added} added, ${ack.updated} updated, ${ack.unchanged} unchanged`);
        },
      });
    } catch (err) {
      progress.stop();
      if (isPiramidError(err) && last !== undefined && last.added + last.updated > 0) {
        info(`Stored before the error: ${last.added} documents added, ${last.updated} updated.`);
      }
      throw err;
    } finally {
      progress.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (fromStdin && summary.read === 0) {
      throw new PiramidError('INVALID_INPUT', 'stdin was empty: no documents to ingest.', { location: { file: '<stdin>' } });
    }
    const tookMs = Date.now() - started;
    if (!this.jsonEnabled()) {
      if (createdNote !== undefined) info(createdNote);
      for (const e of summary.errors) warning(`${describeLocation(e.location)}: ${e.message} [${e.code}]`);
      const docs = summary.added + summary.updated;
      const rate = Math.round((docs * 1000) / Math.max(1, tookMs));
      info(
        `${summary.interrupted ? 'Interrupted: ingested' : 'Ingested'} ${this.args.path} into ${summary.collection}: ${summary.added} added, ` +
          `${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.skipped} skipped` +
          `${source.folder === undefined ? '' : `, ${summary.pruned} pruned`} (${summary.records} records) in ${(tookMs / 1000).toFixed(1)} s (${rate} docs/s).`,
      );
      if (summary.interrupted) info('Run the same command again to finish: stored documents are skipped.');
    }
    if (summary.interrupted) process.exitCode = EXIT.interrupted;
    return { ...summary, took_ms: tookMs };
  }

  private chunking(): ChunkingOptions | false {
    const { flags } = this;
    if (flags['no-chunk']) return false;
    if (flags['chunk-overlap'] >= flags['chunk-size']) {
      throw new PiramidError('INVALID_ARGUMENT', `--chunk-overlap (${flags['chunk-overlap']}) must be smaller than --chunk-size (${flags['chunk-size']}).`);
    }
    return { size: flags['chunk-size'], overlap: flags['chunk-overlap'] };
  }
}
