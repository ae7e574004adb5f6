import type { CollectionIndex } from '../index/collection-index.js';
import type { CollectionStore } from '../store/collection-store.js';
import type { Metric, SearchOptions, StoredRecord } from '../types.js';
import { writeIndexVector } from '../vectors.js';
import type { BatchParams, SearchBatcher } from './search-batcher.js';

/** A scored record on its way to becoming a hit. */
export interface Candidate {
  label: number;
  record: StoredRecord;
  score: number;
}

export interface VectorSearchContext {
  store: CollectionStore;
  index: CollectionIndex;
  metric: Metric;
  dimension: number;
  /** Live records and documents (for over-fetch estimates). */
  live: number;
  documents: number;
  /** Coalesces this search's index calls with concurrent ones (plain vector queries only). */
  batcher?: SearchBatcher;
}

export interface Selection {
  /** How many candidates to return (k + offset). */
  want: number;
  /** Records that may be returned (a filter); all when absent. */
  accept?: (record: StoredRecord) => boolean;
  /** Keep only the first (best) record of each document. */
  groupByDocument: boolean;
  /** Share of records the filter is expected to pass (from payload indexes), to size the first fetch. */
  selectivity?: number;
}

export interface AnnOutcome {
  candidates: Candidate[];
  /** Labels the index returned, over all rounds. */
  fetched: number;
  /** The index had nothing more to give: `candidates` holds every acceptable record it has. */
  exhausted: boolean;
}

/** cosine/dot: similarity, higher is better. l2: Euclidean distance, lower is better. */
export function toScore(distance: number, metric: Metric): number {
  return metric === 'l2' ? Math.sqrt(Math.max(0, distance)) : distance;
}

export function better(metric: Metric): (a: Candidate, b: Candidate) => number {
  return metric === 'l2' ? (a, b) => a.score - b.score : (a, b) => b.score - a.score;
}

/**
 * ANN search that skips deleted labels and records the selection rejects: it over-fetches (more
 * when much of the index is dead or filtered out), and widens (doubling the fetch, or the IVF lists
 * probed) until enough acceptable records are found or the index is exhausted.
 */
export async function annSearch(ctx: VectorSearchContext, query: Float32Array, selection: Selection, options: SearchOptions): Promise<AnnOutcome> {
  const { index, store, metric } = ctx;
  const total = index.size;
  if (total === 0 || ctx.live === 0) return { candidates: [], fetched: 0, exhausted: true };
  const { want, accept, groupByDocument } = selection;
  const perHit = groupByDocument ? Math.ceil(ctx.live / Math.max(1, ctx.documents)) : 1;
  const clean = total === ctx.live && accept === undefined && !groupByDocument;
  // Expect dead labels in proportion to their share of the index (and filtered-out records in
  // proportion to the filter's selectivity, when known), with room to spare.
  const passing = Math.max(selection.selectivity ?? 1, 1 / total);
  let fetch = Math.min(total, clean ? want : Math.ceil((want * perHit * total) / ctx.live / passing) + want);
  let nprobe = options.nprobe;
  const nlist = index.ivfLists();
  let fetched = 0;
  for (;;) {
    const params = nprobe === undefined ? options : { ...options, nprobe };
    const raw = ctx.batcher === undefined ? index.search(query, fetch, params) : await ctx.batcher.submit(query, fetch, batchParams(params));
    const labels: number[] = [];
    const scores: number[] = [];
    for (let i = 0; i < raw.labels.length; i++) {
      const label = raw.labels[i] as number;
      if (label < 0) break; // faiss pads with -1 when it has fewer results
      labels.push(label);
      scores.push(toScore(raw.distances[i] as number, metric));
    }
    fetched += labels.length;
    const records = await store.recordsAt(labels);
    const candidates: Candidate[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < records.length && candidates.length < want; i++) {
      const record = records[i];
      if (record === undefined || (accept !== undefined && !accept(record))) continue;
      if (groupByDocument) {
        const parent = record.parent ?? record.id;
        if (seen.has(parent)) continue; // results come best first: the first chunk seen wins
        seen.add(parent);
      }
      candidates.push({ label: labels[i] as number, record, score: scores[i] as number });
    }
    const available = groupByDocument ? ctx.documents : ctx.live;
    if (candidates.length >= want || (accept === undefined && candidates.length >= available)) return { candidates, fetched, exhausted: false };
    // IVF answers fewer than asked when its probed lists run dry: probe more lists instead.
    const listsDry = labels.length < fetch && nlist !== undefined;
    if (listsDry) {
      const current = nprobe ?? index.currentNprobe(options);
      if (current >= nlist) return { candidates, fetched, exhausted: true };
      nprobe = Math.min(nlist, current * 2);
    } else if (fetch >= total) {
      return { candidates, fetched, exhausted: labels.length >= total };
    } else {
      fetch = Math.min(total, fetch * 2);
    }
  }
}

/** The options an index search reads (CollectionIndex.search: efSearch, nprobe), and only those. */
function batchParams(options: SearchOptions): BatchParams {
  const params: BatchParams = {};
  if (options.efSearch !== undefined) params.efSearch = options.efSearch;
  if (options.nprobe !== undefined) params.nprobe = options.nprobe;
  return params;
}

/**
 * Exact scoring of given records against the query, in JS, from their stored vectors: the path for
 * selective filters (few candidates), and the fallback that guarantees min(k, matches) hits when an
 * approximate index cannot find enough of them.
 */
export async function exactSearch(
  ctx: VectorSearchContext,
  query: Float32Array,
  records: AsyncIterable<{ label: number; record: StoredRecord }[]>,
  selection: Selection,
): Promise<{ candidates: Candidate[]; scored: number }> {
  const { metric, dimension, store } = ctx;
  const scratch = new Float32Array(dimension);
  const all: Candidate[] = [];
  for await (const chunk of records) {
    const accepted = selection.accept === undefined ? chunk : chunk.filter(({ record }) => (selection.accept as (r: StoredRecord) => boolean)(record));
    const vectors = await store.vectorsAt(accepted.map((entry) => entry.label));
    accepted.forEach((entry, i) => {
      const vector = vectors[i];
      if (vector === undefined) return;
      writeIndexVector(vector, metric, scratch, 0);
      all.push({ label: entry.label, record: entry.record, score: similarity(query, scratch, metric) });
    });
  }
  all.sort(better(metric));
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  for (const candidate of all) {
    if (candidates.length >= selection.want) break;
    if (selection.groupByDocument) {
      const parent = candidate.record.parent ?? candidate.record.id;
      if (seen.has(parent)) continue;
      seen.add(parent);
    }
    candidates.push(candidate);
  }
  return { candidates, scored: all.length };
}

/** Live records by id, in chunks (for exact search over payload-index candidates). */
export async function* recordsByIds(store: CollectionStore, ids: readonly string[], chunkSize = 1024): AsyncGenerator<{ label: number; record: StoredRecord }[]> {
  for (let i = 0; i < ids.length; i += chunkSize) {
    const labels = (await store.labelsOf(ids.slice(i, i + chunkSize))).filter((label): label is number => label !== undefined);
    const records = await store.recordsAt(labels);
    yield labels.flatMap((label, j) => {
      const record = records[j];
      return record === undefined ? [] : [{ label, record }];
    });
  }
}

/** Query and candidate are both in index space (unit length for cosine), as faiss scores them. */
function similarity(query: Float32Array, vector: Float32Array, metric: Metric): number {
  let sum = 0;
  if (metric === 'l2') {
    for (let i = 0; i < query.length; i++) {
      const d = (query[i] as number) - (vector[i] as number);
      sum += d * d;
    }
    return Math.sqrt(sum);
  }
  for (let i = 0; i < query.length; i++) sum += (query[i] as number) * (vector[i] as number);
  return sum;
}
