/** How a query was answered: shown by `--explain` and returned as `plan` in JSON. */
export interface QueryPlan {
  mode: 'vector' | 'keyword' | 'hybrid';
  /**
   * ann: the vector index alone. ann-postfilter: the index, over-fetching past records the filter
   * rejects. exact-candidates: exact scoring of the records a payload index named. exact-scan:
   * exact scoring of every record (the index ran out before k records passed the filter).
   */
  strategy: 'ann' | 'ann-postfilter' | 'exact-candidates' | 'exact-scan' | 'keyword';
  filter?: string;
  /** Metadata keys whose payload indexes produced candidates. */
  indexedKeys?: string[];
  /** Records the most selective indexed term names (at least this many, when over the exact limit). */
  candidates?: number;
  /** Labels fetched from the vector index. */
  fetched: number;
  /** Records scored exactly. */
  scored?: number;
  /** Keyword and hybrid: records the BM25 side returned. */
  keywordMatches?: number;
}

/**
 * Exact scoring costs a LevelDB read and a dot product per candidate (~5-10 µs); ANN with
 * post-filtering needs ~k/selectivity labels from the index and a record read for each. Below ~1%
 * selectivity (or a thousand candidates) the exact path is cheaper, and it is exact.
 * See docs/benchmarks.md for the measurements behind these numbers.
 */
export const EXACT_MAX_FRACTION = 0.01;
export const EXACT_MIN_CANDIDATES = 1000;

/** Most candidates worth scoring exactly; the payload index stops reading postings past it. */
export function exactLimit(live: number): number {
  return Math.max(EXACT_MIN_CANDIDATES, Math.floor(live * EXACT_MAX_FRACTION));
}
