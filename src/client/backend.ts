import { runQuery, type QueryJson, type QuerySpec } from '../cli/query-runner.js';
import { runScroll, type RecordPage, type ScrollSpec } from '../cli/scroll-runner.js';
import type { Writable } from 'node:stream';
import type { Database, VerifyReport } from '../engine/database.js';
import type { BackupProgress } from '../engine/ops/backup.js';
import type { CompactResult } from '../engine/ops/compact.js';
import type { CacheStats } from '../engine/embed/embedding-cache.js';
import type { IngestOptions, IngestSummary } from '../engine/ingest/ingest.js';
import type { Source } from '../engine/ingest/sources.js';
import type { PayloadIndexKind } from '../engine/store/payload-index.js';
import type { CollectionStats, CreateCollectionOptions, DocumentView, IndexTuningPatch } from '../engine/types.js';
// Ingest (file globbing) and bench load on use: a one-shot query pays for neither.
import type { RecallBenchJson, RecallBenchOptions } from '../engine/bench/recall.js';
import { tuningJson, type TuningJson } from '../ui/tuning.js';

export type { RecordPage, ScrollSpec };

/** What a command is told when an ingest creates its collection. */
export interface CreatedCollection {
  name: string;
  /** Provider of the embedder (`use`, `openai`, ...) or `none`. */
  embedder: string;
  dimension: number;
}

export interface BackendIngestOptions extends Omit<IngestOptions, 'onCollection'> {
  onCreated?: (created: CreatedCollection) => void;
}

/**
 * What the commands do to a database, whoever holds it: this process (EmbeddedBackend, the engine)
 * or a `piramid serve` (RemoteBackend, over HTTP). Both answer with the same shapes, so a command
 * prints the same thing either way.
 */
export interface Backend {
  readonly kind: 'embedded' | 'remote';
  /** A local folder for files such as the shell history; undefined when there is none. */
  readonly localFolder: string | undefined;
  listCollections(): Promise<CollectionStats[]>;
  /** COLLECTION_NOT_FOUND when it does not exist. */
  collectionStats(name: string): Promise<CollectionStats>;
  createCollection(name: string, options: CreateCollectionOptions): Promise<CollectionStats>;
  dropCollection(name: string): Promise<void>;
  deleteDocuments(collection: string, ids: string[]): Promise<{ deleted: number; notFound: string[] }>;
  /** Throws COLLECTION_NOT_FOUND early, before any query is read or typed. */
  assertCollection(name: string): Promise<void>;
  query(spec: QuerySpec): Promise<QueryJson>;
  ingest(source: Source, options: BackendIngestOptions): Promise<IngestSummary>;
  indexField(collection: string, key: string, kind: PayloadIndexKind): Promise<number>;
  cacheStats(): Promise<CacheStats[]>;
  clearCache(model: string | undefined): Promise<number>;
  /** Index settings as stored and in force; with a patch, changed first (piramid index-config). */
  indexTuning(collection: string, patch?: IndexTuningPatch): Promise<TuningJson>;
  /** Recall of the index against exact search on the collection's own vectors (piramid bench). */
  bench(collection: string, options: RecallBenchOptions): Promise<RecallBenchJson>;
  /** A page of records in id order (Collection.scroll), after skipping `offset` of them. */
  scrollRecords(spec: ScrollSpec): Promise<RecordPage>;
  /** Records by id (document or chunk ids), in the order asked; undefined where none exists. */
  getRecords(collection: string, ids: string[], options?: { withVector?: boolean }): Promise<(DocumentView | undefined)[]>;
  /** `piramid verify`: checks (and with repair rebuilds derived data of) collections. */
  verify(options: { collections?: string[]; repair?: boolean }): Promise<VerifyReport>;
  compact(collection: string): Promise<CompactResult>;
  /** Writes a backup archive into `out`; the summary is read back from the archive by the caller. */
  backup(out: Writable, options: { collections?: string[]; includeIndexes?: boolean; onProgress?: (progress: BackupProgress) => void }): Promise<void>;
  close(): Promise<void>;
}

/** The engine in this process, over an open Database (which holds the folder's lock). */
export class EmbeddedBackend implements Backend {
  readonly kind = 'embedded';

  constructor(readonly db: Database) {}

  get localFolder(): string {
    return this.db.location;
  }

  async listCollections(): Promise<CollectionStats[]> {
    const stats: CollectionStats[] = [];
    for (const config of await this.db.listCollections()) stats.push(await (await this.db.collection(config.name)).stats());
    return stats;
  }

  async collectionStats(name: string): Promise<CollectionStats> {
    return (await this.db.collection(name)).stats();
  }

  async createCollection(name: string, options: CreateCollectionOptions): Promise<CollectionStats> {
    return (await this.db.createCollection(name, options)).stats();
  }

  async dropCollection(name: string): Promise<void> {
    await this.db.dropCollection(name);
  }

  async deleteDocuments(collection: string, ids: string[]): Promise<{ deleted: number; notFound: string[] }> {
    return (await this.db.collection(collection)).delete(ids);
  }

  async assertCollection(name: string): Promise<void> {
    await this.db.collection(name);
  }

  query(spec: QuerySpec): Promise<QueryJson> {
    return runQuery(this.db, spec);
  }

  async ingest(source: Source, options: BackendIngestOptions): Promise<IngestSummary> {
    const { onCreated, ...rest } = options;
    const { ingest } = await import('../engine/ingest/ingest.js');
    return ingest(this.db, source, {
      ...rest,
      onCollection: (collection, created) => {
        if (created) onCreated?.({ name: collection.name, embedder: collection.config.embedder?.name ?? 'none', dimension: collection.config.dimension });
      },
    });
  }

  async indexField(collection: string, key: string, kind: PayloadIndexKind): Promise<number> {
    return (await this.db.collection(collection)).indexField(key, kind);
  }

  cacheStats(): Promise<CacheStats[]> {
    return this.db.embeddingCache.allStats();
  }

  clearCache(model: string | undefined): Promise<number> {
    return this.db.embeddingCache.clear(model);
  }

  async indexTuning(collection: string, patch?: IndexTuningPatch): Promise<TuningJson> {
    const found = await this.db.collection(collection);
    return tuningJson(patch === undefined ? await found.indexTuning() : await found.updateIndexTuning(patch));
  }

  async bench(collection: string, options: RecallBenchOptions): Promise<RecallBenchJson> {
    const { benchCollection } = await import('../engine/bench/recall.js');
    return benchCollection(await this.db.collection(collection), options);
  }

  scrollRecords(spec: ScrollSpec): Promise<RecordPage> {
    return runScroll(this.db, spec);
  }

  async getRecords(collection: string, ids: string[], options: { withVector?: boolean } = {}): Promise<(DocumentView | undefined)[]> {
    return (await this.db.collection(collection)).get(ids, options);
  }

  verify(options: { collections?: string[]; repair?: boolean }): Promise<VerifyReport> {
    return this.db.verify(options);
  }

  compact(collection: string): Promise<CompactResult> {
    return this.db.compact(collection);
  }

  async backup(out: Writable, options: { collections?: string[]; includeIndexes?: boolean; onProgress?: (progress: BackupProgress) => void }): Promise<void> {
    await this.db.backup(out, options);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
