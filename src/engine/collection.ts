import { stat } from 'node:fs/promises';
import { DEFAULT_CHUNKING, planDocument, type ChunkingOptions, type PlannedDocument, type PlannedRecord } from './document-plan.js';
import { parseDocument, type ValidDocument } from './document.js';
import type { Embedder } from './embed/embedder.js';
import { PiramidError } from './errors.js';
import type { CollectionIndex } from './index/collection-index.js';
import type { FaissVectorIndex } from './index/faiss-index.js';
import { DEFAULT_EF_CONSTRUCTION, DEFAULT_HNSW_M, ivfDatatypeOf } from './index/index-plan.js';
import { readIndexTrailer } from './index/index-file.js';
import type { CollectionStore, Counts, DocumentEntry, DocumentWrite, LabelledDelete, LabelledWrite, RawBatch, WriteSet } from './store/collection-store.js';
import type { PayloadIndex, PayloadIndexKind } from './store/payload-index.js';
import type { KeywordIndex } from './text/keyword-index.js';
import { compileFilter, describeFilter, indexableTerms, type Filter } from './query/filter.js';
import { exactLimit, type QueryPlan } from './query/planner.js';
import { reciprocalRankFusion, weightedFusion } from './query/fusion.js';
import { annSearch, exactSearch, recordsByIds, type Candidate, type Selection, type VectorSearchContext } from './query/vector-search.js';
import { SearchBatcher, type SearchBatcherStats } from './query/search-batcher.js';
import type {
  CollectionConfig,
  CollectionStats,
  DocumentInput,
  DocumentView,
  EmbeddingCacheStats,
  IndexTuning,
  IndexTuningPatch,
  SearchHit,
  SearchOptions,
  SearchResult,
  StoredRecord,
  UpsertResult,
} from './types.js';
import { toFloat32Vector, writeIndexVector } from './vectors.js';

export interface CollectionDeps {
  config: CollectionConfig;
  store: CollectionStore;
  index: CollectionIndex;
  indexPath: string;
  /** Resolves the collection's embedder (checked against its config); null for `none`. */
  embedder: () => Promise<Embedder | null>;
  /** Figures of the embedding cache for this collection's model; null without an embedder. */
  cacheStats: () => Promise<EmbeddingCacheStats | null>;
  payloadIndex: PayloadIndex;
  keywordIndex: KeywordIndex;
  /** Persists a changed config (the catalog entry). */
  saveConfig: (config: CollectionConfig) => Promise<void>;
  /** fsync every write unless a call says otherwise (`serve --sync`). */
  syncWrites?: boolean;
  /** Puts a changed config into an atomic batch of the caller's (raw root keys). */
  stageConfig: (batch: RawBatch, config: CollectionConfig) => void;
}

export interface WriteOptions {
  /** fsync the LevelDB write before acknowledging it. */
  sync?: boolean;
}

export interface UpsertOptions extends WriteOptions {
  /** How long texts are split (default DEFAULT_CHUNKING); false keeps every document whole. */
  chunking?: ChunkingOptions | false;
  /** Recorded with each document (a folder path), so that `prune` can find what disappeared. */
  source?: string;
}

export interface DeleteResult {
  /** Documents (or single chunks) deleted. */
  deleted: number;
  notFound: string[];
}

export interface ScrollOptions {
  /** First id of the page (inclusive); the start of the collection when absent. */
  from?: string;
  limit: number;
  filter?: Filter;
  withVector?: boolean;
}

export interface ScrollPage {
  records: DocumentView[];
  /** Id of the first record of the next page; absent on the last page. */
  next?: string;
}

/** What maintenance (verify, compact, backup) works on: the collection's parts, writes held. */
export type CollectionParts = Pick<CollectionDeps, 'config' | 'store' | 'index' | 'indexPath' | 'payloadIndex' | 'keywordIndex' | 'saveConfig' | 'stageConfig'>;

/** Registry entries read ahead of an upsert's turn, and the number of writes started before. */
interface RegistryLookAhead {
  startedAfter: number;
  entries: Promise<Map<string, DocumentEntry | undefined>>;
}

export const DEFAULT_K = 10;
const SCROLL_PAGE = 1000;
const MAX_K = 10_000;

/**
 * One collection: keeps its LevelDB records and its faiss index in step. A document becomes one
 * record, or one record per chunk; the collection remembers which, and a content hash, so that
 * re-sending a document replaces all of its chunks, or nothing when it is unchanged. Writes are
 * serialised (labels are issued in order and must reach faiss in that order); reads run freely.
 */
export class Collection {
  private nextLabel: number | undefined;
  /** Cached because every search needs them and only this object writes. */
  private counts: Counts | undefined;
  private writeQueue: Promise<unknown> = Promise.resolve();
  /** Exclusive sections started so far, and those queued or running (see lookAhead). */
  private writesStarted = 0;
  private writesQueued = 0;
  private batcher: SearchBatcher | undefined;

  /**
   * Coalesce plain vector searches (no filter, no grouping, vector mode) issued in the same turn of
   * the event loop into one multi-query faiss call (see SearchBatcher): what a server wants, where
   * requests that arrive together would otherwise wait for each other's synchronous searches. Off
   * by default: a lone caller gains nothing from it. Answers are the same either way.
   */
  coalesceSearches = false;

  constructor(private readonly deps: CollectionDeps) {
    deps.index.persistConfigWith(deps.saveConfig);
  }

  get name(): string {
    return this.deps.config.name;
  }

  get config(): CollectionConfig {
    return this.deps.config;
  }

  /** faiss calls made for coalesced searches and the queries they answered (see coalesceSearches). */
  get searchBatches(): SearchBatcherStats {
    return this.batcher?.stats ?? { calls: 0, queries: 0, batched: 0, largest: 0 };
  }

  /** Inserts, replaces or (when identical) skips documents; all validated before anything is written. */
  async upsert(documents: readonly DocumentInput[], options: UpsertOptions = {}): Promise<UpsertResult> {
    return this.upsertValid(
      documents.map((doc, i) => parseDocument(doc, this.config.dimension, {}, () => `documents[${i}]`)),
      options,
    );
  }

  /** Upsert for callers that validated with parseDocument themselves (ingest, with file and line). */
  async upsertValid(documents: readonly ValidDocument[], options: UpsertOptions = {}): Promise<UpsertResult> {
    const chunking = options.chunking ?? DEFAULT_CHUNKING;
    const registered = this.lookAhead(documents);
    const planned = documents.map((doc, i) => {
      if (doc.vector !== undefined && doc.vector.length !== this.config.dimension) {
        toFloat32Vector(doc.vector, this.config.dimension, { field: `documents[${i}].vector` });
      }
      return planDocument(doc, chunking);
    });
    return this.exclusive(() => this.writeDocuments(planned, options, registered));
  }

  /**
   * Starts reading the registry entries of documents that carry their ids while their hashes are
   * computed (LevelDB reads on its threads, this thread plans): a bulk load's lookups cost nothing
   * then. Only when no write is queued or running, so that what it reads is still current when
   * this upsert's turn comes (writeDocuments checks that no other write started in between).
   */
  private lookAhead(documents: readonly ValidDocument[]): RegistryLookAhead | undefined {
    if (this.writesQueued > 0 || documents.length === 0) return undefined;
    const ids: string[] = [];
    for (const doc of documents) {
      if (doc.id === undefined) return undefined;
      ids.push(doc.id);
    }
    const entries = this.deps.store.documentsAt(ids).then((found) => new Map(ids.map((id, i) => [id, found[i]])));
    entries.catch(() => undefined); // a failed read is redone in writeDocuments, never left unhandled
    return { startedAfter: this.writesStarted, entries };
  }

  /** Records by id: document ids, or chunk ids `<doc>#<n>`. */
  async get(ids: readonly string[], options: { withVector?: boolean } = {}): Promise<(DocumentView | undefined)[]> {
    const labels = await this.deps.store.labelsOf(ids);
    const present = labels.filter((label): label is number => label !== undefined);
    const records = await this.deps.store.recordsAt(present);
    const vectors = options.withVector === true ? await this.deps.store.vectorsAt(present) : [];
    let cursor = 0;
    return labels.map((label) => {
      if (label === undefined) return undefined;
      const record = records[cursor];
      const vector = vectors[cursor];
      cursor += 1;
      if (record === undefined) return undefined;
      return vector === undefined ? { ...record } : { ...record, vector: Array.from(vector) };
    });
  }

  /**
   * Deletes documents with all their chunks. A chunk id deletes that chunk alone (its document is
   * then no longer "unchanged", so the next upsert of it writes it again in full).
   */
  async delete(ids: readonly string[], options: WriteOptions = {}): Promise<DeleteResult> {
    return this.exclusive(async () => {
      const unique = [...new Set(ids)];
      const { store } = this.deps;
      const entries = await store.documentsAt(unique);
      const recordIds = new Set<string>();
      const documents: DocumentWrite[] = [];
      const loose: string[] = [];
      unique.forEach((id, i) => {
        const entry = entries[i];
        if (entry === undefined) loose.push(id);
        else {
          entry.records.forEach((recordId) => recordIds.add(recordId));
          documents.push({ id, entry: null });
        }
      });
      const looseLabels = await store.labelsOf(loose);
      const notFound = loose.filter((_, i) => looseLabels[i] === undefined);
      const chunks = loose.filter((_, i) => looseLabels[i] !== undefined);
      chunks.forEach((id) => recordIds.add(id));
      const parents = [...new Set(chunks.map(parentOf))];
      const parentEntries = await store.documentsAt(parents);
      parents.forEach((parent, i) => {
        const entry = parentEntries[i];
        if (entry !== undefined) documents.push({ id: parent, entry: { ...entry, hash: '', records: entry.records.filter((r) => !recordIds.has(r)) } });
      });
      const ordered = [...recordIds];
      const labels = await store.labelsOf(ordered);
      const deletes: LabelledDelete[] = [];
      ordered.forEach((id, i) => {
        const label = labels[i];
        if (label !== undefined) deletes.push({ id, label });
      });
      if (deletes.length > 0 || documents.length > 0) {
        const derived = await this.derivedChanges([], deletes.map((d) => d.label));
        this.counts = await store.write(
          { upserts: [], deletes, documents, derived },
          { sync: this.syncFor(options), stage: this.keywordStage([], deletes.map((d) => d.id)) },
        );
      }
      return { deleted: unique.length - notFound.length, notFound };
    });
  }

  /** Live records (chunks, or whole documents); with a filter, those it accepts (a full scan). */
  async count(filter?: Filter): Promise<number> {
    if (filter === undefined) return (await this.liveCounts()).records;
    const accept = compileFilter(filter);
    let count = 0;
    for await (const chunk of this.deps.store.recordsInLabelOrder()) for (const { record } of chunk) if (accept(record)) count += 1;
    return count;
  }

  /**
   * A page of live records in id order (byte order of the UTF-8 id), starting at `from`
   * (inclusive), optionally filtered: at most `limit` records, and `next`, the id to pass as
   * `from` for the following page (undefined after the last one).
   */
  /** Ids of every live record the filter matches (a full scan, page by page). */
  async idsMatching(filter: Filter): Promise<string[]> {
    const ids: string[] = [];
    let from: string | undefined;
    for (;;) {
      const page = await this.scroll({ limit: SCROLL_PAGE, filter, ...(from === undefined ? {} : { from }) });
      for (const record of page.records) ids.push(record.id);
      if (page.next === undefined) return ids;
      from = page.next;
    }
  }

  /** Deletes every live record the filter matches; returns how many. */
  async deleteMatching(filter: Filter, options: WriteOptions = {}): Promise<number> {
    const ids = await this.idsMatching(filter);
    let deleted = 0;
    for (let i = 0; i < ids.length; i += SCROLL_PAGE) deleted += (await this.delete(ids.slice(i, i + SCROLL_PAGE), options)).deleted;
    return deleted;
  }

  async scroll(options: ScrollOptions): Promise<ScrollPage> {
    const { limit } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_K) {
      throw new PiramidError('INVALID_ARGUMENT', `limit must be an integer from 1 to ${MAX_K}; got ${limit}.`);
    }
    const accept = options.filter === undefined ? undefined : compileFilter(options.filter);
    const found: { label: number; record: StoredRecord }[] = [];
    let next: string | undefined;
    outer: for await (const chunk of this.deps.store.idsInOrder(options.from)) {
      const records = await this.deps.store.recordsAt(chunk.map((entry) => entry.label));
      for (let i = 0; i < chunk.length; i++) {
        const record = records[i];
        if (record === undefined || (accept !== undefined && !accept(record))) continue;
        if (found.length === limit) {
          next = record.id;
          break outer;
        }
        found.push({ label: (chunk[i] as { label: number }).label, record });
      }
    }
    const vectors = options.withVector === true ? await this.deps.store.vectorsAt(found.map((f) => f.label)) : [];
    const views = found.map(({ record }, i): DocumentView => {
      const vector = vectors[i];
      return vector === undefined ? { ...record } : { ...record, vector: Array.from(vector) };
    });
    return next === undefined ? { records: views } : { records: views, next };
  }

  /** Documents currently registered from `source` (see UpsertOptions.source). */
  async documentsFromSource(source: string): Promise<string[]> {
    return this.deps.store.documentsFromSource(source);
  }

  /**
   * Top-k search by text (embedded with the collection's embedder) or by vector, optionally
   * filtered on metadata. The planner answers a selective filter by exact scoring of the records
   * its payload indexes name; otherwise ANN over-fetches past deleted and filtered-out labels and
   * widens until it has k + offset hits, falling back to an exact scan when an approximate index
   * runs out: a filtered query always returns min(k, matching records) hits.
   */
  async search(query: string | ArrayLike<number>, options: SearchOptions = {}): Promise<SearchResult> {
    const k = options.k ?? DEFAULT_K;
    const offset = options.offset ?? 0;
    if (!Number.isInteger(k) || k < 1 || k > MAX_K) {
      throw new PiramidError('INVALID_ARGUMENT', `k must be an integer from 1 to ${MAX_K}; got ${k}.`);
    }
    if (!Number.isInteger(offset) || offset < 0) throw new PiramidError('INVALID_ARGUMENT', `offset must be a non-negative integer; got ${offset}.`);
    const mode = options.mode ?? 'vector';
    const text = typeof query === 'string' ? query : options.text;
    if (mode !== 'vector') this.checkKeywordSearch(text);
    const filter = options.filter;
    const selection: Selection = { want: k + offset, groupByDocument: options.groupByDocument === true };
    if (filter !== undefined) selection.accept = compileFilter(filter);
    const plan: QueryPlan = { mode, strategy: 'keyword', fetched: 0 };
    if (filter !== undefined) plan.filter = describeFilter(filter);

    let candidates: Candidate[];
    if (mode === 'keyword') {
      candidates = await this.keywordCandidates(text as string, selection);
      plan.keywordMatches = candidates.length;
    } else {
      // Hybrid fuses deeper lists than it returns: a document ranked 15th by one side and 2nd by
      // the other belongs in the top 10.
      const depth = mode === 'hybrid' ? Math.max(selection.want * 3, 30) : selection.want;
      const vector = typeof query === 'string' ? await this.embedQuery(query) : toFloat32Vector(query, this.config.dimension, { field: 'query vector' });
      candidates = await this.vectorCandidates(vector, { ...selection, want: depth }, options, plan);
      if (mode === 'hybrid') {
        const keyword = await this.keywordCandidates(text as string, { ...selection, want: depth });
        plan.keywordMatches = keyword.length;
        candidates = fuse(candidates, keyword, this.config.metric, options.alpha).slice(0, selection.want);
      }
    }
    let hits = candidates.slice(offset).map((c) => toHit(c.record, c.score));
    if (options.scoreThreshold !== undefined) {
      const threshold = options.scoreThreshold;
      const lowerIsBetter = mode === 'vector' && this.config.metric === 'l2';
      hits = hits.filter((hit) => (lowerIsBetter ? hit.score <= threshold : hit.score >= threshold));
    }
    const labels = candidates.slice(offset, offset + hits.length).map((c) => c.label);
    return { hits: await this.withVectors(hits, labels, options), fetched: plan.fetched, plan };
  }

  /**
   * The planner for the vector side: exact scoring of the payload-index candidates when the filter
   * is selective; otherwise ANN with post-filtering, and an exact scan when ANN runs out.
   */
  private async vectorCandidates(vector: Float32Array, selection: Selection, options: SearchOptions, plan: QueryPlan): Promise<Candidate[]> {
    const { dimension, metric } = this.config;
    const indexVector = new Float32Array(dimension);
    writeIndexVector(vector, metric, indexVector, 0);
    await this.deps.index.ensure(await this.labelsIssued());
    const counts = await this.liveCounts();
    const context: VectorSearchContext = { store: this.deps.store, index: this.deps.index, metric, dimension, live: counts.records, documents: counts.documents };
    const filter = options.filter;
    if (this.coalesceSearches && filter === undefined && !selection.groupByDocument && (options.mode ?? 'vector') === 'vector' && options.exact !== true) {
      this.batcher ??= new SearchBatcher((queries, k, params) => this.deps.index.search(queries, k, params), dimension);
      context.batcher = this.batcher;
    }
    plan.strategy = filter === undefined ? 'ann' : 'ann-postfilter';
    const indexed = filter === undefined ? null : await this.payloadCandidates(filter, exactLimit(counts.records));
    if (indexed !== null) {
      plan.indexedKeys = indexed.used;
      plan.candidates = indexed.atLeast;
      if (indexed.ids !== null) {
        plan.strategy = 'exact-candidates';
        const exact = await exactSearch(context, indexVector, recordsByIds(this.deps.store, indexed.ids), selection);
        plan.scored = exact.scored;
        return exact.candidates;
      }
    }
    if (options.exact === true) {
      // Every live record scored from its stored vector: independent of the approximate index.
      plan.strategy = 'exact-scan';
      const exact = await exactSearch(context, indexVector, this.deps.store.recordsInLabelOrder(), selection);
      plan.scored = exact.scored;
      return exact.candidates;
    }
    const ann = await annSearch(context, indexVector, selection, options);
    plan.fetched = ann.fetched;
    if (ann.candidates.length >= selection.want || ann.exhausted || selection.accept === undefined) return ann.candidates;
    // The approximate index gave out before enough records passed the filter: score them all.
    plan.strategy = 'exact-scan';
    const exact = await exactSearch(context, indexVector, this.deps.store.recordsInLabelOrder(), selection);
    plan.scored = exact.scored;
    return exact.candidates;
  }

  /** BM25 hits, filtered through the selection, as candidates (score: BM25). */
  private async keywordCandidates(text: string, selection: Selection): Promise<Candidate[]> {
    const { store } = this.deps;
    const accept = selection.accept;
    const { records: live, documents } = await this.liveCounts();
    const perHit = selection.groupByDocument ? Math.ceil(live / Math.max(1, documents)) : 1;
    const hits = await this.deps.keywordIndex.search(text, selection.want * perHit, {
      ...(accept === undefined
        ? {}
        : {
            accept: (id: string) => {
              const record = store.recordByIdSync(id);
              return record !== undefined && accept(record);
            },
          }),
    });
    const labels = await store.labelsOf(hits.map((h) => h.id));
    const records = await store.recordsAt(labels.map((label) => label ?? -1).filter((label) => label >= 0));
    const candidates: Candidate[] = [];
    const seen = new Set<string>();
    let cursor = 0;
    hits.forEach((hit, i) => {
      const label = labels[i];
      if (label === undefined) return;
      const record = records[cursor++];
      if (record === undefined || candidates.length >= selection.want) return;
      if (selection.groupByDocument) {
        const parent = record.parent ?? record.id;
        if (seen.has(parent)) return;
        seen.add(parent);
      }
      candidates.push({ label, record, score: hit.score });
    });
    return candidates;
  }

  private checkKeywordSearch(text: string | undefined): void {
    if (text === undefined || text.trim().length === 0) {
      throw new PiramidError('INVALID_ARGUMENT', 'Keyword and hybrid search need a query text.', { hint: 'Pass the text as the query (or with --vector, as text).' });
    }
    if (this.config.keywordIndex !== true) {
      throw new PiramidError('INVALID_ARGUMENT', `Collection "${this.name}" has no keyword index.`, {
        hint: 'Collections created by this version index their texts for keyword search; re-create it to get one.',
      });
    }
  }

  /** Candidates from payload indexes (bounded by `limit`); null when no index applies to the filter. */
  private async payloadCandidates(filter: Filter, limit: number): Promise<{ ids: string[] | null; atLeast: number; used: string[] } | null> {
    const indexes = this.config.payloadIndexes ?? {};
    if (Object.keys(indexes).length === 0) return null;
    const terms = indexableTerms(filter);
    if (terms === null || terms.length === 0) return null;
    return this.deps.payloadIndex.candidates(terms, indexes, limit);
  }

  async stats(): Promise<CollectionStats> {
    const { config } = this;
    const [counts, issued, levelBytes, fileBytes, cache] = await Promise.all([
      this.liveCounts(),
      this.labelsIssued(),
      this.deps.store.approximateSize(),
      fileSize(this.deps.indexPath),
      this.deps.cacheStats(),
    ]);
    return {
      name: config.name,
      dimension: config.dimension,
      metric: config.metric,
      index: config.index.kind,
      indexState: this.deps.index.description ?? (await indexFileDescription(this.deps.indexPath)) ?? 'none yet',
      embedder: config.embedder === null ? 'none' : `${config.embedder.name}:${config.embedder.model}`,
      count: counts.records,
      documents: counts.documents,
      deleted: issued - counts.records,
      sizeBytes: levelBytes + fileBytes,
      embeddingCache: cache,
    };
  }

  /** Live records' ids and stored vectors (as given, not normalised), in label order, in chunks. */
  async *liveVectors(): AsyncGenerator<{ id: string; vector: Float32Array }[]> {
    for await (const chunk of this.deps.store.recordsInLabelOrder()) {
      const vectors = await this.deps.store.vectorsAt(chunk.map((entry) => entry.label));
      yield chunk.flatMap(({ record }, i) => {
        const vector = vectors[i];
        return vector === undefined ? [] : [{ id: record.id, vector }];
      });
    }
  }

  /** An empty exact faiss index (Flat) of this collection's dimension and metric, in index space. */
  createExactIndex(): FaissVectorIndex {
    return this.deps.index.createExact();
  }

  /** The index settings as stored and the values queries and adds use now. */
  async indexTuning(): Promise<IndexTuning> {
    await this.deps.index.ensure(await this.labelsIssued());
    const settings = this.config.index;
    const now = this.deps.index.effectiveSearch();
    const effective: IndexTuning['effective'] = {};
    if (now.description?.startsWith('HNSW') === true) {
      effective.m = settings.m ?? DEFAULT_HNSW_M;
      effective.efConstruction = settings.efConstruction ?? DEFAULT_EF_CONSTRUCTION;
    }
    if (now.efSearch !== undefined) effective.efSearch = now.efSearch;
    const datatype = ivfDatatypeOf(now.description ?? '');
    if (now.nlist !== undefined && datatype !== undefined) {
      effective.nlist = now.nlist;
      effective.datatype = datatype;
    }
    if (now.nprobe !== undefined) effective.nprobe = now.nprobe;
    return { collection: this.name, settings: { ...settings }, indexState: now.description ?? 'Flat', effective };
  }

  /**
   * Changes search defaults (efSearch, nprobe) and the HNSW build candidate list (efConstruction,
   * for vectors added from now on) without rebuilding anything; null restores a default.
   */
  async updateIndexTuning(patch: IndexTuningPatch): Promise<IndexTuning> {
    const kind = this.config.index.kind;
    const knobs: [keyof IndexTuningPatch, string, readonly string[], number][] = [
      ['efSearch', 'ef_search', ['hnsw'], 10_000],
      ['efConstruction', 'ef_construction', ['hnsw'], 4096],
      ['nprobe', 'nprobe', ['ivf', 'auto'], 65_536],
    ];
    for (const [key, name, kinds, max] of knobs) {
      const value = patch[key];
      if (value === undefined) continue;
      if (!kinds.includes(kind)) {
        throw new PiramidError('INVALID_ARGUMENT', `${name} does not apply to collection "${this.name}": its index is ${kind}.`, {
          hint: `${name} tunes ${kinds.join('/')} indexes.`,
        });
      }
      if (value !== null && (!Number.isInteger(value) || value < 1 || value > max)) {
        throw new PiramidError('INVALID_ARGUMENT', `${name} must be an integer from 1 to ${max}; got ${value}.`);
      }
    }
    await this.exclusive(async () => {
      const settings = this.config.index;
      for (const [key] of knobs) {
        const value = patch[key];
        if (value === null) delete settings[key];
        else if (value !== undefined) settings[key] = value;
      }
      await this.deps.saveConfig(this.config);
    });
    return this.indexTuning();
  }

  /** Writes the index checkpoint if it is behind. */
  async checkpoint(): Promise<boolean> {
    return this.exclusive(() => this.deps.index.checkpoint());
  }

  /**
   * Runs `work` on the collection's parts while no write runs (writes queue behind it); cached
   * counts and the next label are re-read afterwards, since maintenance may change them.
   */
  async maintain<T>(work: (parts: CollectionParts) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      try {
        const { config, store, index, indexPath, payloadIndex, keywordIndex, saveConfig, stageConfig } = this.deps;
        return await store.withoutRecordCache(() => work({ config, store, index, indexPath, payloadIndex, keywordIndex, saveConfig, stageConfig }));
      } finally {
        this.counts = undefined;
        this.nextLabel = undefined;
      }
    });
  }

  /** Waits for queued writes, then checkpoints. The collection is unusable afterwards. */
  async close(): Promise<void> {
    await this.checkpoint();
    this.deps.index.discard();
  }

  private async liveCounts(): Promise<Counts> {
    this.counts ??= await this.deps.store.counts();
    return this.counts;
  }

  private async labelsIssued(): Promise<number> {
    this.nextLabel ??= await this.deps.store.nextLabel();
    return this.nextLabel;
  }

  private async writeDocuments(planned: PlannedDocument[], options: UpsertOptions, registered?: RegistryLookAhead): Promise<UpsertResult> {
    const { store } = this.deps;
    // The last occurrence of an id within one call wins, as if written one after another.
    const byId = new Map<string, PlannedDocument>();
    for (const doc of planned) {
      byId.delete(doc.id);
      byId.set(doc.id, doc);
    }
    const docs = [...byId.values()];
    const entries = (await this.registeredEntries(docs, registered)) ?? (await store.documentsAt(docs.map((doc) => doc.id)));
    const changed = docs.filter((doc, i) => entries[i]?.hash !== doc.hash || entries[i]?.source !== options.source);
    const previousEntries = new Map(docs.map((doc, i) => [doc.id, entries[i]]));
    const result: UpsertResult = { added: 0, updated: 0, unchanged: docs.length - changed.length, records: 0, ids: planned.map((doc) => doc.id) };
    if (changed.length === 0) return result;

    const newRecords = changed.flatMap((doc) => doc.records);
    await this.embedMissing(newRecords);

    // Every record id these documents had or will have, with its current label. A record id
    // belongs to one document (`<doc>` or `<doc>#n`, and ids ending in #digits are reserved), so a
    // document never stored before has no labelled records: only known documents are looked up.
    const replacing = changed.filter((doc) => previousEntries.get(doc.id) !== undefined);
    const newIds = new Set(replacing.flatMap((doc) => doc.records.map((r) => r.id)));
    const oldIds = replacing.flatMap((doc) => previousEntries.get(doc.id)?.records ?? []).filter((id) => !newIds.has(id));
    const lookup = [...newIds, ...oldIds];
    const labels = await store.labelsOf(lookup);
    const labelOf = new Map(lookup.map((id, i) => [id, labels[i]]));

    const firstLabel = await this.labelsIssued();
    await this.deps.index.ensure(firstLabel);
    const upserts: LabelledWrite[] = newRecords.map((r, i) => ({
      id: r.id,
      label: firstLabel + i,
      record: r.record,
      vector: r.vector as Float32Array,
      previousLabel: labelOf.get(r.id),
    }));
    const deletes: LabelledDelete[] = oldIds.flatMap((id) => {
      const label = labelOf.get(id);
      return label === undefined ? [] : [{ id, label }];
    });
    const documents: DocumentWrite[] = changed.map((doc) => ({
      id: doc.id,
      entry: { hash: doc.hash, records: doc.records.map((r) => r.id), ...(options.source === undefined ? {} : { source: options.source }) },
      existed: previousEntries.get(doc.id) !== undefined,
    }));
    const replaced = upserts.flatMap((u) => (u.previousLabel === undefined ? [] : [u.previousLabel]));
    const derived = await this.derivedChanges(upserts.map((u) => u.record), [...replaced, ...deletes.map((d) => d.label)]);
    const keywords = this.keywordStage(upserts, deletes.map((d) => d.id));
    // faiss adds the vectors while LevelDB commits them (two threads). A search meanwhile may meet
    // the new labels before their records exist: it skips them, as it skips deleted ones. Should
    // the commit fail, the index holds labels LevelDB never issued: it is dropped and reloaded
    // from LevelDB on next use.
    let appendFailure: { error: unknown } | undefined;
    const appendVectors = async (): Promise<void> => {
      try {
        await this.deps.index.append(
          upserts.map((write) => write.vector),
          firstLabel,
        );
      } catch (error) {
        appendFailure = { error };
      }
    };
    try {
      this.counts = await store.write(
        { upserts, deletes, documents, derived },
        { sync: this.syncFor(options), stage: keywords, before: this.counts, whileCommitting: appendVectors },
      );
    } catch (err) {
      this.deps.index.discard();
      throw err;
    }
    this.nextLabel = firstLabel + upserts.length;
    this.deps.index.settleAppend();
    if (appendFailure !== undefined) throw appendFailure.error;
    await this.deps.index.trainIfDue(this.counts.records, this.nextLabel);
    for (const doc of changed) {
      if (previousEntries.get(doc.id) === undefined) result.added += 1;
      else result.updated += 1;
    }
    result.records = upserts.length;
    return result;
  }

  /**
   * Keys of the derived indexes that follow records (payload postings): removed for records that
   * go away or are replaced, added for the new ones, committed in the records' own batch.
   */
  private async derivedChanges(added: readonly StoredRecord[], removedLabels: readonly number[]): Promise<NonNullable<WriteSet['derived']>> {
    const indexes = this.config.payloadIndexes ?? {};
    if (Object.keys(indexes).length === 0) return { puts: [], dels: [] };
    const payload = this.deps.payloadIndex;
    const removed = (await this.deps.store.recordsAt(removedLabels)).filter((r): r is StoredRecord => r !== undefined);
    return {
      dels: removed.flatMap((r) => payload.operationsFor(r.id, r.metadata, indexes)),
      puts: added.flatMap((r) => payload.operationsFor(r.id, r.metadata, indexes).map((key) => [key, ''] as const)),
    };
  }

  /** The keyword index's share of a write: index the new records' texts, forget removed records. */
  private keywordStage(added: readonly LabelledWrite[], removedIds: readonly string[]): ((batch: RawBatch) => Promise<void>) | undefined {
    if (this.config.keywordIndex !== true) return undefined;
    // Vectors without text, all new (a bulk load of embeddings): the keyword index has nothing to do.
    if (removedIds.length === 0 && added.every((write) => write.previousLabel === undefined && (write.record.text ?? '') === '')) return undefined;
    // A record id without a previous label was never indexed: nothing of it to remove.
    const upserts = added.map((write) => ({ id: write.id, text: write.record.text ?? '', fresh: write.previousLabel === undefined }));
    const upserted = new Set(upserts.map((u) => u.id));
    const deletes = removedIds.filter((id) => !upserted.has(id));
    return async (batch) => {
      await this.deps.keywordIndex.stage(batch, { upserts, deletes });
    };
  }

  /**
   * Indexes a metadata key (values -> records) so filters on it find their candidates without
   * scanning: builds the postings of every live record, then keeps them in step with writes.
   * Returns how many records were indexed.
   */
  async indexField(key: string, kind: PayloadIndexKind): Promise<number> {
    if (key.length === 0 || key.includes('\x00')) throw new PiramidError('INVALID_ARGUMENT', `Invalid metadata key "${key}".`);
    return this.exclusive(async () => {
      const payload = this.deps.payloadIndex;
      await payload.clearField(key);
      const config = this.config;
      config.payloadIndexes = { ...(config.payloadIndexes ?? {}), [key]: kind };
      await this.deps.saveConfig(config);
      const only = { [key]: kind };
      let indexed = 0;
      for await (const chunk of this.deps.store.recordsInLabelOrder()) {
        const puts = chunk.flatMap(({ record }) => payload.operationsFor(record.id, record.metadata, only).map((k) => [k, ''] as const));
        await this.deps.store.write({ upserts: [], deletes: [], documents: [], derived: { puts, dels: [] } });
        indexed += chunk.length;
      }
      return indexed;
    });
  }

  private async embedMissing(records: PlannedRecord[]): Promise<void> {
    const pending = records.filter((r) => r.vector === undefined);
    if (pending.length === 0) return;
    const embedder = await this.requireEmbedder();
    const vectors = await embedder.embed(pending.map((r) => r.text ?? ''));
    pending.forEach((r, i) => {
      r.vector = toFloat32Vector(vectors[i], this.config.dimension, { field: `embedding of ${r.id}` });
    });
  }

  private async embedQuery(text: string): Promise<Float32Array> {
    if (text.trim().length === 0) throw new PiramidError('INVALID_ARGUMENT', 'The query text is empty.');
    const embedder = await this.requireEmbedder();
    const [vector] = await embedder.embed([text]);
    return toFloat32Vector(vector, this.config.dimension, { field: 'query embedding' });
  }

  private async requireEmbedder(): Promise<Embedder> {
    const embedder = await this.deps.embedder();
    if (embedder === null) {
      throw new PiramidError('EMBEDDER_REQUIRED', `Collection "${this.name}" has no embedder, so text cannot be turned into vectors.`, {
        hint: 'Supply vectors (a "vector" field, or --vector for queries), or create the collection with an embedder.',
      });
    }
    return embedder;
  }

  private syncFor(options: WriteOptions): boolean {
    return (options.sync ?? this.deps.syncWrites) === true;
  }

  /** The look-ahead's entries for `docs`, if it is still current (no other write started since). */
  private async registeredEntries(docs: readonly PlannedDocument[], registered: RegistryLookAhead | undefined): Promise<(DocumentEntry | undefined)[] | undefined> {
    // This write is the one started since the look-ahead; any other means the entries may be stale.
    if (registered === undefined || this.writesStarted !== registered.startedAfter + 1) return undefined;
    const entries = await registered.entries.catch(() => undefined);
    if (entries === undefined || docs.some((doc) => !entries.has(doc.id))) return undefined;
    return docs.map((doc) => entries.get(doc.id));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    this.writesQueued += 1;
    const start = (): Promise<T> => {
      this.writesStarted += 1;
      return work();
    };
    const run = this.writeQueue.then(start, start).finally(() => {
      this.writesQueued -= 1;
    });
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  private async withVectors(hits: SearchHit[], labels: number[], options: SearchOptions): Promise<SearchHit[]> {
    if (options.withVector !== true || hits.length === 0) return hits;
    const vectors = await this.deps.store.vectorsAt(labels);
    return hits.map((hit, i) => {
      const vector = vectors[i];
      return vector === undefined ? hit : { ...hit, vector: Array.from(vector) };
    });
  }
}

/** `doc#3` → `doc`; ids without a chunk suffix are their own parent. */
function parentOf(recordId: string): string {
  const match = /^(.*)#\d+$/.exec(recordId);
  return match?.[1] ?? recordId;
}

/**
 * Hybrid fusion of the vector and keyword candidate lists: reciprocal rank fusion by default, or a
 * weighted sum of min-max normalised scores when alpha (the vector side's weight) is given.
 */
function fuse(vector: Candidate[], keyword: Candidate[], metric: CollectionConfig['metric'], alpha: number | undefined): Candidate[] {
  const byId = new Map<string, Candidate>();
  for (const c of [...keyword, ...vector]) byId.set(c.record.id, c);
  const fused =
    alpha === undefined
      ? reciprocalRankFusion([vector.map((c) => ({ id: c.record.id })), keyword.map((c) => ({ id: c.record.id }))])
      : weightedFusion(
          // Fusion wants higher-is-better: l2 distances are negated.
          vector.map((c) => ({ id: c.record.id, score: metric === 'l2' ? -c.score : c.score })),
          keyword.map((c) => ({ id: c.record.id, score: c.score })),
          alpha,
        );
  return fused.map((f) => ({ ...(byId.get(f.id) as Candidate), score: f.score }));
}

/** Hits list id and score first: the order people read them in. */
function toHit(record: StoredRecord, score: number): SearchHit {
  const hit: SearchHit = { id: record.id, score };
  if (record.text !== undefined) hit.text = record.text;
  if (record.metadata !== undefined) hit.metadata = record.metadata;
  if (record.parent !== undefined) hit.parent = record.parent;
  if (record.chunk !== undefined) hit.chunk = record.chunk;
  return hit;
}

async function indexFileDescription(path: string): Promise<string | undefined> {
  const file = await readIndexTrailer(path);
  return file.ok ? file.header.description : undefined;
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
