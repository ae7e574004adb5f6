import { stat } from 'node:fs/promises';
import { DEFAULT_CHUNKING, planDocument, type ChunkingOptions, type PlannedDocument, type PlannedRecord } from './document-plan.js';
import { parseDocument, type ValidDocument } from './document.js';
import type { Embedder } from './embed/embedder.js';
import { PiramidError } from './errors.js';
import type { CollectionIndex } from './index/collection-index.js';
import { readIndexTrailer } from './index/index-file.js';
import type { CollectionStore, Counts, DocumentWrite, LabelledDelete, LabelledWrite } from './store/collection-store.js';
import type {
  CollectionConfig,
  CollectionStats,
  DocumentInput,
  DocumentView,
  EmbeddingCacheStats,
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

export const DEFAULT_K = 10;
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

  constructor(private readonly deps: CollectionDeps) {}

  get name(): string {
    return this.deps.config.name;
  }

  get config(): CollectionConfig {
    return this.deps.config;
  }

  /** Inserts, replaces or (when identical) skips documents; all validated before anything is written. */
  async upsert(documents: readonly DocumentInput[], options: UpsertOptions = {}): Promise<UpsertResult> {
    return this.upsertValid(
      documents.map((doc, i) => parseDocument(doc, this.config.dimension, {}, `documents[${i}]`)),
      options,
    );
  }

  /** Upsert for callers that validated with parseDocument themselves (ingest, with file and line). */
  async upsertValid(documents: readonly ValidDocument[], options: UpsertOptions = {}): Promise<UpsertResult> {
    const chunking = options.chunking ?? DEFAULT_CHUNKING;
    const planned = documents.map((doc, i) => {
      if (doc.vector !== undefined && doc.vector.length !== this.config.dimension) {
        toFloat32Vector(doc.vector, this.config.dimension, { field: `documents[${i}].vector` });
      }
      return planDocument(doc, chunking);
    });
    return this.exclusive(() => this.writeDocuments(planned, options));
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
        this.counts = await store.write({ upserts: [], deletes, documents }, options.sync === true);
      }
      return { deleted: unique.length - notFound.length, notFound };
    });
  }

  /** Live records (chunks, or whole documents). */
  async count(): Promise<number> {
    return (await this.liveCounts()).records;
  }

  /** Documents currently registered from `source` (see UpsertOptions.source). */
  async documentsFromSource(source: string): Promise<string[]> {
    return this.deps.store.documentsFromSource(source);
  }

  /**
   * Top-k search by text (embedded with the collection's embedder) or by vector. Deleted and
   * replaced labels are skipped: the search over-fetches, and widens until k live hits (k distinct
   * documents with groupByDocument) are found or the index has nothing more to give.
   */
  async search(query: string | ArrayLike<number>, options: SearchOptions = {}): Promise<SearchResult> {
    const k = options.k ?? DEFAULT_K;
    if (!Number.isInteger(k) || k < 1 || k > MAX_K) {
      throw new PiramidError('INVALID_ARGUMENT', `k must be an integer from 1 to ${MAX_K}; got ${k}.`);
    }
    const vector = typeof query === 'string' ? await this.embedQuery(query) : toFloat32Vector(query, this.config.dimension, { field: 'query vector' });
    const { dimension, metric } = this.config;
    const indexVector = new Float32Array(dimension);
    writeIndexVector(vector, metric, indexVector, 0);

    const index = this.deps.index;
    await index.ensure(await this.labelsIssued());
    const { records: live, documents } = await this.liveCounts();
    const total = index.size;
    if (total === 0 || live === 0) return { hits: [], fetched: 0 };
    const group = options.groupByDocument === true;
    const available = group ? Math.max(1, documents) : live;

    // Expect dead labels in proportion to their share of the index (and, grouping, several chunks
    // per document), with room to spare.
    const perHit = group ? Math.ceil(live / Math.max(1, documents)) : 1;
    let fetch = Math.min(total, total === live && !group ? k : Math.ceil((k * perHit * total) / live) + k);
    let nprobe = options.nprobe;
    const nlist = index.ivfLists();
    for (;;) {
      const raw = index.search(indexVector, fetch, nprobe === undefined ? options : { ...options, nprobe });
      const labels: number[] = [];
      const scores: number[] = [];
      for (let i = 0; i < raw.labels.length; i++) {
        const label = raw.labels[i] as number;
        if (label < 0) break; // faiss pads with -1 when it has fewer results
        labels.push(label);
        scores.push(toScore(raw.distances[i] as number, metric));
      }
      const records = await this.deps.store.recordsAt(labels);
      const hits: SearchHit[] = [];
      const hitLabels: number[] = [];
      const seen = new Set<string>();
      for (let i = 0; i < records.length && hits.length < k; i++) {
        const record = records[i];
        if (record === undefined) continue;
        if (group) {
          const parent = record.parent ?? record.id;
          if (seen.has(parent)) continue; // results come best first: the first chunk seen wins
          seen.add(parent);
        }
        hits.push(toHit(record, scores[i] as number));
        hitLabels.push(labels[i] as number);
      }
      const enough = hits.length >= k || hits.length >= available;
      const exhausted = fetch >= total;
      // IVF answers fewer than asked when its probed lists run dry: probe more lists instead.
      const listsDry = labels.length < fetch && nlist !== undefined;
      if (enough || (exhausted && !listsDry)) return { hits: await this.withVectors(hits, hitLabels, options), fetched: labels.length };
      if (listsDry) {
        const current = nprobe ?? index.currentNprobe(options);
        if (current >= nlist) return { hits: await this.withVectors(hits, hitLabels, options), fetched: labels.length };
        nprobe = Math.min(nlist, current * 2);
      } else {
        fetch = Math.min(total, fetch * 2);
      }
    }
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

  /** Writes the index checkpoint if it is behind. */
  async checkpoint(): Promise<boolean> {
    return this.exclusive(() => this.deps.index.checkpoint());
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

  private async writeDocuments(planned: PlannedDocument[], options: UpsertOptions): Promise<UpsertResult> {
    const { store } = this.deps;
    // The last occurrence of an id within one call wins, as if written one after another.
    const byId = new Map<string, PlannedDocument>();
    for (const doc of planned) {
      byId.delete(doc.id);
      byId.set(doc.id, doc);
    }
    const docs = [...byId.values()];
    const entries = await store.documentsAt(docs.map((doc) => doc.id));
    const changed = docs.filter((doc, i) => entries[i]?.hash !== doc.hash || entries[i]?.source !== options.source);
    const previousEntries = new Map(docs.map((doc, i) => [doc.id, entries[i]]));
    const result: UpsertResult = { added: 0, updated: 0, unchanged: docs.length - changed.length, records: 0, ids: planned.map((doc) => doc.id) };
    if (changed.length === 0) return result;

    const newRecords = changed.flatMap((doc) => doc.records);
    await this.embedMissing(newRecords);

    // Every record id these documents had or will have, with its current label.
    const newIds = new Set(newRecords.map((r) => r.id));
    const oldIds = changed.flatMap((doc) => previousEntries.get(doc.id)?.records ?? []).filter((id) => !newIds.has(id));
    const allIds = [...newIds, ...oldIds];
    const labels = await store.labelsOf(allIds);
    const labelOf = new Map(allIds.map((id, i) => [id, labels[i]]));

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
    }));
    this.counts = await store.write({ upserts, deletes, documents }, options.sync === true);
    this.nextLabel = firstLabel + upserts.length;
    this.deps.index.append(
      upserts.map((write) => write.vector),
      firstLabel,
    );
    await this.deps.index.trainIfDue(this.counts.records, this.nextLabel);
    for (const doc of changed) {
      if (previousEntries.get(doc.id) === undefined) result.added += 1;
      else result.updated += 1;
    }
    result.records = upserts.length;
    return result;
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

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writeQueue.then(work, work);
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

/** Hits list id and score first: the order people read them in. */
function toHit(record: StoredRecord, score: number): SearchHit {
  const hit: SearchHit = { id: record.id, score };
  if (record.text !== undefined) hit.text = record.text;
  if (record.metadata !== undefined) hit.metadata = record.metadata;
  if (record.parent !== undefined) hit.parent = record.parent;
  if (record.chunk !== undefined) hit.chunk = record.chunk;
  return hit;
}

/** faiss distances to user-facing scores: similarity for cosine/dot, Euclidean distance for l2. */
function toScore(distance: number, metric: CollectionConfig['metric']): number {
  return metric === 'l2' ? Math.sqrt(Math.max(0, distance)) : distance;
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
