import type { CollectionStore } from '../store/collection-store.js';
import type { CollectionConfig, EngineWarning, SearchOptions } from '../types.js';
import { seededRandom } from '../random.js';
import { packIndexVectors, writeIndexVector } from '../vectors.js';
import { FaissVectorIndex, type FaissBinding, type RawHits } from './faiss-index.js';
import { dirname } from 'node:path';
import { asStorageError } from '../storage-errors.js';
import { payloadMatchesChecksum, readIndexTrailer, sameStamp, writeIndexFile, type IndexFileProblem, type IndexFileStamp } from './index-file.js';
import {
  CALIBRATION_QUERIES,
  CALIBRATION_TARGET_RECALL,
  DEFAULT_EF_CONSTRUCTION,
  IVF_MAX_TRAIN_POINTS_PER_LIST,
  describeIndex,
  nprobeLadder,
  searchParams,
  shouldCalibrate,
  shouldTrain,
} from './index-plan.js';

export interface CollectionIndexDeps {
  config: CollectionConfig;
  store: CollectionStore;
  path: string;
  binding: () => FaissBinding;
  onWarning: (warning: EngineWarning) => void;
  /** Add in small slices with the event loop let through (a server answering meanwhile). */
  responsive?: boolean;
}

/** An index built off to the side, to be installed once the store matches it. */
export interface DetachedIndex {
  index: FaissVectorIndex;
  nlist: number | undefined;
}

/**
 * Vectors per synchronous faiss add when responsive (a server): ~5 ms of HNSW graph work at 384
 * dims. Without a server waiting, a batch is one add: HNSW slices of 64 took 2x the time of one
 * call (30k × 100 on 2 threads: 8.0 s vs 3.5 s), since faiss parallelises within a call.
 */
const HNSW_ADD_SLICE = 64;
const ADD_SLICE = 4096;

const PROBLEM_TEXT: Record<IndexFileProblem, string> = {
  missing: 'is missing',
  truncated: 'is truncated',
  'bad-magic': 'is not a piramid index file',
  'bad-format': 'has an unknown format',
  'bad-header': 'has an unreadable header',
  checksum: 'fails its checksum',
};

/**
 * The derived faiss index of one collection and its life cycle: load the checkpoint, replay from
 * LevelDB the labels it lacks, rebuild when it is missing or corrupt, train IVF lists once the
 * collection is large enough, and write checkpoints. LevelDB stays the source of truth; this
 * never holds the only copy of anything.
 */
export class CollectionIndex {
  private index: FaissVectorIndex | undefined;
  private nlist: number | undefined;
  /** Labels in the checkpoint file on disk; -1 when unknown or stale. */
  private savedLabels = -1;
  /** A load or rebuild in flight: concurrent callers wait for it instead of starting another. */
  private pending: Promise<FaissVectorIndex> | undefined;
  /**
   * The size the index has once the write in flight is done: set by append, cleared by
   * settleAppend once the collection has issued those labels (or by discard). Until then a search
   * still asks for the labels issued before the write, while the index may hold some or all of
   * the new ones (faiss adds them while LevelDB commits): that index is the right one to search.
   */
  private appendTarget: number | undefined;

  /** Persists the config when the index changed it (a calibrated nprobe); see persistConfigWith. */
  private saveConfig: ((config: CollectionConfig) => Promise<void>) | undefined;

  constructor(private readonly deps: CollectionIndexDeps) {}

  /** Where config changes made here (IVF nprobe calibration) are saved. */
  persistConfigWith(save: (config: CollectionConfig) => Promise<void>): void {
    this.saveConfig = save;
  }

  get loaded(): boolean {
    return this.index !== undefined;
  }

  get description(): string | undefined {
    return this.index?.description;
  }

  get size(): number {
    return this.index?.size ?? 0;
  }

  /** Loads (or rebuilds) the index so that it holds exactly labels 0..nextLabel-1. */
  async ensure(nextLabel: number): Promise<FaissVectorIndex> {
    while (this.pending !== undefined) await this.pending.catch(() => undefined);
    if (this.index !== undefined && (this.index.size === nextLabel || this.appendCovers(this.index.size, nextLabel))) return this.index;
    this.pending = this.load(nextLabel).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async load(nextLabel: number): Promise<FaissVectorIndex> {
    if (this.index !== undefined) return this.rebuild(nextLabel, 'was out of step with the stored documents');

    const file = await readIndexTrailer(this.deps.path);
    if (!file.ok) {
      if (file.problem === 'missing' && nextLabel === 0) {
        const index = this.installEmpty((await this.deps.store.counts()).records);
        // The first checkpoint goes to disk before the first label is issued, so that a process
        // killed during a new collection's first writes leaves one to replay onto rather than
        // none (which verify could not tell from a lost file). Best effort: derived data.
        await this.checkpoint().catch(() => false);
        return index;
      }
      return this.rebuild(nextLabel, PROBLEM_TEXT[file.problem]);
    }
    const { header, stamp } = file;
    const { config, store } = this.deps;
    if (header.uid !== config.uid || header.dimension !== config.dimension || header.labels > nextLabel) {
      return this.rebuild(nextLabel, 'belongs to another version of this collection');
    }
    if (!sameStamp(await store.indexStamp(), stamp)) {
      // Not the file this engine last wrote or verified: check every byte before trusting it.
      if (!(await payloadMatchesChecksum(this.deps.path, header))) return this.rebuild(nextLabel, PROBLEM_TEXT.checksum);
      await store.setIndexStamp(stamp);
    }
    let index: FaissVectorIndex;
    try {
      const binding = this.deps.binding();
      // Read ahead by a one-shot CLI query (index-prefetch.ts): used only if it is this very file.
      const prefetched = await binding.takePrefetched?.(this.deps.path, stamp);
      index =
        prefetched === undefined
          ? await FaissVectorIndex.readAsync(binding, this.deps.path, header.description, config.dimension)
          : FaissVectorIndex.fromNative(binding, prefetched, header.description, config.dimension);
    } catch {
      return this.rebuild(nextLabel, 'could not be read by faiss');
    }
    if (index.size !== header.labels) return this.rebuild(nextLabel, 'holds a different label count than its header');
    if (header.labels < nextLabel) {
      await this.replay(index, header.labels);
      this.deps.onWarning({
        code: 'INDEX_REPLAYED',
        collection: config.name,
        message: `Replayed ${nextLabel - header.labels} vectors written after the last index checkpoint.`,
      });
    }
    if (index.size !== nextLabel) return this.rebuild(nextLabel, 'could not be replayed to the stored documents');
    this.install(index, header.nlist);
    this.savedLabels = header.labels;
    // A (re)training the collection's growth called for is checkpointed with the next checkpoint,
    // not at once: a process that ended before that left the older index. Train it now.
    if (shouldTrain(config.index, index.description, (await store.counts()).records, config.dimension, header.nlist)) return this.rebuild(nextLabel, undefined, true);
    return index;
  }

  /** Whether an index of `size` is the one a write in flight is filling from `nextLabel` on. */
  private appendCovers(size: number, nextLabel: number): boolean {
    return this.appendTarget !== undefined && nextLabel <= size && size <= this.appendTarget;
  }

  /** The write whose vectors the last append added has issued its labels (or failed and discarded). */
  settleAppend(): void {
    this.appendTarget = undefined;
  }

  /**
   * Adds a write's vectors under labels firstLabel.. in order, while LevelDB commits them
   * (Collection.writeDocuments), then settleAppend once the labels are issued. faiss calls are
   * synchronous, so under serve a big batch is added in slices with the event loop let through
   * between them: the server answers health checks and queries while a large ingest runs. Queries
   * meanwhile search the labels added so far (ensure accepts that index) and skip those whose
   * records are not committed yet. Callers serialise appends.
   */
  async append(vectors: readonly Float32Array[], firstLabel: number): Promise<void> {
    const index = this.index;
    if (index === undefined) return; // loaded (and replayed) on first use
    if (index.size !== firstLabel) {
      this.discard(); // out of step: rebuilt from LevelDB on next use
      return;
    }
    const { dimension, metric } = this.deps.config;
    const slice = this.addSlice(index.description);
    this.prepareAdds(index);
    this.appendTarget = firstLabel + vectors.length;
    try {
      for (let start = 0; start < vectors.length; start += slice) {
        if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        index.add(packIndexVectors(vectors.slice(start, start + slice), dimension, metric));
      }
    } catch (err) {
      this.discard();
      throw err;
    }
  }

  /**
   * Trains IVF lists once an IVF collection on its interim Flat index has enough vectors. The
   * interim index keeps answering queries until the trained one is swapped in.
   */
  async trainIfDue(liveCount: number, nextLabel: number): Promise<boolean> {
    const index = this.index;
    const { config } = this.deps;
    if (index === undefined || !shouldTrain(config.index, index.description, liveCount, config.dimension, this.nlist)) return false;
    await this.rebuild(nextLabel, undefined, true);
    return true;
  }

  /** nprobe a query with these options runs with (IVF only; 1 otherwise). */
  currentNprobe(options: SearchOptions): number {
    const description = this.index?.description ?? '';
    return searchParams(this.deps.config.index, description, this.nlist, options).nprobe ?? 1;
  }

  search(query: Float32Array, k: number, options: SearchOptions): RawHits {
    const index = this.index;
    if (index === undefined) throw new TypeError('CollectionIndex.search before ensure()');
    const params = searchParams(this.deps.config.index, index.description, this.nlist, options);
    // faiss 1.7.3's HNSW returns at most ~efSearch results whatever k is: widen the beam to k,
    // or an over-fetching search (filters, deleted labels) could never get past it.
    if (params.efSearch !== undefined) params.efSearch = Math.max(params.efSearch, Math.min(k, index.size));
    return index.search(query, k, params);
  }

  /** nprobe in force for IVF (so search can widen it when lists run dry); undefined otherwise. */
  ivfLists(): number | undefined {
    return this.index?.description.startsWith('IVF') === true ? this.nlist : undefined;
  }

  /** Writes a checkpoint when the index holds labels the file lacks. Returns whether it wrote. */
  async checkpoint(): Promise<boolean> {
    const index = this.index;
    if (index === undefined || index.size === this.savedLabels) return false;
    const { config } = this.deps;
    let stamp: IndexFileStamp;
    try {
      stamp = await writeIndexFile(
        this.deps.path,
        {
          uid: config.uid,
          labels: index.size,
          description: index.description,
          dimension: config.dimension,
          ...(this.nlist === undefined ? {} : { nlist: this.nlist }),
        },
        index.serialize(),
      );
    } catch (err) {
      // The checkpoint is derived data: LevelDB still has everything, replay covers the gap.
      throw asStorageError(err, dirname(dirname(this.deps.path)));
    }
    await this.deps.store.setIndexStamp(stamp);
    this.savedLabels = index.size;
    return true;
  }

  /** Forgets the in-memory index; the next use loads or rebuilds it. */
  discard(): void {
    this.index = undefined;
    this.appendTarget = undefined;
    this.nlist = undefined;
    this.savedLabels = -1;
  }

  /**
   * Builds the index afresh from every stored vector, in label order (dead labels included, so
   * labels keep their positions). IVF is trained first on a uniform sample of the vectors.
   */
  async rebuild(nextLabel: number, reason?: string, growth = false): Promise<FaissVectorIndex> {
    const { config, store } = this.deps;
    if (reason !== undefined) {
      this.deps.onWarning({
        code: 'INDEX_REBUILT',
        collection: config.name,
        message: `Index file ${reason}; rebuilt it from the stored vectors.`,
      });
    }
    const live = (await store.counts()).records;
    const plan = describeIndex(config.index, live, config.dimension);
    const index = FaissVectorIndex.create(this.deps.binding(), config.dimension, config.metric, plan.description);
    // One read of the stored vectors when they fit in memory (training samples them, then all are
    // added); two streaming passes otherwise.
    const packed = nextLabel * config.dimension * 4 <= REBUILD_IN_MEMORY_BYTES ? await this.readIndexVectors(nextLabel) : undefined;
    let sample: TrainingSample | undefined;
    if (!index.isTrained) {
      sample = packed === undefined ? await this.trainingSample(nextLabel, plan.nlist ?? 1) : reservoirSample(packed, config.dimension, plan.nlist ?? 1);
      index.train(sample.vectors);
    }
    if (packed === undefined) await this.replay(index, 0);
    else await this.addPacked(index, packed);
    if (sample !== undefined && plan.nlist !== undefined && shouldCalibrate(config.index)) {
      config.index.calibrated = { ...calibrateNprobe(index, plan.nlist, sample, config.dimension), count: live };
      await this.saveConfig?.(config);
    }
    this.install(index, plan.nlist);
    // A rebuild after a lost or damaged file is persisted at once, so it is never paid twice. A
    // retrain as the collection grows waits for the next checkpoint: until then the old file plus
    // replay (and the retrain again, after a crash) reproduce it.
    if (reason !== undefined || !growth) await this.checkpoint();
    return index;
  }

  /** Every stored vector, labels 0..nextLabel-1, packed in index space. */
  private async readIndexVectors(nextLabel: number): Promise<Float32Array> {
    const { dimension, metric } = this.deps.config;
    const packed = new Float32Array(nextLabel * dimension);
    let expected = 0;
    for await (const chunk of this.deps.store.vectorsFrom(0)) {
      for (const { label, vector } of chunk) {
        // A gap would shift every later label; the vec! range is dense by construction.
        if (label !== expected || label >= nextLabel) throw new TypeError(`label gap at ${expected}`);
        writeIndexVector(vector, metric, packed, label * dimension);
        expected += 1;
      }
    }
    if (expected !== nextLabel) throw new TypeError(`label gap at ${expected}`);
    return packed;
  }

  /** Adds packed vectors in large slices (every core each), letting the event loop through between them. */
  private async addPacked(index: FaissVectorIndex, packed: Float32Array): Promise<void> {
    this.prepareAdds(index);
    // HNSW inserts cost ~100x an IVF add: smaller slices keep a server's pauses short.
    const step = (index.description.startsWith('HNSW') ? HNSW_REBUILD_ADD_SLICE : REBUILD_ADD_SLICE) * this.deps.config.dimension;
    for (let start = 0; start < packed.length; start += step) {
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      index.add(packed.subarray(start, start + step));
    }
  }

  /**
   * Builds an index over `vectors` as labels 0..n-1 without installing it (compaction builds the
   * renumbered index while the old one keeps answering). Adds in slices with the event loop let
   * through, so a server stays responsive during a long HNSW build.
   */
  async buildDetached(vectors: readonly Float32Array[]): Promise<DetachedIndex> {
    const { config } = this.deps;
    const plan = describeIndex(config.index, vectors.length, config.dimension);
    const index = FaissVectorIndex.create(this.deps.binding(), config.dimension, config.metric, plan.description);
    let sample: TrainingSample | undefined;
    if (!index.isTrained) {
      const capacity = Math.min(vectors.length, (plan.nlist ?? 1) * IVF_MAX_TRAIN_POINTS_PER_LIST);
      const stride = vectors.length / capacity;
      const labels = Float64Array.from({ length: capacity }, (_, i) => Math.floor(i * stride));
      sample = { vectors: packIndexVectors(Array.from(labels, (label) => vectors[label] as Float32Array), config.dimension, config.metric), labels };
      index.train(sample.vectors);
    }
    this.prepareAdds(index);
    const slice = this.addSlice(plan.description);
    for (let start = 0; start < vectors.length; start += slice) {
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      index.add(packIndexVectors(vectors.slice(start, start + slice), config.dimension, config.metric));
    }
    if (sample !== undefined && plan.nlist !== undefined && shouldCalibrate(config.index)) {
      config.index.calibrated = { ...calibrateNprobe(index, plan.nlist, sample, config.dimension), count: vectors.length };
      await this.saveConfig?.(config);
    }
    return { index, nlist: plan.nlist };
  }

  /** Swaps in an index from buildDetached (its labels now match the store) and checkpoints it. */
  async installBuilt(built: DetachedIndex): Promise<void> {
    this.install(built.index, built.nlist);
    await this.checkpoint();
  }

  private addSlice(description: string): number {
    if (this.deps.responsive !== true) return Number.POSITIVE_INFINITY;
    return description.startsWith('HNSW') ? HNSW_ADD_SLICE : ADD_SLICE;
  }

  private installEmpty(liveCount: number): FaissVectorIndex {
    const { config } = this.deps;
    const plan = describeIndex(config.index, liveCount, config.dimension);
    const index = FaissVectorIndex.create(this.deps.binding(), config.dimension, config.metric, plan.description);
    return this.install(index, plan.nlist);
  }

  private install(index: FaissVectorIndex, nlist: number | undefined): FaissVectorIndex {
    this.index = index;
    this.nlist = nlist;
    this.savedLabels = -1;
    return index;
  }

  private async replay(index: FaissVectorIndex, fromLabel: number): Promise<void> {
    this.prepareAdds(index);
    let expected = fromLabel;
    for await (const chunk of this.deps.store.vectorsFrom(fromLabel)) {
      // A gap would shift every later label; the vec! range is dense by construction.
      if (chunk[0]?.label !== expected) throw new TypeError(`label gap at ${expected}`);
      expected += chunk.length;
      index.add(packIndexVectors(chunk.map((entry) => entry.vector), this.deps.config.dimension, this.deps.config.metric));
    }
  }

  /** HNSW build parameters (efConstruction) for the adds that follow; settable after creation. */
  private prepareAdds(index: FaissVectorIndex): void {
    index.setEfConstruction(this.deps.config.index.efConstruction ?? DEFAULT_EF_CONSTRUCTION);
  }

  /** The settings a query runs with now (the collection's, else the defaults), for display. */
  effectiveSearch(): { description: string | undefined; nlist: number | undefined; efSearch?: number; nprobe?: number } {
    const description = this.index?.description;
    const params = searchParams(this.deps.config.index, description ?? '', this.nlist, {});
    return { description, nlist: this.nlist, ...params };
  }

  /** An empty exact (Flat) index of the collection's dimension and metric, for reference results. */
  createExact(): FaissVectorIndex {
    const { config } = this.deps;
    return FaissVectorIndex.create(this.deps.binding(), config.dimension, config.metric, 'Flat');
  }

  /** Reservoir sample (seeded, so rebuilds are reproducible) of stored vectors, packed, with their labels. */
  private async trainingSample(nextLabel: number, nlist: number): Promise<TrainingSample> {
    const { dimension, metric } = this.deps.config;
    const reservoir = new Reservoir(Math.min(nextLabel, nlist * IVF_MAX_TRAIN_POINTS_PER_LIST), dimension);
    for await (const chunk of this.deps.store.vectorsFrom(0)) {
      for (const { vector, label } of chunk) {
        const slot = reservoir.slotFor(label);
        if (slot !== undefined) writeIndexVector(vector, metric, reservoir.vectors, slot * dimension);
      }
    }
    return reservoir;
  }
}

/** The same sample as trainingSample, drawn from vectors already packed in index space. */
function reservoirSample(packed: Float32Array, dimension: number, nlist: number): TrainingSample {
  const count = packed.length / dimension;
  const reservoir = new Reservoir(Math.min(count, nlist * IVF_MAX_TRAIN_POINTS_PER_LIST), dimension);
  for (let label = 0; label < count; label++) {
    const slot = reservoir.slotFor(label);
    if (slot !== undefined) reservoir.vectors.set(packed.subarray(label * dimension, (label + 1) * dimension), slot * dimension);
  }
  return reservoir;
}

/** Uniform reservoir sampling over labels seen in order, seeded: the slot each label takes, if any. */
class Reservoir implements TrainingSample {
  readonly vectors: Float32Array;
  readonly labels: Float64Array;
  private readonly random = seededRandom(0x9e3779b9);
  private seen = 0;

  constructor(
    private readonly capacity: number,
    dimension: number,
  ) {
    this.vectors = new Float32Array(capacity * dimension);
    this.labels = new Float64Array(capacity);
  }

  slotFor(label: number): number | undefined {
    const seen = this.seen;
    this.seen += 1;
    const slot = seen < this.capacity ? seen : Math.floor(this.random() * (seen + 1));
    if (slot >= this.capacity) return undefined;
    this.labels[slot] = label;
    return slot;
  }
}

interface TrainingSample {
  /** Packed, in index space. */
  vectors: Float32Array;
  labels: Float64Array;
}

const CALIBRATION_K = 10;
/** A rebuild reads every stored vector into memory once when they take at most this much. */
const REBUILD_IN_MEMORY_BYTES = 512 * 1024 * 1024;
/** Vectors per faiss add when a rebuild adds from memory. */
const REBUILD_ADD_SLICE = 32_768;
const HNSW_REBUILD_ADD_SLICE = 4096;

/**
 * The smallest nprobe whose recall@10 reaches CALIBRATION_TARGET_RECALL, measured with up to
 * CALIBRATION_QUERIES stored vectors as queries (random rows of the training sample, seeded), each
 * one's own label left out of both lists. The reference is the same index probing every list:
 * exact for float32 lists, and for float16 ones exact up to their rounding (which is what queries get). Batch searches on every core: ~1 s at 300k vectors.
 */
export function calibrateNprobe(index: FaissVectorIndex, nlist: number, sample: TrainingSample, dimension: number): { nlist: number; nprobe: number; recall: number } {
  const queries = Math.min(CALIBRATION_QUERIES, sample.labels.length);
  const fetch = Math.min(CALIBRATION_K + 1, index.size);
  // Random rows: a reservoir keeps its first rows in label order (the oldest vectors) until replaced.
  const rows = Array.from({ length: sample.labels.length }, (_, i) => i);
  const random = seededRandom(0x5eed);
  for (let i = 0; i < queries; i++) {
    const j = i + Math.floor(random() * (rows.length - i));
    [rows[i], rows[j]] = [rows[j] as number, rows[i] as number];
  }
  const packed = new Float32Array(queries * dimension);
  const ownLabels = new Float64Array(queries);
  for (let q = 0; q < queries; q++) {
    const row = rows[q] as number;
    packed.set(sample.vectors.subarray(row * dimension, (row + 1) * dimension), q * dimension);
    ownLabels[q] = sample.labels[row] as number;
  }
  const topK = (hits: RawHits, q: number): number[] => {
    const own = ownLabels[q];
    const out: number[] = [];
    for (let i = q * fetch; i < (q + 1) * fetch && out.length < CALIBRATION_K; i++) {
      const label = hits.labels[i] as number;
      if (label >= 0 && label !== own) out.push(label);
    }
    return out;
  };
  const exact = index.searchBatch(packed, fetch, { nprobe: nlist });
  const truth = Array.from({ length: queries }, (_, q) => new Set(topK(exact, q)));
  const wanted = truth.reduce((sum, set) => sum + set.size, 0);
  if (wanted === 0) return { nlist, nprobe: nlist, recall: 1 };
  for (const nprobe of nprobeLadder(nlist)) {
    const hits = index.searchBatch(packed, fetch, { nprobe });
    let found = 0;
    for (let q = 0; q < queries; q++) {
      const want = truth[q] as Set<number>;
      for (const label of topK(hits, q)) if (want.has(label)) found += 1;
    }
    const recall = found / wanted;
    if (recall >= CALIBRATION_TARGET_RECALL) return { nlist, nprobe, recall: Math.round(recall * 1000) / 1000 };
  }
  return { nlist, nprobe: nlist, recall: 1 };
}
