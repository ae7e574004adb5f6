import type { Collection } from '../collection.js';
import type { Database } from '../database.js';
import type { ChunkingOptions } from '../document-plan.js';
import { parseDocument, type ValidDocument } from '../document.js';
import { PiramidError, isPiramidError, type ErrorCode, type ErrorLocation } from '../errors.js';
import type { CreateCollectionOptions } from '../types.js';
import { applyFieldMap, type FieldMap } from './field-map.js';
import type { Source, SourceItem } from './sources.js';

export type OnError = 'abort' | 'skip';

export interface IngestProgress {
  /** Input documents read (lines, array items, files). */
  read: number;
  /** Input consumed, against Source.total. */
  done: number;
  added: number;
  updated: number;
  unchanged: number;
  skipped: number;
  /** Records (chunks) written. */
  records: number;
}

/** Reported after each batch is committed: everything up to `through` is stored. */
export interface BatchAcknowledgement extends IngestProgress {
  through: ErrorLocation;
}

export interface IngestOptions {
  collection: string;
  batchSize?: number;
  onError?: OnError;
  /** When the collection does not exist: create it with these options, or refuse (false). */
  create?: CreateCollectionOptions | false;
  chunking?: ChunkingOptions | false;
  fieldMap?: FieldMap;
  /** Delete documents previously ingested from this folder that it no longer holds. */
  prune?: boolean;
  sync?: boolean;
  /** Stops reading when aborted; the batch in hand is still written, then the summary returns. */
  signal?: AbortSignal;
  onProgress?: (progress: IngestProgress) => void;
  onBatch?: (ack: BatchAcknowledgement) => void;
  onCollection?: (collection: Collection, created: boolean) => void;
}

export interface ItemError {
  location: ErrorLocation;
  code: ErrorCode;
  message: string;
}

export interface IngestSummary extends IngestProgress {
  collection: string;
  created: boolean;
  /** Documents removed by prune. */
  pruned: number;
  /** True when the signal stopped the ingest before the input ended. */
  interrupted: boolean;
  /** Errors of skipped documents (first 100). */
  errors: ItemError[];
}

export const DEFAULT_BATCH_SIZE = 256;
const MAX_REPORTED_ERRORS = 100;

/**
 * Streams documents from a source into a collection in batches. Each batch is one atomic write, so
 * after a failure or a kill every acknowledged batch is stored and nothing after it is; documents
 * already stored unchanged are skipped, so running the same ingest again finishes the job without
 * duplicates. With onError `abort`, the good documents before a bad one are written, then the error
 * (with its file, line or item, and field) is thrown; with `skip`, bad ones are counted and reported.
 */
export async function ingest(db: Database, source: Source, options: IngestOptions): Promise<IngestSummary> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new PiramidError('INVALID_ARGUMENT', `batch size must be a positive integer; got ${batchSize}.`);
  }
  const onError = options.onError ?? 'abort';
  const progress: IngestProgress = { read: 0, done: 0, added: 0, updated: 0, unchanged: 0, skipped: 0, records: 0 };
  const errors: ItemError[] = [];
  const seen = new Set<string>();
  let collection = (await db.hasCollection(options.collection)) ? await db.collection(options.collection) : undefined;
  let created = false;
  if (collection !== undefined) options.onCollection?.(collection, false);
  let batch: { doc: ValidDocument; location: ErrorLocation }[] = [];

  const createFor = async (first: ValidDocument): Promise<Collection> => {
    if (options.create === false || options.create === undefined) {
      throw new PiramidError('COLLECTION_NOT_FOUND', `Collection "${options.collection}" does not exist.`, {
        hint: `Create it first: piramid create ${options.collection}`,
      });
    }
    // A first document that brings its own vector sets the dimension; text-only means a model.
    const createOptions: CreateCollectionOptions =
      first.vector !== undefined && options.create.embedder === undefined
        ? { ...options.create, embedder: 'none', dimension: options.create.dimension ?? first.vector.length }
        : options.create;
    collection = await db.createCollection(options.collection, createOptions);
    created = true;
    options.onCollection?.(collection, true);
    return collection;
  };

  // One batch is written while the next is read and parsed (which is most of a vectors-given
  // ingest's time): `flush` starts a write after the previous one is acknowledged, and returns.
  let inflight: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    const current = batch;
    const first = current[0];
    if (first === undefined) return;
    batch = [];
    await inflight; // acknowledgements stay in order, and a failed write stops the ingest here
    const target = collection ?? (await createFor(first.doc));
    const write = (async () => {
      try {
        const result = await target.upsertValid(
          current.map((b) => b.doc),
          {
            ...(options.sync === true ? { sync: true } : {}),
            ...(options.chunking === undefined ? {} : { chunking: options.chunking }),
            ...(source.folder === undefined ? {} : { source: source.folder }),
          },
        );
        result.ids.forEach((id) => seen.add(id));
        progress.added += result.added;
        progress.updated += result.updated;
        progress.unchanged += result.unchanged;
        progress.records += result.records;
      } catch (err) {
        throw locateBatchError(err, current.map((b) => b.location));
      }
      const through = (current[current.length - 1] as { location: ErrorLocation }).location;
      options.onBatch?.({ ...progress, through });
      options.onProgress?.({ ...progress });
    })();
    write.catch(() => undefined); // observed by the next flush or by drain
    inflight = write;
  };
  /** Writes what is left and waits for every acknowledgement. */
  const drain = async (): Promise<void> => {
    await flush();
    await inflight;
  };

  let interrupted = false;
  for await (const item of source.items) {
    progress.read += 1;
    progress.done += item.bytes;
    let doc: ValidDocument;
    try {
      doc = toDocument(item, collection?.config.dimension ?? batch.find((b) => b.doc.vector !== undefined)?.doc.vector?.length, options.fieldMap);
    } catch (err) {
      if (!isPiramidError(err) || onError === 'abort') {
        await drain(); // the good documents before the bad one are kept
        throw err;
      }
      progress.skipped += 1;
      if (errors.length < MAX_REPORTED_ERRORS) errors.push({ location: err.location ?? item.location, code: err.code, message: err.message });
      continue;
    }
    batch.push({ doc, location: item.location });
    if (batch.length >= batchSize) await flush();
    if (options.signal?.aborted === true) {
      interrupted = true;
      break;
    }
  }
  await drain();

  let pruned = 0;
  if (options.prune === true && !interrupted && collection !== undefined) {
    if (source.folder === undefined) throw new PiramidError('INVALID_ARGUMENT', '--prune applies to folder ingests only.');
    const gone = (await collection.documentsFromSource(source.folder)).filter((id) => !seen.has(id));
    if (gone.length > 0) pruned = (await collection.delete(gone, options.sync === true ? { sync: true } : {})).deleted;
  }
  return { collection: options.collection, created, ...progress, pruned, interrupted, errors };
}

function toDocument(item: SourceItem, dimension: number | undefined, fieldMap: FieldMap | undefined): ValidDocument {
  if (item.value instanceof PiramidError) throw item.value;
  const value = item.document === true ? item.value : applyFieldMap(item.value, fieldMap, item.location);
  return parseDocument(value, dimension, item.location);
}

/** An error raised for a whole batch (e.g. by the embedder) gets the batch's extent. */
function locateBatchError(err: unknown, locations: ErrorLocation[]): unknown {
  if (!isPiramidError(err) || err.location?.line !== undefined || err.location?.item !== undefined) return err;
  const match = /^documents\[(\d+)\]/.exec(err.location?.field ?? '');
  const at = match ? locations[Number(match[1])] : undefined;
  const field = err.location?.field?.replace(/^documents\[\d+\]\.?/, '');
  if (at !== undefined) return new PiramidError(err.code, err.message, { location: { ...at, ...(field ? { field } : {}) }, ...(err.hint ? { hint: err.hint } : {}), cause: err });
  const first = locations[0];
  const last = locations[locations.length - 1];
  const extent = first?.line !== undefined ? ` (lines ${first.line}-${last?.line ?? first.line})` : '';
  return new PiramidError(err.code, err.message + extent, { location: { ...(first?.file === undefined ? {} : { file: first.file }) }, ...(err.hint ? { hint: err.hint } : {}), cause: err });
}
