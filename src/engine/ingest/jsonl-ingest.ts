import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Collection } from '../collection.js';
import type { Database } from '../database.js';
import { parseDocument, type ValidDocument } from '../document.js';
import { PiramidError, isPiramidError, type ErrorCode } from '../errors.js';
import type { CreateCollectionOptions } from '../types.js';

export type OnError = 'abort' | 'skip';

export interface IngestProgress {
  lines: number;
  bytes: number;
  added: number;
  updated: number;
  skipped: number;
}

export interface JsonlIngestOptions {
  collection: string;
  /** Name used in error messages: the file path, or `<stdin>`. */
  sourceName: string;
  batchSize?: number;
  onError?: OnError;
  /** When the collection does not exist: create it with these options, or refuse (false). */
  create?: CreateCollectionOptions | false;
  sync?: boolean;
  onProgress?: (progress: IngestProgress) => void;
  /** Called with the collection once it exists (e.g. to report that it was created). */
  onCollection?: (collection: Collection, created: boolean) => void;
}

export interface LineError {
  line: number;
  code: ErrorCode;
  message: string;
}

export interface IngestSummary extends IngestProgress {
  collection: string;
  created: boolean;
  /** Errors of skipped lines (first 100). */
  errors: LineError[];
}

export const DEFAULT_BATCH_SIZE = 256;
const MAX_REPORTED_ERRORS = 100;

/**
 * Streams JSONL documents into a collection in batches. Each batch is one atomic write, so after
 * a failure every batch reported as written is stored and nothing after it is. With onError
 * `abort`, the good lines before a bad one are written, then the error (with its line) is thrown;
 * with `skip`, bad lines are counted and reported and the rest goes in.
 */
export async function ingestJsonl(db: Database, input: Readable, options: JsonlIngestOptions): Promise<IngestSummary> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new PiramidError('INVALID_ARGUMENT', `batch size must be a positive integer; got ${batchSize}.`);
  }
  const onError = options.onError ?? 'abort';
  const progress: IngestProgress = { lines: 0, bytes: 0, added: 0, updated: 0, skipped: 0 };
  const errors: LineError[] = [];
  let collection = (await db.hasCollection(options.collection)) ? await db.collection(options.collection) : undefined;
  let created = false;
  if (collection !== undefined) options.onCollection?.(collection, false);
  let batch: ValidDocument[] = [];
  let batchLines: number[] = [];

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const target = collection ?? (await createFor(batch[0] as ValidDocument));
    try {
      const result = await target.upsertValid(batch, options.sync === true ? { sync: true } : {});
      progress.added += result.added;
      progress.updated += result.updated;
    } catch (err) {
      throw locateBatchError(err, options.sourceName, batchLines);
    }
    batch = [];
    batchLines = [];
    options.onProgress?.({ ...progress });
  };

  const createFor = async (first: ValidDocument): Promise<Collection> => {
    if (options.create === false || options.create === undefined) {
      throw new PiramidError('COLLECTION_NOT_FOUND', `Collection "${options.collection}" does not exist.`, {
        hint: `Create it first: piramid create ${options.collection}`,
      });
    }
    // A first document that brings its own vector sets the dimension; text-only means the built-in model.
    const createOptions: CreateCollectionOptions =
      first.vector !== undefined && options.create.embedder === undefined
        ? { ...options.create, embedder: 'none', dimension: options.create.dimension ?? first.vector.length }
        : options.create;
    collection = await db.createCollection(options.collection, createOptions);
    created = true;
    options.onCollection?.(collection, true);
    return collection;
  };

  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    progress.lines += 1;
    progress.bytes += Buffer.byteLength(line) + 1;
    if (line.trim().length === 0) continue;
    const where = { file: options.sourceName, line: progress.lines };
    let doc: ValidDocument;
    try {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new PiramidError('INVALID_INPUT', `not valid JSON (${(err as Error).message}).`, { location: where });
      }
      const dimension = collection?.config.dimension ?? batch.find((d) => d.vector !== undefined)?.vector?.length;
      doc = parseDocument(value, dimension, where);
    } catch (err) {
      if (!isPiramidError(err) || onError === 'abort') {
        await flush(); // the good lines before the bad one are kept
        throw err;
      }
      progress.skipped += 1;
      if (errors.length < MAX_REPORTED_ERRORS) errors.push({ line: where.line, code: err.code, message: err.message });
      continue;
    }
    batch.push(doc);
    batchLines.push(progress.lines);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return { collection: options.collection, created, ...progress, errors };
}

/** An error raised for a whole batch (e.g. by the embedder) gets the batch's line range. */
function locateBatchError(err: unknown, file: string, lines: number[]): unknown {
  if (!isPiramidError(err) || err.location?.line !== undefined) return err;
  const match = /^documents\[(\d+)\]/.exec(err.location?.field ?? '');
  const line = match ? lines[Number(match[1])] : undefined;
  const field = err.location?.field?.replace(/^documents\[\d+\]\.?/, '');
  const location = line === undefined ? { file } : { file, line, ...(field ? { field } : {}) };
  const range = line === undefined && lines.length > 0 ? ` (lines ${lines[0]}-${lines[lines.length - 1]})` : '';
  return new PiramidError(err.code, err.message + range, { location, ...(err.hint ? { hint: err.hint } : {}), cause: err });
}
