import type { Writable } from 'node:stream';
import type { VerifyReport } from '../engine/database.js';
import type { CompactResult } from '../engine/ops/compact.js';
import type { QueryJson, QuerySpec } from '../cli/query-runner.js';
import type { CacheStats } from '../engine/embed/embedding-cache.js';
import { PiramidError, isPiramidError, type ErrorLocation } from '../engine/errors.js';
import type { IngestSummary, ItemError } from '../engine/ingest/ingest.js';
import type { Source } from '../engine/ingest/sources.js';
import type { PayloadIndexKind } from '../engine/store/payload-index.js';
import { encodeVectorBase64 } from '../engine/vector-base64.js';
import type { CollectionStats, CreateCollectionOptions, DocumentView, IndexKind, IndexTuningPatch, Metric } from '../engine/types.js';
import type { RecallBenchJson, RecallBenchOptions } from '../engine/bench/recall.js';
import type { TuningJson } from '../ui/tuning.js';
import type { CreateBody, IngestQuery, QueryBody, ScrollBody } from '../server/schemas.js';
import type { StatsJson } from '../ui/stats.js';
import type { Backend, BackendIngestOptions, RecordPage, ScrollSpec } from './backend.js';
import type { PiramidClient } from './http-client.js';

/** Why the command talks to a server: it found the folder served (discovered), or was told (--url). */
export type RemoteReason = { kind: 'discovered'; dataDir: string } | { kind: 'explicit' };

const MAX_REPORTED_ERRORS = 100;

/** The commands' operations over the native HTTP API of a running `piramid serve`. */
export class RemoteBackend implements Backend {
  readonly kind = 'remote';

  constructor(
    readonly client: PiramidClient,
    readonly reason: RemoteReason,
  ) {}

  /** The shell keeps its history in the data folder when it is a local one (discovered). */
  get localFolder(): string | undefined {
    return this.reason.kind === 'discovered' ? this.reason.dataDir : undefined;
  }

  async listCollections(): Promise<CollectionStats[]> {
    return (await this.client.listCollections()).map(statsFromJson);
  }

  async collectionStats(name: string): Promise<CollectionStats> {
    return statsFromJson(await this.client.info(name));
  }

  async createCollection(name: string, options: CreateCollectionOptions): Promise<CollectionStats> {
    const body: CreateBody = {};
    if (options.dimension !== undefined) body.dimension = options.dimension;
    if (options.metric !== undefined) body.metric = options.metric;
    if (options.embedder !== undefined) body.embedder = options.embedder;
    if (options.keywordIndex !== undefined) body.keyword_index = options.keywordIndex;
    if (options.payloadIndexes !== undefined && Object.keys(options.payloadIndexes).length > 0) body.payload_indexes = { ...options.payloadIndexes };
    if (typeof options.index === 'string') body.index = options.index;
    else if (options.index !== undefined) {
      const { kind, m, efSearch, nlist, nprobe, datatype } = options.index;
      body.index = {
        kind,
        ...(m === undefined ? {} : { m }),
        ...(efSearch === undefined ? {} : { ef_search: efSearch }),
        ...(nlist === undefined ? {} : { nlist }),
        ...(nprobe === undefined ? {} : { nprobe }),
        ...(datatype === undefined ? {} : { datatype }),
      };
    }
    const created = statsFromJson(await this.client.create(name, body));
    // The create route knows no ef_construction: it is a tuning knob, set right after.
    const efConstruction = typeof options.index === 'object' ? options.index.efConstruction : undefined;
    if (efConstruction !== undefined) await this.client.updateIndexTuning(name, { ef_construction: efConstruction });
    return created;
  }

  async dropCollection(name: string): Promise<void> {
    await this.client.drop(name);
  }

  async deleteDocuments(collection: string, ids: string[]): Promise<{ deleted: number; notFound: string[] }> {
    const result = await this.client.deleteDocuments(collection, ids);
    return { deleted: result.deleted, notFound: result.not_found };
  }

  async assertCollection(name: string): Promise<void> {
    await this.client.info(name);
  }

  async query(spec: QuerySpec): Promise<QueryJson> {
    return this.client.query(spec.collection, queryBody(spec));
  }

  /**
   * Any source (JSONL file or stdin, JSON array, folder) is sent as JSONL, one document a line, as
   * it is read. Errors the server reports by body line are given back their file and line (or item).
   * Unreadable items (bad JSON) never reach the server: with --on-error abort the body ends before
   * them (so what came before is stored) and their error is thrown; with skip they are counted here.
   */
  async ingest(source: Source, options: BackendIngestOptions): Promise<IngestSummary> {
    const onError = options.onError ?? 'abort';
    const locations: ErrorLocation[] = []; // body line n (1-based) came from locations[n - 1]
    const localErrors: { at: number; error: ItemError }[] = [];
    let localSkipped = 0;
    let stopped: PiramidError | undefined;
    let interrupted = false;
    const progress = { read: 0, done: 0, added: 0, updated: 0, unchanged: 0, skipped: 0, records: 0 };
    const signal = options.signal;
    async function* lines(): AsyncGenerator<string> {
      for await (const item of source.items) {
        if (signal?.aborted === true) {
          interrupted = true;
          return;
        }
        progress.read += 1;
        progress.done += item.bytes;
        options.onProgress?.({ ...progress });
        if (item.value instanceof PiramidError) {
          if (onError === 'abort') {
            stopped = item.value;
            return;
          }
          localSkipped += 1;
          localErrors.push({ at: locations.length, error: { location: item.value.location ?? item.location, code: item.value.code, message: item.value.message } });
          continue;
        }
        locations.push(item.location);
        yield `${JSON.stringify(item.value)}\n`;
      }
    }
    const original = (location: ErrorLocation | undefined): ErrorLocation | undefined => {
      if (location?.line === undefined || location.file !== '<body>') return location;
      const at = locations[location.line - 1];
      if (at === undefined) return location;
      return { ...at, ...(location.field === undefined ? {} : { field: location.field }) };
    };

    // A prune deletes the folder's documents the upload did not mention, so it may only be asked
    // for once the whole folder is known to be in the body: read it all first, and prune only if
    // nothing stopped the reading (a bad file with --on-error abort, Ctrl-C).
    let body: AsyncIterable<string> = lines();
    const query = ingestQuery(options, source.folder);
    if (query.prune === 'true') {
      const all: string[] = [];
      for await (const line of body) all.push(line);
      if (stopped !== undefined || interrupted) delete query.prune;
      body = (async function* (): AsyncGenerator<string> {
        yield* all;
      })();
    }
    let response;
    try {
      response = await this.client.ingest(options.collection, body, query);
    } catch (err) {
      if (!isPiramidError(err)) throw err;
      const empty = err.code === 'INVALID_INPUT' && err.location?.file === '<body>' && err.location.line === undefined;
      if (stopped !== undefined && (empty || err.location?.line === undefined)) throw stopped;
      if (empty) {
        // Nothing was sent (an empty input, or only skipped lines): as the engine, nothing happens.
        return { collection: options.collection, created: false, ...progress, skipped: localSkipped, pruned: 0, interrupted, errors: localErrors.map((e) => e.error) };
      }
      const location = original(err.location);
      throw new PiramidError(err.code, err.message, { ...(err.hint === undefined ? {} : { hint: err.hint }), ...(location === undefined ? {} : { location }), cause: err });
    }
    if (stopped !== undefined) {
      // What came before the bad item is stored: say so, as the engine's progress does.
      options.onProgress?.({ ...progress, added: response.added, updated: response.updated, unchanged: response.unchanged, skipped: response.skipped, records: response.records });
      throw stopped;
    }
    if (response.created && options.onCreated !== undefined) {
      const stats = await this.client.info(response.collection);
      options.onCreated({ name: stats.name, embedder: stats.embedder === 'none' ? 'none' : (stats.embedder.split(':')[0] ?? stats.embedder), dimension: stats.dimension });
    }
    const errors = [
      ...response.errors.map((error) => {
        const location = original(error.location) ?? error.location;
        return { at: (error.location.line ?? 1) - 1, error: { ...error, location } };
      }),
      ...localErrors.map((e) => ({ at: e.at - 0.5, error: e.error })),
    ]
      .sort((a, b) => a.at - b.at)
      .slice(0, MAX_REPORTED_ERRORS)
      .map((e) => e.error);
    return {
      collection: response.collection,
      created: response.created,
      read: response.read + localSkipped,
      done: progress.done,
      added: response.added,
      updated: response.updated,
      unchanged: response.unchanged,
      skipped: response.skipped + localSkipped,
      records: response.records,
      pruned: response.pruned,
      interrupted: interrupted || response.interrupted,
      errors,
    };
  }

  async indexField(collection: string, key: string, kind: PayloadIndexKind): Promise<number> {
    return (await this.client.indexField(collection, key, kind)).indexed;
  }

  async indexTuning(collection: string, patch?: IndexTuningPatch): Promise<TuningJson> {
    if (patch === undefined) return this.client.indexTuning(collection);
    const body: { ef_search?: number | null; ef_construction?: number | null; nprobe?: number | null } = {};
    if (patch.efSearch !== undefined) body.ef_search = patch.efSearch;
    if (patch.efConstruction !== undefined) body.ef_construction = patch.efConstruction;
    if (patch.nprobe !== undefined) body.nprobe = patch.nprobe;
    return this.client.updateIndexTuning(collection, body);
  }

  /** Measured inside the server process (its latencies exclude HTTP); no progress is reported. */
  async bench(collection: string, options: RecallBenchOptions): Promise<RecallBenchJson> {
    return this.client.bench(collection, {
      ...(options.queries === undefined ? {} : { queries: options.queries }),
      ...(options.k === undefined ? {} : { k: options.k }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.efSearch === undefined ? {} : { ef: [...options.efSearch] }),
      ...(options.nprobe === undefined ? {} : { nprobe: [...options.nprobe] }),
    });
  }

  async cacheStats(): Promise<CacheStats[]> {
    return (await this.client.cacheStats()).models.map(({ model, entries, hits, misses }) => ({ model, entries, hits, misses }));
  }

  async clearCache(model: string | undefined): Promise<number> {
    return (await this.client.clearCache(model)).removed;
  }

  async scrollRecords(spec: ScrollSpec): Promise<RecordPage> {
    const body: ScrollBody = { limit: spec.limit };
    if (spec.from !== undefined) body.from = spec.from;
    if (spec.offset !== undefined && spec.offset > 0) body.offset = spec.offset;
    if (spec.filter !== undefined) body.filter = spec.filter as Record<string, unknown>;
    if (spec.withVector === true) body.with_vector = true;
    const page = await this.client.scroll(spec.collection, body);
    return page.next === undefined ? { records: page.documents } : { records: page.documents, next: page.next };
  }

  async getRecords(collection: string, ids: string[], options: { withVector?: boolean } = {}): Promise<(DocumentView | undefined)[]> {
    if (ids.length === 0) return [];
    const { documents } = await this.client.getDocuments(collection, ids, options);
    const byId = new Map(documents.map((doc) => [doc.id, doc]));
    return ids.map((id) => byId.get(id));
  }

  verify(options: { collections?: string[]; repair?: boolean }): Promise<VerifyReport> {
    return this.client.verify(options);
  }

  compact(collection: string): Promise<CompactResult> {
    return this.client.compact(collection);
  }

  /** The server writes the archive from its own open database; progress is the bytes received. */
  backup(out: Writable, options: { collections?: string[]; includeIndexes?: boolean }): Promise<void> {
    return this.client.backup(out, {
      ...(options.collections === undefined ? {} : { collections: options.collections }),
      ...(options.includeIndexes === undefined ? {} : { include_indexes: options.includeIndexes }),
    });
  }

  async close(): Promise<void> {
    // Nothing held: every request is complete when its answer has been read.
  }
}

/** The server's snake_case stats (info --json) back to the engine's CollectionStats. */
export function statsFromJson(json: StatsJson): CollectionStats {
  const cache = json.embedding_cache;
  return {
    name: json.name,
    dimension: json.dimension,
    metric: json.metric as Metric,
    index: json.index as IndexKind,
    indexState: json.index_state,
    embedder: json.embedder,
    count: json.count,
    documents: json.documents,
    deleted: json.deleted,
    sizeBytes: json.size_bytes,
    embeddingCache: cache === null ? null : { entries: cache.entries, hits: cache.hits, misses: cache.misses, hitRate: cache.hit_rate },
  };
}

/** A QuerySpec as the body of POST /v1/collections/:name/query (the filter as Qdrant JSON). */
export function queryBody(spec: QuerySpec): QueryBody {
  const body: QueryBody = { k: spec.k };
  if (spec.text !== undefined) body.text = spec.text;
  // A base64 vector stays base64 on the wire: a quarter of the bytes, and cheaper for the server to read.
  if (spec.vector !== undefined) body.vector = spec.vector instanceof Float32Array ? encodeVectorBase64(spec.vector) : spec.vector;
  if (spec.offset !== undefined && spec.offset > 0) body.offset = spec.offset;
  if (spec.scoreThreshold !== undefined) body.score_threshold = spec.scoreThreshold;
  if (spec.mode !== undefined) body.mode = spec.mode;
  if (spec.alpha !== undefined) body.alpha = spec.alpha;
  if (spec.filter !== undefined) body.filter = spec.filter as Record<string, unknown>;
  if (spec.ef !== undefined) body.ef = spec.ef;
  if (spec.nprobe !== undefined) body.nprobe = spec.nprobe;
  if (spec.exact === true) body.exact = true;
  if (spec.withVector === true) body.with_vector = true;
  if (spec.groupByDocument === true) body.group_by_doc = true;
  return body;
}

function ingestQuery(options: BackendIngestOptions, folder: string | undefined): IngestQuery {
  const query: IngestQuery = {};
  if (options.create === false) query.create = 'false';
  else if (options.create !== undefined) {
    if (options.create.embedder !== undefined) query.embedder = options.create.embedder;
    if (options.create.metric !== undefined) query.metric = options.create.metric;
    const index = options.create.index;
    if (index !== undefined) query.index = typeof index === 'string' ? index : index.kind;
  }
  if (options.batchSize !== undefined) query.batch_size = String(options.batchSize);
  if (options.onError !== undefined) query.on_error = options.onError;
  if (options.chunking === false) query.chunk = 'false';
  else if (options.chunking !== undefined) {
    query.chunk_size = String(options.chunking.size);
    query.chunk_overlap = String(options.chunking.overlap);
  }
  // Folder documents are already in document shape: the engine applies no field map to them.
  if (folder === undefined && options.fieldMap?.text !== undefined) query.text_field = options.fieldMap.text;
  if (folder === undefined && options.fieldMap?.id !== undefined) query.id_field = options.fieldMap.id;
  if (options.sync === true) query.sync = 'true';
  if (folder !== undefined) query.source = folder;
  if (folder !== undefined && options.prune === true) query.prune = 'true';
  return query;
}
