import type { AbstractSnapshot, AbstractSublevel } from 'abstract-level';
import type { RootLevel } from '../store/collection-store.js';
import { bm25Idf, bm25TermWeight, DEFAULT_B, DEFAULT_K1 } from './bm25.js';
import { tokenize } from './tokenizer.js';

type Sub = AbstractSublevel<RootLevel, string | Buffer | Uint8Array, string, string>;

/** Documents and total length of everything indexed: the N and avgdl of BM25. */
export interface KeywordStats {
  /** Indexed records (records whose text has at least one term). */
  docs: number;
  /** Sum of their lengths, in terms. */
  totalLength: number;
}

/**
 * The LevelDB operations that add or remove one record, as raw keys already prefixed for the root
 * database (so they go into a batch opened on the root, like the collection's own), and what they
 * change in the stats. Build them with `operationsToAdd`/`operationsToRemove`, write them with
 * `apply`.
 */
export interface KeywordOps {
  puts: [key: string, value: string][];
  dels: string[];
  delta: { docs: number; length: number };
}

/** What `apply` writes into: a chained batch on the root database, or anything like it. */
export interface KeywordBatch {
  put(key: string, value: string): unknown;
  del(key: string): unknown;
}

export interface KeywordChanges {
  /** Records to index with this text, replacing whatever they had. */
  upserts?: readonly { id: string; text: string; /** Never indexed before (saves looking up its old entry). */ fresh?: boolean }[];
  /** Records to remove from the index (unknown ids are ignored). */
  deletes?: readonly string[];
}

export interface KeywordHit {
  id: string;
  score: number;
}

export interface KeywordSearchOptions {
  /** Keep only records this accepts (a filter); called only for records that would make the top k. */
  accept?: (recordId: string) => boolean;
}

export interface KeywordIndexOptions {
  /** BM25 term-frequency saturation (default 1.2). */
  k1?: number;
  /** BM25 length normalisation (default 0.75). */
  b?: number;
  /**
   * Text to terms, for documents and queries alike (default `tokenize`). Terms must be non-empty
   * and must not contain "!" or '"'. An index must keep the same analyzer for its whole life.
   */
  analyze?: (text: string) => string[];
  /** Postings read per `nextv` call (default 4096). */
  chunkSize?: number;
}

/** Per-record entry: what removing the record must delete, without its old text. */
interface DocEntry {
  length: number;
  terms: string[];
}

const STATS_KEY = 's';
const EMPTY_STATS: KeywordStats = { docs: 0, totalLength: 0 };

/**
 * A BM25 keyword index of one collection's records, in the collection's LevelDB, in one sublevel
 * named `c~<name>~kw` (inside the `!c~<name>~` range that measures the collection's size; the
 * collection must call `clear()` when it clears itself). Keys inside the sublevel:
 *
 *   t!<term>!<recordId>  -> "<tf>:<length>"     a posting: the term's count in the record, and the
 *                                                record's length (so that scoring a term is one
 *                                                range scan, without a read per record)
 *   d!<recordId>         -> {"length","terms"}  the record's length and distinct terms, so removal
 *                                                knows what to delete without the old text
 *   s                    -> {"docs","totalLength"}  BM25's N and the sum of lengths (avgdl)
 *
 * A term's postings are the keys from `t!<term>!` (inclusive) to `t!<term>"` (exclusive): terms
 * contain neither "!" nor '"', so no other term's keys fall in between, and the document frequency
 * is the number of postings read. Records without any term (empty text, stop words only) are not
 * indexed and not counted.
 *
 * Writes go into the caller's atomic batch, next to records and vectors:
 *
 *   const batch = root.batch();
 *   // ... the collection's own puts and dels (records, vectors, ids) ...
 *   await keywords.stage(batch, { upserts: [{ id, text }], deletes: [otherId] });
 *   await batch.write();
 *
 * `stage` reads the current stats and the entries of the records it replaces or deletes, so the
 * caller must serialise writers (the collection does) and stage at most once per batch, with each
 * record id at most once. `operationsToAdd`, `operationsToRemove` and `apply` are the same thing in
 * parts, for callers that gather operations themselves.
 *
 * Searches read the stats and every posting list from one LevelDB snapshot, so a search running
 * during a write sees the index before it or after it, never half of it.
 */
export class KeywordIndex {
  private readonly sub: Sub;
  private readonly prefix: string;
  private readonly k1: number;
  private readonly b: number;
  private readonly analyze: (text: string) => string[];
  private readonly chunkSize: number;

  constructor(
    private readonly root: RootLevel,
    name: string,
    options: KeywordIndexOptions = {},
  ) {
    this.sub = root.sublevel<string, string>(`c~${name}~kw`, {});
    this.prefix = this.sub.prefix;
    this.k1 = options.k1 ?? DEFAULT_K1;
    this.b = options.b ?? DEFAULT_B;
    this.analyze = options.analyze ?? ((text) => tokenize(text));
    this.chunkSize = options.chunkSize ?? 4096;
    if (!(this.k1 >= 0) || !(this.b >= 0 && this.b <= 1)) throw new TypeError(`invalid BM25 parameters k1=${this.k1} b=${this.b}`);
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1) throw new TypeError(`invalid chunkSize ${this.chunkSize}`);
  }

  /** Raw key prefix of the index on the root, for maintenance scans. */
  get keyPrefix(): string {
    return this.prefix;
  }

  /** The operations that index `text` as record `recordId` (which must not be indexed already). */
  operationsToAdd(recordId: string, text: string): KeywordOps {
    const terms = this.analyze(text);
    if (terms.length === 0) return emptyOps();
    const counts = new Map<string, number>();
    for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
    for (const term of counts.keys()) {
      if (term.length === 0 || term.includes('!') || term.includes('"')) throw new TypeError(`invalid index term ${JSON.stringify(term)}`);
    }
    const length = terms.length;
    const puts: [string, string][] = [];
    for (const [term, tf] of counts) puts.push([this.postingKey(term, recordId), `${tf}:${length}`]);
    const entry: DocEntry = { length, terms: [...counts.keys()] };
    puts.push([this.docKey(recordId), JSON.stringify(entry)]);
    return { puts, dels: [], delta: { docs: 1, length } };
  }

  /** The operations that remove record `recordId` from the index (none when it is not indexed). */
  async operationsToRemove(recordId: string): Promise<KeywordOps> {
    const [ops] = await this.operationsToRemoveMany([recordId]);
    return ops ?? emptyOps();
  }

  /** `operationsToRemove` for many records, with one read. */
  async operationsToRemoveMany(recordIds: readonly string[]): Promise<KeywordOps[]> {
    if (recordIds.length === 0) return [];
    const values = await this.sub.getMany(recordIds.map((id) => `d!${id}`));
    return values.map((value, i) => {
      if (value === undefined) return emptyOps();
      const id = recordIds[i] as string;
      const entry = JSON.parse(value) as DocEntry;
      const dels = entry.terms.map((term) => this.postingKey(term, id));
      dels.push(this.docKey(id));
      return { puts: [], dels, delta: { docs: -1, length: -entry.length } };
    });
  }

  /**
   * Adds `ops` to `batch`, with the stats they lead to from `before`; returns those stats. Every
   * delete goes in before every put, so removing and re-adding a record in one batch leaves the
   * new version whatever the order of `ops`.
   */
  apply(batch: KeywordBatch, ops: readonly KeywordOps[], before: KeywordStats): KeywordStats {
    let docs = before.docs;
    let totalLength = before.totalLength;
    for (const op of ops) {
      for (const key of op.dels) batch.del(key);
      docs += op.delta.docs;
      totalLength += op.delta.length;
    }
    for (const op of ops) for (const [key, value] of op.puts) batch.put(key, value);
    const after: KeywordStats = { docs, totalLength };
    if (docs !== before.docs || totalLength !== before.totalLength) batch.put(this.statsKey(), JSON.stringify(after));
    return after;
  }

  /**
   * Puts into `batch` everything that indexes `upserts` (replacing their previous text) and
   * removes `deletes`; returns the stats once the batch is written.
   */
  async stage(batch: KeywordBatch, changes: KeywordChanges): Promise<KeywordStats> {
    const upserts = changes.upserts ?? [];
    const deletes = changes.deletes ?? [];
    const ids = [...upserts.map((u) => u.id), ...deletes];
    if (new Set(ids).size !== ids.length) throw new TypeError('a record id appears more than once in one keyword index batch');
    const replaced = upserts.flatMap((u) => (u.fresh === true ? [] : [u.id]));
    const [before, removals] = await Promise.all([this.stats(), this.operationsToRemoveMany([...replaced, ...deletes])]);
    const additions = upserts.flatMap((u) => (u.text.length === 0 ? [] : [this.operationsToAdd(u.id, u.text)]));
    return this.apply(batch, [...removals, ...additions], before);
  }

  async stats(snapshot?: AbstractSnapshot): Promise<KeywordStats> {
    const value = await this.sub.get(STATS_KEY, snapshot === undefined ? {} : { snapshot });
    if (value === undefined) return { ...EMPTY_STATS };
    const stats = JSON.parse(value) as KeywordStats;
    return { docs: stats.docs, totalLength: stats.totalLength };
  }

  /**
   * The `k` records with the highest BM25 score for `query` (the sum over its distinct terms),
   * best first, ties in id order. Records `accept` rejects are skipped but still count in the
   * statistics (N, df, avgdl), so a filter does not change the scores of what it keeps.
   */
  async search(query: string, k: number, options: KeywordSearchOptions = {}): Promise<KeywordHit[]> {
    if (!Number.isInteger(k) || k < 0) throw new TypeError(`k must be a non-negative integer, got ${k}`);
    if (k === 0) return [];
    const terms = [...new Set(this.analyze(query))];
    if (terms.length === 0) return [];
    const snapshot = this.root.snapshot();
    let candidates: Candidates;
    try {
      const stats = await this.stats(snapshot);
      if (stats.docs <= 0) return [];
      const lists = await Promise.all(terms.map((term) => this.postings(term, snapshot)));
      candidates = this.score(lists.filter((list) => list.ids.length > 0), stats);
    } finally {
      await snapshot.close();
    }
    return topK(candidates, k, options.accept);
  }

  /** BM25 of every record in `lists` (one posting list per distinct query term), summed over terms. */
  private score(lists: readonly Postings[], stats: KeywordStats): Candidates {
    const avgDocLength = stats.totalLength / stats.docs;
    const weights = lists.map((list) => {
      const idf = bm25Idf(list.ids.length, stats.docs);
      const scores = new Float64Array(list.ids.length);
      for (let i = 0; i < scores.length; i++) {
        scores[i] = idf * bm25TermWeight(list.tfs[i] as number, list.lengths[i] as number, avgDocLength, this.k1, this.b);
      }
      return scores;
    });
    // One term (the common case, and the one with the longest lists): no merging.
    const [only] = lists;
    if (lists.length === 1 && only !== undefined) return { ids: only.ids, scores: weights[0] as Float64Array };
    const sums = new Map<string, number>();
    lists.forEach((list, t) => {
      const scores = weights[t] as Float64Array;
      list.ids.forEach((id, i) => sums.set(id, (sums.get(id) ?? 0) + (scores[i] as number)));
    });
    return { ids: [...sums.keys()], scores: Float64Array.from(sums.values()) };
  }

  /** Removes everything the index holds. */
  async clear(): Promise<void> {
    await this.sub.clear();
  }

  /** One term's postings, read in `nextv` chunks from the root with the sublevel's prefix. */
  private async postings(term: string, snapshot: AbstractSnapshot): Promise<Postings> {
    const start = this.postingKey(term, '');
    const iterator = this.root.iterator({ gte: start, lt: `${start.slice(0, -1)}"`, snapshot });
    const ids: string[] = [];
    const tfs: number[] = [];
    const lengths: number[] = [];
    try {
      for (;;) {
        const entries = await iterator.nextv(this.chunkSize);
        if (entries.length === 0) break;
        for (const [key, value] of entries) {
          // "<tf>:<length>", parsed without allocating substrings.
          let i = 0;
          let tf = 0;
          for (let c = value.charCodeAt(0); c !== COLON && i < value.length; c = value.charCodeAt(++i)) tf = tf * 10 + c - ZERO;
          let length = 0;
          for (i++; i < value.length; i++) length = length * 10 + value.charCodeAt(i) - ZERO;
          ids.push(key.slice(start.length));
          tfs.push(tf);
          lengths.push(length);
        }
      }
    } finally {
      await iterator.close();
    }
    return { ids, tfs, lengths };
  }

  private postingKey(term: string, recordId: string): string {
    return `${this.prefix}t!${term}!${recordId}`;
  }

  private docKey(recordId: string): string {
    return `${this.prefix}d!${recordId}`;
  }

  private statsKey(): string {
    return this.prefix + STATS_KEY;
  }
}

interface Postings {
  ids: string[];
  tfs: number[];
  lengths: number[];
}

/** Scored records, `scores[i]` for `ids[i]`. */
interface Candidates {
  ids: readonly string[];
  scores: Float64Array;
}

const COLON = 0x3a;
const ZERO = 0x30;

function emptyOps(): KeywordOps {
  return { puts: [], dels: [], delta: { docs: 0, length: 0 } };
}

/** True when hit a ranks below hit b: a lower score, or the same score and a later id. */
function ranksBelow(aScore: number, aId: string, bScore: number, bId: string): boolean {
  return aScore < bScore || (aScore === bScore && aId > bId);
}

/**
 * The best `k` candidates that `accept` keeps, best first, with a min-heap of size k (the worst
 * kept hit on top). `accept` is asked only about candidates that would enter the heap.
 */
function topK(candidates: Candidates, k: number, accept?: (id: string) => boolean): KeywordHit[] {
  const heap: KeywordHit[] = [];
  const below = (i: number, j: number): boolean => {
    const a = heap[i] as KeywordHit;
    const b = heap[j] as KeywordHit;
    return ranksBelow(a.score, a.id, b.score, b.id);
  };
  const swap = (i: number, j: number): void => {
    const t = heap[i] as KeywordHit;
    heap[i] = heap[j] as KeywordHit;
    heap[j] = t;
  };
  const { ids, scores } = candidates;
  for (let c = 0; c < ids.length; c++) {
    const id = ids[c] as string;
    const score = scores[c] as number;
    if (heap.length === k) {
      const worst = heap[0] as KeywordHit;
      if (!ranksBelow(worst.score, worst.id, score, id)) continue;
      if (accept !== undefined && !accept(id)) continue;
      heap[0] = { id, score };
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && below(l, m)) m = l;
        if (r < heap.length && below(r, m)) m = r;
        if (m === i) break;
        swap(i, m);
        i = m;
      }
    } else {
      if (accept !== undefined && !accept(id)) continue;
      heap.push({ id, score });
      let i = heap.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!below(i, parent)) break;
        swap(i, parent);
        i = parent;
      }
    }
  }
  return heap.sort((a, b) => (ranksBelow(a.score, a.id, b.score, b.id) ? 1 : ranksBelow(b.score, b.id, a.score, a.id) ? -1 : 0));
}
