import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { Embedder } from './embed/embedder.js';
import { parseDocument, type ValidDocument } from './document.js';
import { PiramidError } from './errors.js';
import type { CollectionIndex } from './index/collection-index.js';
import { readIndexTrailer } from './index/index-file.js';
import type { CollectionStore, LabelledDelete, LabelledWrite } from './store/collection-store.js';
import type {
  CollectionConfig,
  CollectionStats,
  DocumentInput,
  DocumentView,
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
}

export interface WriteOptions {
  /** fsync the LevelDB write before acknowledging it. */
  sync?: boolean;
}

export interface DeleteResult {
  deleted: number;
  notFound: string[];
}

interface PreparedDocument {
  id: string;
  record: StoredRecord;
  vector: Float32Array | undefined;
  text: string | undefined;
}

export const DEFAULT_K = 10;
const MAX_K = 10_000;

/**
 * One collection: keeps its LevelDB records and its faiss index in step. Writes are serialised
 * (labels are issued in order and must reach faiss in that order); reads run freely.
 */
export class Collection {
  private nextLabel: number | undefined;
  /** Live documents; cached because every search needs it and only this object writes. */
  private liveCount: number | undefined;
  private writeQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: CollectionDeps) {}

  get name(): string {
    return this.deps.config.name;
  }

  get config(): CollectionConfig {
    return this.deps.config;
  }

  /** Inserts or replaces documents. Everything is validated and embedded before anything is written. */
  async upsert(documents: readonly DocumentInput[], options: WriteOptions = {}): Promise<UpsertResult> {
    return this.upsertValid(
      documents.map((doc, i) => parseDocument(doc, this.config.dimension, {}, `documents[${i}]`)),
      options,
    );
  }

  /** Upsert for callers that validated with parseDocument themselves (ingest, with file and line). */
  async upsertValid(documents: readonly ValidDocument[], options: WriteOptions = {}): Promise<UpsertResult> {
    const prepared = documents.map((doc, i) => this.prepare(doc, i));
    await this.embedMissing(prepared);
    return this.exclusive(() => this.writePrepared(prepared, options));
  }

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

  async delete(ids: readonly string[], options: WriteOptions = {}): Promise<DeleteResult> {
    return this.exclusive(async () => {
      const unique = [...new Set(ids)];
      const labels = await this.deps.store.labelsOf(unique);
      const deletes: LabelledDelete[] = [];
      const notFound: string[] = [];
      unique.forEach((id, i) => {
        const label = labels[i];
        if (label === undefined) notFound.push(id);
        else deletes.push({ id, label });
      });
      if (deletes.length > 0) this.liveCount = await this.deps.store.write([], deletes, options.sync === true);
      return { deleted: deletes.length, notFound };
    });
  }

  async count(): Promise<number> {
    this.liveCount ??= await this.deps.store.count();
    return this.liveCount;
  }

  /**
   * Top-k search by text (embedded with the collection's embedder) or by vector. Deleted and
   * replaced labels are skipped: the search over-fetches, and widens until k live hits are found
   * or the index has nothing more to give.
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
    const live = await this.count();
    const total = index.size;
    if (total === 0 || live === 0) return { hits: [], fetched: 0 };

    // Expect dead labels in proportion to their share of the index, with room to spare.
    let fetch = Math.min(total, total === live ? k : Math.ceil((k * total) / live) + k);
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
      for (let i = 0; i < records.length && hits.length < k; i++) {
        const record = records[i];
        if (record === undefined) continue;
        hits.push(toHit(record, scores[i] as number));
        hitLabels.push(labels[i] as number);
      }
      const enough = hits.length >= k || hits.length >= live;
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
    const [count, issued, levelBytes, fileBytes] = await Promise.all([
      this.count(),
      this.labelsIssued(),
      this.deps.store.approximateSize(),
      fileSize(this.deps.indexPath),
    ]);
    return {
      name: config.name,
      dimension: config.dimension,
      metric: config.metric,
      index: config.index.kind,
      indexState: this.deps.index.description ?? (await indexFileDescription(this.deps.indexPath)) ?? 'none yet',
      embedder: config.embedder === null ? 'none' : `${config.embedder.name}:${config.embedder.model}`,
      count,
      deleted: issued - count,
      sizeBytes: levelBytes + fileBytes,
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

  private async labelsIssued(): Promise<number> {
    this.nextLabel ??= await this.deps.store.nextLabel();
    return this.nextLabel;
  }

  private prepare(valid: ValidDocument, position: number): PreparedDocument {
    if (valid.vector !== undefined && valid.vector.length !== this.config.dimension) {
      toFloat32Vector(valid.vector, this.config.dimension, { field: `documents[${position}].vector` });
    }
    const id = valid.id ?? randomUUID();
    const record: StoredRecord = { id };
    if (valid.text !== undefined) record.text = valid.text;
    if (valid.metadata !== undefined) record.metadata = valid.metadata;
    return { id, record, vector: valid.vector, text: valid.text };
  }

  private async embedMissing(prepared: PreparedDocument[]): Promise<void> {
    const pending = prepared.filter((doc) => doc.vector === undefined);
    if (pending.length === 0) return;
    const embedder = await this.requireEmbedder();
    const vectors = await embedder.embed(pending.map((doc) => doc.text ?? ''));
    pending.forEach((doc, i) => {
      doc.vector = toFloat32Vector(vectors[i], this.config.dimension, { field: `embedding of ${doc.id}` });
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

  private async writePrepared(prepared: PreparedDocument[], options: WriteOptions): Promise<UpsertResult> {
    // The last occurrence of an id within one call wins, as if written one after another.
    const byId = new Map<string, PreparedDocument>();
    for (const doc of prepared) {
      byId.delete(doc.id);
      byId.set(doc.id, doc);
    }
    const docs = [...byId.values()];
    const firstLabel = await this.labelsIssued();
    await this.deps.index.ensure(firstLabel);
    const previous = await this.deps.store.labelsOf(docs.map((doc) => doc.id));
    const writes: LabelledWrite[] = docs.map((doc, i) => ({
      id: doc.id,
      label: firstLabel + i,
      record: doc.record,
      vector: doc.vector as Float32Array,
      previousLabel: previous[i],
    }));
    this.liveCount = await this.deps.store.write(writes, [], options.sync === true);
    this.nextLabel = firstLabel + writes.length;
    this.deps.index.append(
      writes.map((write) => write.vector),
      firstLabel,
    );
    await this.deps.index.trainIfDue(this.liveCount, this.nextLabel);
    const updated = previous.filter((label) => label !== undefined).length;
    return { added: writes.length - updated, updated, ids: prepared.map((doc) => doc.id) };
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

/** Hits list id and score first: the order people read them in. */
function toHit(record: StoredRecord, score: number): SearchHit {
  const hit: SearchHit = { id: record.id, score };
  if (record.text !== undefined) hit.text = record.text;
  if (record.metadata !== undefined) hit.metadata = record.metadata;
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
