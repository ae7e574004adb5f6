import type { AbstractSublevel } from 'abstract-level';
import type { Level } from 'level';
import { dirname } from 'node:path';
import { asStorageError } from '../storage-errors.js';
import type { IndexFileStamp } from '../index/index-file.js';
import type { StoredRecord } from '../types.js';
import { decodeLabel, encodeLabel } from './keys.js';
import { RecordCache } from './record-cache.js';
import { documentEntryJson, recordJson } from './record-json.js';
import { decodeVector, encodeVector } from './vector-codec.js';

export type RootLevel = Level<string, string>;
type Sub<V> = AbstractSublevel<RootLevel, string | Buffer | Uint8Array, string, V>;

/** One document written by an upsert: its new label, and the label it replaces, if any. */
export interface LabelledWrite {
  id: string;
  label: number;
  record: StoredRecord;
  vector: Float32Array;
  previousLabel: number | undefined;
}

export interface LabelledDelete {
  id: string;
  label: number;
}

/** What the collection remembers of a source document: enough to skip or replace it. */
export interface DocumentEntry {
  /** Hash of everything that shaped its records (text, vector, metadata, chunking). */
  hash: string;
  /** Ids of the records it produced: itself, or its chunks `<id>#<n>`. */
  records: string[];
  /** The folder it was ingested from, for `--prune`. */
  source?: string;
}

/** A document registry change: an entry to put, or null to remove the document. */
export interface DocumentWrite {
  id: string;
  entry: DocumentEntry | null;
  /** Whether the document is stored now, when the caller already read it (saves a lookup). */
  existed?: boolean;
}

/** What derived indexes write into: the collection's own batch on the root, raw keys. */
export interface RawBatch {
  put(key: string, value: string): unknown;
  del(key: string): unknown;
}

/** Everything one atomic write changes. */
export interface WriteSet {
  upserts: readonly LabelledWrite[];
  deletes: readonly LabelledDelete[];
  documents: readonly DocumentWrite[];
  /** Derived keys kept in step with the records (payload and keyword indexes): raw, pre-prefixed. */
  derived?: { puts: readonly (readonly [string, string])[]; dels: readonly string[] };
}

/** How one WriteSet is committed. */
export interface WriteOptions {
  /** fsync before acknowledging. */
  sync?: boolean;
  /** Adds the keys of a derived index that must read the store first (the keyword index). */
  stage?: (batch: RawBatch) => Promise<void>;
  /** The counts before the write, when the caller holds them (the collection caches them): saves a read. */
  before?: Counts;
  /**
   * Work to run on this thread while LevelDB commits on its own (adding the vectors to faiss):
   * the two overlap. If the write fails, its error is thrown and the caller must undo what this
   * did; if only this fails, the write stands and this error is thrown after it.
   */
  whileCommitting?: () => Promise<void>;
}

export interface Counts {
  /** Live records (chunks, or whole documents when unchunked). */
  records: number;
  documents: number;
}

export interface LabelledVector {
  label: number;
  vector: Float32Array;
}

export interface CollectionStoreOptions {
  /** Bytes of recently read records kept in memory (0: none). Default DEFAULT_RECORD_CACHE_BYTES. */
  recordCacheBytes?: number;
}

/** 32 MB: ~10k RAG chunks of ~1.5 KB, or every record of a 300k-vector collection without text. */
export const DEFAULT_RECORD_CACHE_BYTES = 32 * 1024 * 1024;

const COUNT_KEY = 'count';
const DOCUMENTS_KEY = 'documents';
const SYNC_READ_LIMIT = 64;
const INDEX_STAMP_KEY = 'index';
const VECTOR_ENCODING = { valueEncoding: 'buffer' } as const;

/**
 * The LevelDB layout of one collection: sublevels named `c~<name>~<part>` (sublevels of the
 * root, so one batch can write them all atomically; collection names cannot contain "~").
 * A record is what the index searches: a whole document, or one chunk of it.
 *   ids  <id>       -> label (hex)        which label holds the live version of a document
 *   rec  <label>    -> StoredRecord JSON  present only while that label is live
 *   vec  <label>    -> Float32 bytes      every label issued since the last compact, live or not,
 *                                         so the index can be replayed label by label
 *   docs <doc id>   -> DocumentEntry      per source document: content hash and its record ids
 *   meta count      -> live record count    } kept in the same batches as
 *   meta documents  -> document count       } the records they count
 *   file index      -> stamp of the index checkpoint last known to match its checksum
 * A search resolves faiss labels with one getMany on rec!: a missing record means "deleted".
 */
export class CollectionStore {
  private readonly prefix: string;
  private readonly ids: Sub<string>;
  private readonly records: Sub<StoredRecord>;
  private readonly vectors: Sub<Uint8Array>;
  private readonly meta: Sub<number>;
  private readonly files: Sub<IndexFileStamp>;
  private readonly documents: Sub<DocumentEntry>;
  /** The records sublevel again, values as stored (JSON text), for the record cache. */
  private readonly recordTexts: Sub<string>;
  private readonly recordCache: RecordCache | undefined;
  /** Maintenance in progress: records may be rewritten under their labels, so nothing is cached. */
  private recordCachePaused = false;

  constructor(
    private readonly root: RootLevel,
    name: string,
    options: CollectionStoreOptions = {},
  ) {
    this.prefix = `c~${name}~`;
    this.ids = root.sublevel<string, string>(`${this.prefix}ids`, {});
    this.records = root.sublevel<string, StoredRecord>(`${this.prefix}rec`, { valueEncoding: 'json' });
    this.recordTexts = root.sublevel<string, string>(`${this.prefix}rec`, {});
    const cacheBytes = options.recordCacheBytes ?? DEFAULT_RECORD_CACHE_BYTES;
    this.recordCache = cacheBytes > 0 ? new RecordCache(cacheBytes) : undefined;
    this.vectors = root.sublevel<string, Uint8Array>(`${this.prefix}vec`, { valueEncoding: 'view' });
    this.meta = root.sublevel<string, number>(`${this.prefix}meta`, { valueEncoding: 'json' });
    this.files = root.sublevel<string, IndexFileStamp>(`${this.prefix}file`, { valueEncoding: 'json' });
    this.documents = root.sublevel<string, DocumentEntry>(`${this.prefix}docs`, { valueEncoding: 'json' });
  }

  /** Raw key prefixes of each part on the root (`!c~<name>~rec!`...), for maintenance scans. */
  get keyPrefixes(): Readonly<Record<'ids' | 'records' | 'vectors' | 'meta' | 'files' | 'documents', string>> {
    return {
      ids: this.ids.prefix,
      records: this.records.prefix,
      vectors: this.vectors.prefix,
      meta: this.meta.prefix,
      files: this.files.prefix,
      documents: this.documents.prefix,
    };
  }

  /** Every key of the collection lies in [gte, lt) on the root, derived indexes included. */
  get keyRange(): { gte: string; lt: string } {
    const start = `!${this.prefix}`;
    return { gte: start, lt: `${start}\x7f` };
  }

  get rootLevel(): RootLevel {
    return this.root;
  }

  /** Sets the live counters (verify --repair, after counting). */
  async setCounts(counts: Counts): Promise<void> {
    await this.meta.batch().put(COUNT_KEY, counts.records).put(DOCUMENTS_KEY, counts.documents).write({ sync: true });
  }

  async labelsOf(ids: readonly string[]): Promise<(number | undefined)[]> {
    if (ids.length === 0) return [];
    const keys = await this.ids.getMany([...ids]);
    return keys.map((key) => (key === undefined ? undefined : decodeLabel(key)));
  }

  async recordsAt(labels: readonly number[]): Promise<(StoredRecord | undefined)[]> {
    if (labels.length === 0) return [];
    // A search resolves ~k labels: synchronous gets skip the thread-pool round trip of getMany
    // (about half the time, measured) and block the loop only for microseconds. Big sets go async.
    if (labels.length <= SYNC_READ_LIMIT) return labels.map((label) => this.recordAtSync(label));
    return this.records.getMany(labels.map(encodeLabel));
  }

  /** Synchronous lookups for per-candidate checks inside a scoring loop (keyword search filters). */
  recordByIdSync(id: string): StoredRecord | undefined {
    const key = this.ids.getSync(id);
    return key === undefined ? undefined : this.recordAtSync(decodeLabel(key));
  }

  /**
   * Runs maintenance that may rewrite records under their labels (compact renumbers them): the
   * record cache is emptied before and after, and holds nothing meanwhile.
   */
  async withoutRecordCache<T>(work: () => Promise<T>): Promise<T> {
    this.recordCache?.clear();
    this.recordCachePaused = true;
    try {
      return await work();
    } finally {
      this.recordCachePaused = false;
      this.recordCache?.clear();
    }
  }

  /**
   * One record, through the cache. Only this synchronous path fills it: nothing can commit
   * between the read and the fill, so a deleted label's eviction can never be overtaken.
   */
  private recordAtSync(label: number): StoredRecord | undefined {
    const cache = this.recordCachePaused ? undefined : this.recordCache;
    let json = cache?.get(label);
    if (json === undefined) {
      json = this.recordTexts.getSync(encodeLabel(label));
      if (json === undefined) return undefined;
      cache?.set(label, json);
    }
    return JSON.parse(json) as StoredRecord;
  }

  /** Live records in label order, in chunks (for backfilling derived indexes, and exact scans). */
  async *recordsInLabelOrder(chunkSize = 1024): AsyncGenerator<{ label: number; record: StoredRecord }[]> {
    const iterator = this.records.iterator();
    try {
      for (;;) {
        const entries = await iterator.nextv(chunkSize);
        if (entries.length === 0) return;
        yield entries.map(([key, record]) => ({ label: decodeLabel(key), record }));
      }
    } finally {
      await iterator.close();
    }
  }

  /**
   * Live record ids (with their labels) in id order (UTF-8 byte order of the id), from `fromId`
   * on (inclusive), in chunks: for paging through a collection (Collection.scroll).
   */
  async *idsInOrder(fromId?: string, chunkSize = 256): AsyncGenerator<{ id: string; label: number }[]> {
    const iterator = this.ids.iterator(fromId === undefined ? {} : { gte: fromId });
    try {
      for (;;) {
        const entries = await iterator.nextv(chunkSize);
        if (entries.length === 0) return;
        yield entries.map(([id, key]) => ({ id, label: decodeLabel(key) }));
      }
    } finally {
      await iterator.close();
    }
  }

  async vectorsAt(labels: readonly number[]): Promise<(Float32Array | undefined)[]> {
    if (labels.length === 0) return [];
    const values = await this.vectors.getMany(labels.map(encodeLabel));
    return values.map((bytes) => (bytes === undefined ? undefined : decodeVector(bytes)));
  }

  /** The next label to issue: one past the highest label with a stored vector. */
  async nextLabel(): Promise<number> {
    const last = await this.vectors.keys({ reverse: true, limit: 1 }).all();
    const key = last[0];
    return key === undefined ? 0 : decodeLabel(key) + 1;
  }

  async counts(): Promise<Counts> {
    const [records, documents] = await this.meta.getMany([COUNT_KEY, DOCUMENTS_KEY]);
    return { records: records ?? 0, documents: documents ?? 0 };
  }

  async documentsAt(ids: readonly string[]): Promise<(DocumentEntry | undefined)[]> {
    if (ids.length === 0) return [];
    return this.documents.getMany([...ids]);
  }

  /** Every document registered from `source` (a folder), for pruning what disappeared from it. */
  async documentsFromSource(source: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const [id, entry] of this.documents.iterator()) if (entry.source === source) ids.push(id);
    return ids;
  }

  async indexStamp(): Promise<IndexFileStamp | undefined> {
    return this.files.get(INDEX_STAMP_KEY);
  }

  async setIndexStamp(stamp: IndexFileStamp): Promise<void> {
    await this.files.put(INDEX_STAMP_KEY, stamp);
  }

  /** Vectors of every label from `fromLabel` on, in label order, in chunks. */
  async *vectorsFrom(fromLabel: number, chunkSize = 4096): AsyncGenerator<LabelledVector[]> {
    const iterator = this.vectors.iterator({ gte: encodeLabel(fromLabel) });
    try {
      for (;;) {
        const entries = await iterator.nextv(chunkSize);
        if (entries.length === 0) return;
        yield entries.map(([key, bytes]) => ({ label: decodeLabel(key), vector: decodeVector(bytes) }));
      }
    } finally {
      await iterator.close();
    }
  }

  /**
   * Commits one WriteSet as one atomic LevelDB batch: a crash leaves all of it or none, never a
   * record without its vector or a document half replaced. The caller serialises writers, so the
   * counters' read-modify-write is safe. Returns the counts after the write.
   */
  async write(changes: WriteSet, options: WriteOptions = {}): Promise<Counts> {
    const { sync = false, stage, before, whileCommitting } = options;
    // Keys are prefixed here and written on the root: abstract-level's per-operation sublevel and
    // encoding work cost more than LevelDB itself on large ingests (measured 2x in bench/).
    const ids = this.ids.prefix;
    const records = this.records.prefix;
    const vectors = this.vectors.prefix;
    const documents = this.documents.prefix;
    const batch = this.root.batch();
    const start = before ?? (await this.counts());
    let recordDelta = 0;
    for (const write of changes.upserts) {
      const labelKey = encodeLabel(write.label);
      batch.put(ids + write.id, labelKey);
      batch.put(records + labelKey, recordJson(write.record));
      batch.put(vectors + labelKey, encodeVector(write.vector), VECTOR_ENCODING);
      if (write.previousLabel === undefined) recordDelta += 1;
      else batch.del(records + encodeLabel(write.previousLabel));
    }
    for (const del of changes.deletes) {
      batch.del(ids + del.id);
      batch.del(records + encodeLabel(del.label));
      recordDelta -= 1;
    }
    const unknown = changes.documents.filter((d) => d.existed === undefined);
    const looked = await this.documentsAt(unknown.map((d) => d.id));
    const existing = new Map(unknown.map((d, i) => [d.id, looked[i] !== undefined]));
    let documentDelta = 0;
    changes.documents.forEach((doc) => {
      const had = doc.existed ?? existing.get(doc.id) === true;
      if (doc.entry === null) {
        batch.del(documents + doc.id);
        if (had) documentDelta -= 1;
      } else {
        batch.put(documents + doc.id, documentEntryJson(doc.entry));
        if (!had) documentDelta += 1;
      }
    });
    for (const key of changes.derived?.dels ?? []) batch.del(key);
    for (const [key, value] of changes.derived?.puts ?? []) batch.put(key, value);
    if (stage !== undefined) await stage(batch);
    const after = { records: start.records + recordDelta, documents: start.documents + documentDelta };
    if (recordDelta !== 0) batch.put(this.meta.prefix + COUNT_KEY, JSON.stringify(after.records));
    if (documentDelta !== 0) batch.put(this.meta.prefix + DOCUMENTS_KEY, JSON.stringify(after.documents));
    const committing = batch.write({ sync });
    let overlapFailure: { error: unknown } | undefined;
    if (whileCommitting !== undefined) {
      try {
        await whileCommitting();
      } catch (error) {
        overlapFailure = { error };
      }
    }
    try {
      await committing;
    } catch (err) {
      throw asStorageError(err, dirname(this.root.location));
    }
    // Committed: records of replaced and deleted labels are gone, so must be their cache entries.
    if (this.recordCache !== undefined) {
      for (const write of changes.upserts) if (write.previousLabel !== undefined) this.recordCache.evict(write.previousLabel);
      for (const del of changes.deletes) this.recordCache.evict(del.label);
    }
    if (overlapFailure !== undefined) throw overlapFailure.error;
    return after;
  }

  /** Removes every key of the collection (used by drop, and before re-creating a name). */
  async clear(): Promise<void> {
    // Everything under "!c~<name>~", including the sublevels of the derived indexes.
    const start = `!${this.prefix}`;
    await this.root.clear({ gte: start, lt: `${start}\x7f` });
  }

  /** Asks LevelDB to compact the collection's key range now, freeing what deletes left behind. */
  async compactStorage(): Promise<void> {
    const root: unknown = this.root;
    const { gte, lt } = this.keyRange;
    if (typeof root === 'object' && root !== null && typeof (root as Partial<CompactableLevel>).compactRange === 'function') {
      await (root as CompactableLevel).compactRange(gte, lt);
    }
  }

  /** Approximate bytes the collection occupies in LevelDB (0 where the backend cannot tell). */
  async approximateSize(): Promise<number> {
    const root: unknown = this.root;
    if (!hasApproximateSize(root)) return 0;
    // Every key of the collection starts with "!c~<name>~"; "\x7f" sorts after any name character.
    const start = `!${this.prefix}`;
    return root.approximateSize(start, `${start}\x7f`);
  }
}

interface SizedLevel {
  approximateSize(start: string, end: string): Promise<number>;
}

interface CompactableLevel {
  compactRange(start: string, end: string): Promise<void>;
}

function hasApproximateSize(db: unknown): db is SizedLevel {
  return typeof db === 'object' && db !== null && typeof (db as Partial<SizedLevel>).approximateSize === 'function';
}
