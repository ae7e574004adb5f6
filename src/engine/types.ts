/** Public data types of the engine: what goes in, what is stored, what comes back. */
import type { Filter } from './query/filter.js';
import type { QueryPlan } from './query/planner.js';
import type { PayloadIndexKind } from './store/payload-index.js';

export type { PayloadIndexKind };

export const METRICS = ['cosine', 'dot', 'l2'] as const;
export type Metric = (typeof METRICS)[number];

/** auto: exact (Flat) while small, then IVF trained (and retrained as it grows) with nprobe calibrated for recall. */
export const INDEX_KINDS = ['flat', 'hnsw', 'ivf', 'auto'] as const;
export type IndexKind = (typeof INDEX_KINDS)[number];
/** How IVF lists store vectors: 16-bit floats (half the memory, faster scans) or exact 32-bit. */
export const IVF_DATATYPES = ['float16', 'float32'] as const;
export type IvfDatatype = (typeof IVF_DATATYPES)[number];

export type Metadata = Record<string, unknown>;

/** Index settings stored per collection; search defaults may be overridden per query. */
export interface IndexSettings {
  kind: IndexKind;
  /** HNSW: neighbours per node (faiss factory `HNSW<m>`). */
  m?: number;
  /** HNSW: default candidate list size at search time. */
  efSearch?: number;
  /** HNSW: candidate list size while inserting (graph quality vs build time); applies to later adds. */
  efConstruction?: number;
  /** IVF: number of lists; chosen from the collection size at training time when absent. */
  nlist?: number;
  /** IVF: default lists probed at search time; derived from nlist when absent. */
  nprobe?: number;
  /**
   * IVF/auto: how the lists store vectors (default float16). float16 halves the index's memory
   * and scans ~1.6× faster at the same recall; scores then carry ~1e-4 of rounding. float32
   * keeps them exact. Flat and HNSW always store float32.
   */
  datatype?: IvfDatatype;
  /**
   * Written by the engine when it trains IVF lists (auto, or ivf without nprobe): the smallest
   * nprobe that reached the target recall@10 on a sample of the collection's own vectors.
   */
  calibrated?: IvfCalibration;
}

export interface IvfCalibration {
  nlist: number;
  nprobe: number;
  /** recall@10 measured at that nprobe (stored vectors as queries, their own record excluded). */
  recall: number;
  /** Live vectors when it was measured. */
  count: number;
}

/** Search-time and build-time knobs changeable after creation; null puts a knob back to its default. */
export interface IndexTuningPatch {
  efSearch?: number | null;
  efConstruction?: number | null;
  nprobe?: number | null;
}

/** A collection's index settings as stored, and the values in force now (stored, else defaults). */
export interface IndexTuning {
  collection: string;
  settings: IndexSettings;
  /** The faiss structure in use now, e.g. `IVF632,SQfp16`, or `Flat` for auto/ivf not yet trained. */
  indexState: string;
  effective: { m?: number; efSearch?: number; efConstruction?: number; nlist?: number; nprobe?: number; datatype?: IvfDatatype };
}

/** Which embedder a collection was created with; vectors from any other are refused. */
export interface EmbedderSpec {
  name: string;
  model: string;
  dimension: number;
}

export interface CollectionConfig {
  name: string;
  dimension: number;
  metric: Metric;
  index: IndexSettings;
  /** null: the caller supplies every vector (`--embedder none`). */
  embedder: EmbedderSpec | null;
  createdAt: string;
  /** Random id of this incarnation: an index file from a dropped namesake is never loaded. */
  uid: string;
  /** Metadata keys with value -> record postings, for filtered search (`piramid index-field`). */
  payloadIndexes?: Record<string, PayloadIndexKind>;
  /** BM25 index over record texts, for keyword and hybrid search. */
  keywordIndex?: boolean;
}

export interface CreateCollectionOptions {
  /** BM25 index of record texts for keyword and hybrid search (default true). */
  keywordIndex?: boolean;
  /** Metadata keys to index from the start (see Collection.indexField). */
  payloadIndexes?: Record<string, PayloadIndexKind>;
  dimension?: number;
  metric?: Metric;
  index?: IndexKind | IndexSettings;
  /** Embedder name (`use`, `none`); resolved through the database's embedder factory. */
  embedder?: string;
}

/** A document to upsert. At least one of text and vector is required. */
export interface DocumentInput {
  id?: string;
  text?: string;
  /** Numbers, or base64 of little-endian float32 values (as OpenAI's `encoding_format: "base64"` gives them). */
  vector?: ArrayLike<number> | string;
  metadata?: Metadata;
}

/** Where a chunk sits in its parent document's text: `text.slice(start, end)`. */
export interface ChunkPosition {
  index: number;
  start: number;
  end: number;
}

/**
 * What a collection stores per record (the vector is kept separately): a whole document, or a
 * chunk of one, which names its parent document and its position in the parent's text.
 */
export interface StoredRecord {
  id: string;
  text?: string;
  metadata?: Metadata;
  parent?: string;
  chunk?: ChunkPosition;
}

export interface DocumentView extends StoredRecord {
  vector?: number[];
}

/** Counts are of documents; `records` counts the records (chunks) written for them. */
export interface UpsertResult {
  added: number;
  updated: number;
  /** Documents identical to what was stored (same content, metadata and chunking): not touched. */
  unchanged: number;
  records: number;
  /** Document ids, in input order (derived from content where none was given). */
  ids: string[];
}

export const SEARCH_MODES = ['vector', 'keyword', 'hybrid'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

export interface SearchOptions {
  k?: number;
  /** HNSW candidate list size for this query. */
  efSearch?: number;
  /** IVF lists probed for this query. */
  nprobe?: number;
  /** Score every live record (no approximate index): exact results, at the cost of a full scan. */
  exact?: boolean;
  withVector?: boolean;
  /** Return the best chunk of each document: k distinct documents. */
  groupByDocument?: boolean;
  /** Hits to skip (paging): returns hits offset+1 .. offset+k. */
  offset?: number;
  /** cosine/dot: drop hits scoring below it; l2: drop hits farther than it. */
  scoreThreshold?: number;
  /** Metadata filter (Qdrant's JSON shape); applies in every mode. */
  filter?: Filter;
  /** vector (default), keyword (BM25 over the text), or hybrid (both, fused). */
  mode?: SearchMode;
  /** Hybrid: weight of the vector side in a weighted fusion of normalised scores, instead of RRF. */
  alpha?: number;
  /** Keyword text when the query itself is a vector (hybrid with --vector). */
  text?: string;
}

export interface SearchHit {
  id: string;
  /** cosine/dot: similarity, higher is better. l2: Euclidean distance, lower is better. */
  score: number;
  text?: string;
  metadata?: Metadata;
  /** For a chunk: the document it belongs to, and where it sits in that document's text. */
  parent?: string;
  chunk?: ChunkPosition;
  vector?: number[];
}

export interface SearchResult {
  hits: SearchHit[];
  /** Candidates fetched from the index, after growing past deleted labels. */
  fetched: number;
  /** How the query was answered. */
  plan: QueryPlan;
}

export interface CollectionStats {
  name: string;
  dimension: number;
  metric: Metric;
  index: IndexKind;
  /** The faiss structure in use now, e.g. `HNSW32,Flat`, or `Flat` for an IVF not yet trained. */
  indexState: string;
  embedder: string;
  /** Live records: chunks, or whole documents where they were not chunked. */
  count: number;
  /** Source documents. */
  documents: number;
  /** Labels in the index that point at deleted or replaced documents (freed by compact). */
  deleted: number;
  sizeBytes: number;
  /** The embedding cache of this collection's model (shared with every collection using it). */
  embeddingCache: EmbeddingCacheStats | null;
}

export interface EmbeddingCacheStats {
  entries: number;
  hits: number;
  misses: number;
  /** hits / (hits + misses) over the cache's life; 0 before any lookup. */
  hitRate: number;
}

/** Something the engine noticed and recovered from; presenters decide whether to show it. */
export interface EngineWarning {
  code: 'INDEX_REBUILT' | 'INDEX_REPLAYED' | 'CHECKPOINT_FAILED';
  collection: string;
  message: string;
}
