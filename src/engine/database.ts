import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Level } from 'level';
import { Catalog, validateCollectionName } from './catalog.js';
import { Collection } from './collection.js';
import type { Embedder } from './embed/embedder.js';
import { EmbeddingCache } from './embed/embedding-cache.js';
import { createEmbedderFactory, parseEmbedderSpec, type EmbedderFactory, type EmbedderRequest } from './embed/registry.js';
import { PiramidError } from './errors.js';
import { CollectionIndex } from './index/collection-index.js';
import type { FaissBinding } from './index/faiss-index.js';
import { loadFaissBinding } from './index/faiss-binding.js';
import { CollectionStore, type RootLevel } from './store/collection-store.js';
import { PayloadIndex } from './store/payload-index.js';
import { KeywordIndex } from './text/keyword-index.js';
import {
  INDEX_KINDS,
  METRICS,
  type CollectionConfig,
  type CreateCollectionOptions,
  type EngineWarning,
  type IndexSettings,
} from './types.js';

export interface OpenOptions {
  /** Creates the folder when it does not exist (default true). */
  createIfMissing?: boolean;
  /** Turns embedder requests into embedders (default: the built-in and HTTP providers, no URL/key). */
  embedderFactory?: EmbedderFactory;
  /** Cache embeddings in the data folder (default true). */
  embeddingCache?: boolean;
  /** Loads the faiss binding; called at most once, on first index use. */
  faissBinding?: () => FaissBinding;
  /** Called when the engine recovers from something worth telling the user about. */
  onWarning?: (warning: EngineWarning) => void;
}

const LEVEL_FOLDER = 'db';
const INDEX_FOLDER = 'indexes';

/**
 * A data folder: one LevelDB (which holds the folder's exclusive lock), a catalog of collections,
 * and one index checkpoint file per collection. Open it, use collections, close it.
 */
export class Database {
  private readonly collections = new Map<string, Collection>();
  private readonly embedders = new Map<string, Promise<Embedder>>();
  readonly embeddingCache: EmbeddingCache;
  private binding: FaissBinding | undefined;
  private closed = false;

  private constructor(
    readonly location: string,
    private readonly level: RootLevel,
    private readonly catalog: Catalog,
    private readonly options: OpenOptions,
  ) {
    this.embeddingCache = new EmbeddingCache(level);
  }

  static async open(location: string, options: OpenOptions = {}): Promise<Database> {
    const folder = resolve(location);
    if (options.createIfMissing !== false) await mkdir(join(folder, INDEX_FOLDER), { recursive: true });
    const level: RootLevel = new Level<string, string>(join(folder, LEVEL_FOLDER));
    try {
      await level.open({ createIfMissing: options.createIfMissing !== false });
    } catch (err) {
      throw translateOpenError(err, folder);
    }
    const catalog = new Catalog(level);
    try {
      await catalog.checkFormat(folder);
    } catch (err) {
      await level.close();
      throw err;
    }
    return new Database(folder, level, catalog, options);
  }

  async listCollections(): Promise<CollectionConfig[]> {
    this.assertOpen();
    return this.catalog.list();
  }

  async hasCollection(name: string): Promise<boolean> {
    this.assertOpen();
    return (await this.catalog.get(name)) !== undefined;
  }

  async createCollection(name: string, options: CreateCollectionOptions = {}): Promise<Collection> {
    this.assertOpen();
    validateCollectionName(name);
    if (await this.catalog.get(name)) {
      throw new PiramidError('COLLECTION_EXISTS', `Collection "${name}" already exists.`, {
        hint: `Use it as it is, or drop it first: piramid drop ${name} --force`,
      });
    }
    const config = await this.buildConfig(name, options);
    // Leftovers of a drop interrupted by a crash must not leak into the new collection.
    const store = new CollectionStore(this.level, name);
    await store.clear();
    await this.catalog.put(config);
    return this.collection(name);
  }

  /** Opens an existing collection; the index loads on first search or write. */
  async collection(name: string): Promise<Collection> {
    this.assertOpen();
    const cached = this.collections.get(name);
    if (cached) return cached;
    const config = await this.catalog.get(name);
    if (config === undefined) {
      throw new PiramidError('COLLECTION_NOT_FOUND', `Collection "${name}" does not exist in ${this.location}.`, {
        hint: 'List collections with: piramid list',
      });
    }
    const store = new CollectionStore(this.level, name);
    const indexPath = this.indexPath(name);
    const index = new CollectionIndex({
      config,
      store,
      path: indexPath,
      binding: () => this.faiss(),
      onWarning: (warning) => this.options.onWarning?.(warning),
    });
    const collection = new Collection({
      config,
      store,
      index,
      indexPath,
      embedder: () => this.embedderFor(config),
      payloadIndex: new PayloadIndex(this.level, name),
      keywordIndex: new KeywordIndex(this.level, name),
      saveConfig: (changed) => this.catalog.put(changed),
      cacheStats: async () => {
        if (config.embedder === null || this.options.embeddingCache === false) return null;
        const stats = await this.embeddingCache.statsFor(`${config.embedder.name}:${config.embedder.model}`);
        const lookups = stats.hits + stats.misses;
        return { entries: stats.entries, hits: stats.hits, misses: stats.misses, hitRate: lookups === 0 ? 0 : stats.hits / lookups };
      },
    });
    this.collections.set(name, collection);
    return collection;
  }

  async dropCollection(name: string): Promise<void> {
    await this.collection(name); // throws COLLECTION_NOT_FOUND
    this.collections.delete(name);
    // Catalog first: once it is gone the collection no longer exists, whatever happens next;
    // leftover keys are cleared again by a later create of the same name.
    await this.catalog.delete(name);
    await new CollectionStore(this.level, name).clear();
    await rm(this.indexPath(name), { force: true });
  }

  /** Checkpoints every open collection's index, releases models and the folder lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      for (const collection of this.collections.values()) await collection.close();
    } finally {
      this.collections.clear();
      const embedders = await Promise.allSettled(this.embedders.values());
      for (const result of embedders) if (result.status === 'fulfilled') await result.value.close();
      await this.level.close();
    }
  }

  private indexPath(name: string): string {
    return join(this.location, INDEX_FOLDER, `${name}.pidx`);
  }

  private faiss(): FaissBinding {
    this.binding ??= (this.options.faissBinding ?? loadFaissBinding)();
    return this.binding;
  }

  /** One embedder per provider and model for the life of the database, behind the cache. */
  private embedder(request: EmbedderRequest): Promise<Embedder> {
    const key = `${request.provider}:${request.model ?? ''}`;
    let pending = this.embedders.get(key);
    if (pending === undefined) {
      const factory = this.options.embedderFactory ?? createEmbedderFactory();
      pending = factory(request).then((embedder) =>
        this.options.embeddingCache === false ? embedder : this.embeddingCache.wrap(embedder),
      );
      this.embedders.set(key, pending);
      pending.catch(() => this.embedders.delete(key));
    }
    return pending;
  }

  private async embedderFor(config: CollectionConfig): Promise<Embedder | null> {
    const spec = config.embedder;
    if (spec === null) return null;
    const embedder = await this.embedder({ provider: spec.name, model: spec.model, dimension: spec.dimension });
    if (embedder.name !== spec.name || embedder.model !== spec.model || embedder.dimension !== spec.dimension) {
      throw new PiramidError(
        'EMBEDDER_MISMATCH',
        `Collection "${config.name}" was embedded with ${spec.name}:${spec.model} (${spec.dimension} dims); ` +
          `the available ${embedder.name} embedder is ${embedder.model} (${embedder.dimension} dims).`,
        { hint: 'Vectors from different models are not comparable: re-create the collection to switch models.' },
      );
    }
    return embedder;
  }

  private async buildConfig(name: string, options: CreateCollectionOptions): Promise<CollectionConfig> {
    const metric = options.metric ?? 'cosine';
    if (!METRICS.includes(metric)) {
      throw new PiramidError('INVALID_ARGUMENT', `Unknown metric "${String(metric)}".`, { hint: `Use one of: ${METRICS.join(', ')}.` });
    }
    const index: IndexSettings = typeof options.index === 'object' ? options.index : { kind: options.index ?? 'flat' };
    if (!INDEX_KINDS.includes(index.kind)) {
      throw new PiramidError('INVALID_ARGUMENT', `Unknown index kind "${String(index.kind)}".`, {
        hint: `Use one of: ${INDEX_KINDS.join(', ')}.`,
      });
    }
    const embedderName = options.embedder ?? 'use';
    const request = parseEmbedderSpec(embedderName);
    let embedderSpec: CollectionConfig['embedder'] = null;
    let dimension = options.dimension;
    if (request !== null) {
      const embedder = await this.embedder(request);
      if (dimension !== undefined && dimension !== embedder.dimension) {
        throw new PiramidError(
          'DIMENSION_MISMATCH',
          `--dim ${dimension} does not match the ${embedderName} embedder, which makes ${embedder.dimension}-dimensional vectors.`,
          { hint: 'Leave out --dim, or use --embedder none to supply vectors of your own dimension.' },
        );
      }
      dimension = embedder.dimension;
      embedderSpec = { name: embedder.name, model: embedder.model, dimension: embedder.dimension };
    }
    if (dimension === undefined || !Number.isInteger(dimension) || dimension < 1 || dimension > 65536) {
      throw new PiramidError('INVALID_ARGUMENT', `A collection without an embedder needs a dimension from 1 to 65536 (got ${String(dimension)}).`, {
        hint: 'Pass --dim N with --embedder none.',
      });
    }
    const config: CollectionConfig = { name, dimension, metric, index, embedder: embedderSpec, createdAt: new Date().toISOString(), uid: randomUUID() };
    config.keywordIndex = options.keywordIndex ?? true;
    if (options.payloadIndexes !== undefined && Object.keys(options.payloadIndexes).length > 0) config.payloadIndexes = { ...options.payloadIndexes };
    return config;
  }

  private assertOpen(): void {
    if (this.closed) throw new PiramidError('DATABASE_CLOSED', `Database ${this.location} is closed.`);
  }
}

function translateOpenError(err: unknown, folder: string): unknown {
  const cause = (err as { cause?: { code?: string } }).cause;
  if (cause?.code === 'LEVEL_LOCKED') {
    return new PiramidError('DATABASE_LOCKED', `Data folder ${folder} is in use by another process (lock: ${join(folder, LEVEL_FOLDER, 'LOCK')}).`, {
      hint: 'Stop the other piramid process (or its server) and try again; one process opens a folder at a time.',
      cause: err,
    });
  }
  if ((err as { code?: string }).code === 'LEVEL_DATABASE_NOT_OPEN') {
    return new PiramidError('IO_ERROR', `Could not open the data folder ${folder}: ${String((cause as Error | undefined)?.message ?? err)}`, {
      cause: err,
    });
  }
  return err;
}
