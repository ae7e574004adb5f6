import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { Level } from 'level';
import { Catalog, validateCollectionName } from './catalog.js';
import { Collection } from './collection.js';
import type { Embedder } from './embed/embedder.js';
import { EmbeddingCache } from './embed/embedding-cache.js';
import { createEmbedderFactory, parseEmbedderSpec, type EmbedderFactory, type EmbedderRequest } from './embed/registry.js';
import { PiramidError } from './errors.js';
// Maintenance modules are imported when used: a one-shot query should not load tar and gzip.
import type { BackupOptions, BackupSummary } from './ops/backup.js';
import type { CompactResult } from './ops/compact.js';
import type { Repair } from './ops/repair.js';
import type { CollectionCheck, VerifyProblem } from './ops/verify.js';
import { INDEX_FOLDER, indexFilePath } from './index/index-path.js';
import { asStorageError } from './storage-errors.js';
import { CollectionIndex } from './index/collection-index.js';
import { setBatchSearchThreads, setBuildThreads, type FaissBinding } from './index/faiss-index.js';
import { loadFaissBinding } from './index/faiss-binding.js';
import { CollectionStore, type RootLevel } from './store/collection-store.js';
import { guardedLevel } from './store/guarded-level.js';
import { PayloadIndex } from './store/payload-index.js';
import { KeywordIndex } from './text/keyword-index.js';
import {
  INDEX_KINDS,
  IVF_DATATYPES,
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
  /**
   * OpenMP threads for index builds, training and adds (default: every core, one under heavy load)
   * and for batched searches (default: as builds). Single queries always run on one thread.
   * Process-wide: faiss has one OpenMP pool.
   */
  threads?: { build?: number; batchSearch?: number };
  /**
   * A server: faiss adds run in small slices with the event loop let through, so queries and health
   * checks are answered during big writes (default false: one add per batch, about 2x faster for HNSW).
   */
  responsive?: boolean;
  /** fsync every write before acknowledging it, unless a call asks otherwise (default false). */
  syncWrites?: boolean;
  /**
   * Bytes of recently returned records each open collection keeps in memory, so that search hits
   * seen before skip LevelDB (default 32 MB; 0 turns it off). See store/record-cache.ts.
   */
  recordCacheBytes?: number;
  /** Called when the engine recovers from something worth telling the user about. */
  onWarning?: (warning: EngineWarning) => void;
}

/** One collection's check; with repair, the state after it, what was found first and what was rebuilt. */
export interface CollectionReport extends CollectionCheck {
  found: VerifyProblem[];
  repaired: Repair[];
}

export interface VerifyReport {
  ok: boolean;
  /** Leftovers in the folder that no collection owns. */
  folder: { problems: VerifyProblem[]; found: VerifyProblem[]; repaired: number };
  collections: CollectionReport[];
}

const LEVEL_FOLDER = 'db';

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
    if (options.threads?.build !== undefined) setBuildThreads(options.threads.build);
    if (options.threads?.batchSearch !== undefined) setBatchSearchThreads(options.threads.batchSearch);
    if (options.createIfMissing !== false) {
      try {
        await mkdir(join(folder, INDEX_FOLDER), { recursive: true });
      } catch (err) {
        throw asStorageError(err, folder);
      }
    }
    // A 64 MB memtable (LevelDB's default is 4 MB) flushes and compacts far less often during bulk
    // ingests: 43k -> 57k vectors/s at 100 dims in batches of 1000, measured (bench/core.ts shape).
    const level: RootLevel = guardedLevel(join(folder, LEVEL_FOLDER), { writeBufferSize: 64 * 1024 * 1024 }, folder);
    try {
      await level.open({ createIfMissing: options.createIfMissing !== false });
    } catch (err) {
      throw translateOpenError(err, folder);
    }
    const catalog = new Catalog(level);
    try {
      await catalog.checkFormat(folder);
      // With the lock held, a checkpoint temp file is the leftover of a process killed mid-write.
      await removeCheckpointLeftovers(join(folder, INDEX_FOLDER));
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
    const store = new CollectionStore(this.level, name, this.options.recordCacheBytes === undefined ? {} : { recordCacheBytes: this.options.recordCacheBytes });
    const indexPath = this.indexPath(name);
    const index = new CollectionIndex({
      config,
      store,
      path: indexPath,
      binding: () => this.faiss(),
      onWarning: (warning) => this.options.onWarning?.(warning),
      responsive: this.options.responsive === true,
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
      stageConfig: (batch, changed) => this.catalog.stage(batch, changed),
      syncWrites: this.options.syncWrites === true,
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

  /**
   * Checks collections (all, or the named ones) and the folder for leftovers; with `repair`,
   * rebuilds what is derived (indexes, counters) from the records and removes leftovers, then
   * checks again. Writes to each collection wait while it is checked.
   */
  async verify(options: { collections?: readonly string[]; repair?: boolean } = {}): Promise<VerifyReport> {
    this.assertOpen();
    const { checkCollection } = await import('./ops/verify.js');
    const { repairCollection } = await import('./ops/repair.js');
    const configs = await this.catalog.list();
    const names = options.collections ?? configs.map((c) => c.name);
    const collections: CollectionReport[] = [];
    for (const name of names) {
      const collection = await this.collection(name);
      collections.push(
        await collection.maintain(async (parts) => {
          const found = await checkCollection(parts);
          if (options.repair !== true || found.ok) return { ...found, found: found.problems, repaired: [] };
          const repaired = await repairCollection(parts, found);
          return { ...(await checkCollection(parts)), found: found.problems, repaired };
        }),
      );
    }
    let folder = await this.folderLeftovers(configs.map((c) => c.name));
    const folderFound = folder.map((leftover) => leftover.problem);
    if (options.repair === true && folder.length > 0) {
      for (const leftover of folder) await leftover.remove();
      folder = await this.folderLeftovers(configs.map((c) => c.name));
    }
    const problems = folder.map((leftover) => leftover.problem);
    return {
      ok: problems.length === 0 && collections.every((c) => c.ok),
      folder: { problems, found: folderFound, repaired: folderFound.length - problems.length },
      collections,
    };
  }

  /** Writes a point-in-time backup archive of collections to `out` (see ops/backup.ts). */
  async backup(out: Writable, options: BackupOptions = {}): Promise<BackupSummary> {
    this.assertOpen();
    const { writeBackup } = await import('./ops/backup.js');
    return writeBackup(
      {
        root: this.level,
        catalog: this.catalog,
        collection: async (name) => {
          const collection = await this.collection(name);
          return { store: new CollectionStore(this.level, name), indexPath: this.indexPath(name), checkpoint: () => collection.checkpoint() };
        },
      },
      out,
      options,
    );
  }

  /** Rebuilds a collection without its deleted records (see ops/compact.ts). */
  async compact(name: string): Promise<CompactResult> {
    const { compactCollection } = await import('./ops/compact.js');
    return (await this.collection(name)).maintain((parts) => compactCollection(parts, () => folderBytes(this.location)));
  }

  /**
   * Replaces (or adds) collection `name` with the one of the same name in the data folder
   * `stagedFolder` (closed, made by a restore): every key is swapped in ONE atomic batch with the
   * catalog entry, then the staged index checkpoint is renamed into place. A crash before the batch
   * changes nothing; after it, a missing or foreign checkpoint is rebuilt on open.
   */
  async adoptCollection(stagedFolder: string, name: string): Promise<void> {
    this.assertOpen();
    const open = this.collections.get(name);
    if (open !== undefined) await open.close();
    this.collections.delete(name);
    const { scanRange } = await import('./ops/scan.js');
    const staged: RootLevel = new Level<string, string>(join(stagedFolder, LEVEL_FOLDER));
    await staged.open({ createIfMissing: false });
    try {
      const config = await new Catalog(staged).get(name);
      if (config === undefined) throw new TypeError(`staged folder has no collection ${name}`);
      const range = new CollectionStore(this.level, name).keyRange;
      const batch = this.level.batch();
      for await (const chunk of scanRange(this.level, range.gte, range.lt)) for (const [key] of chunk) batch.del(key as unknown as string, { keyEncoding: 'buffer' });
      for await (const chunk of scanRange(staged, range.gte, range.lt)) {
        for (const [key, value] of chunk) batch.put(key as unknown as string, value as unknown as string, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      }
      this.catalog.stage(batch, config);
      await batch.write({ sync: true });
    } finally {
      await staged.close();
    }
    const stagedIndex = indexFilePath(stagedFolder, name);
    await rename(stagedIndex, this.indexPath(name)).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      await rm(this.indexPath(name), { force: true });
    });
  }

  /** Index files and key ranges that no collection owns (an interrupted drop), as problems to remove. */
  private async folderLeftovers(known: readonly string[]): Promise<{ problem: VerifyProblem; remove: () => Promise<void> }[]> {
    const { problem } = await import('./ops/verify.js');
    const names = new Set(known);
    const leftovers: { problem: VerifyProblem; remove: () => Promise<void> }[] = [];
    const files = await readdir(join(this.location, INDEX_FOLDER)).catch(() => [] as string[]);
    for (const file of files) {
      if (file.endsWith('.pidx') && names.has(file.slice(0, -'.pidx'.length))) continue;
      const path = join(this.location, INDEX_FOLDER, file);
      leftovers.push({ problem: problem('ORPHAN_INDEX_FILE', `${path} belongs to no collection.`), remove: () => rm(path, { force: true }) });
    }
    for (const name of await collectionKeyNames(this.level)) {
      if (names.has(name)) continue;
      const store = new CollectionStore(this.level, name);
      leftovers.push({ problem: problem('ORPHAN_DATA', `Stored keys of "${name}", which is no collection (an interrupted drop).`), remove: () => store.clear() });
    }
    return leftovers;
  }

  /** Checkpoints every open collection's index, releases models and the folder lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      for (const collection of this.collections.values()) {
        try {
          await collection.close();
        } catch (err) {
          // The checkpoint is derived data: without it the next open replays from LevelDB. Closing
          // must still release the folder (a full disk is the usual cause).
          const reason = asStorageError(err, this.location);
          this.options.onWarning?.({
            code: 'CHECKPOINT_FAILED',
            collection: collection.name,
            message: `Index checkpoint not written (${(reason as Error).message}); the next open replays it from the stored vectors.`,
          });
        }
      }
    } finally {
      this.collections.clear();
      const embedders = await Promise.allSettled(this.embedders.values());
      for (const result of embedders) if (result.status === 'fulfilled') await result.value.close();
      await this.level.close();
    }
  }

  private indexPath(name: string): string {
    return indexFilePath(this.location, name);
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
    const index: IndexSettings = typeof options.index === 'object' ? options.index : { kind: options.index ?? 'auto' };
    if (!INDEX_KINDS.includes(index.kind)) {
      throw new PiramidError('INVALID_ARGUMENT', `Unknown index kind "${String(index.kind)}".`, {
        hint: `Use one of: ${INDEX_KINDS.join(', ')}.`,
      });
    }
    if (index.datatype !== undefined && !IVF_DATATYPES.includes(index.datatype)) {
      throw new PiramidError('INVALID_ARGUMENT', `Unknown IVF datatype "${String(index.datatype)}".`, { hint: `Use one of: ${IVF_DATATYPES.join(', ')}.` });
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

/** Bytes of every file under `folder` (what `du` would count, without block rounding). */
async function folderBytes(folder: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) total += await folderBytes(path);
    else if (entry.isFile()) {
      total += await stat(path).then(
        (info) => info.size,
        () => 0, // removed meanwhile (LevelDB compaction)
      );
    }
  }
  return total;
}

async function removeCheckpointLeftovers(folder: string): Promise<void> {
  const files = await readdir(folder).catch(() => [] as string[]);
  for (const file of files) if (/\.pidx\.tmp-\d+$/.test(file)) await rm(join(folder, file), { force: true });
}

/** Names of the collections that have keys in the store (`!c~<name>~...`), by skipping from one to the next. */
async function collectionKeyNames(level: RootLevel): Promise<string[]> {
  const names: string[] = [];
  const iterator = level.keys({ gte: '!c~', lt: '!c\x7f' });
  try {
    for (;;) {
      const key = await iterator.next();
      if (key === undefined) break;
      const end = key.indexOf('~', 3);
      if (end < 0) break;
      const name = key.slice(3, end);
      names.push(name);
      iterator.seek(`!c~${name}~\x7f`);
    }
  } finally {
    await iterator.close();
  }
  return names;
}

function translateOpenError(err: unknown, folder: string): unknown {
  const storage = asStorageError(err, folder);
  if (storage !== err) return storage;
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
