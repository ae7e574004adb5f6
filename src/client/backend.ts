import { runQuery, type QueryJson, type QuerySpec } from '../cli/query-runner.js';
import { runScroll, type RecordPage, type ScrollSpec } from '../cli/scroll-runner.js';
import type { Database } from '../engine/database.js';
import type { CacheStats } from '../engine/embed/embedding-cache.js';
import { ingest, type IngestOptions, type IngestSummary } from '../engine/ingest/ingest.js';
import type { Source } from '../engine/ingest/sources.js';
import type { PayloadIndexKind } from '../engine/store/payload-index.js';
import type { CollectionStats, CreateCollectionOptions, DocumentView } from '../engine/types.js';

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
  /** A page of records in id order (Collection.scroll), after skipping `offset` of them. */
  scrollRecords(spec: ScrollSpec): Promise<RecordPage>;
  /** Records by id (document or chunk ids), in the order asked; undefined where none exists. */
  getRecords(collection: string, ids: string[], options?: { withVector?: boolean }): Promise<(DocumentView | undefined)[]>;
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

  ingest(source: Source, options: BackendIngestOptions): Promise<IngestSummary> {
    const { onCreated, ...rest } = options;
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

  scrollRecords(spec: ScrollSpec): Promise<RecordPage> {
    return runScroll(this.db, spec);
  }

  async getRecords(collection: string, ids: string[], options: { withVector?: boolean } = {}): Promise<(DocumentView | undefined)[]> {
    return (await this.db.collection(collection)).get(ids, options);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
