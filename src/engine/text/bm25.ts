/**
 * Okapi BM25, as a pure function of the counts it needs. The keyword index sums it over the
 * distinct terms of a query.
 *
 *   idf   = ln(1 + (N - df + 0.5) / (df + 0.5))                    (Lucene's IDF: never negative)
 *   score = idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
 *
 * with N the number of indexed documents, df the number of them that contain the term, tf the
 * term's count in the document, dl the document's length in terms and avgdl the mean length.
 * The `(k1 + 1)` factor is the classic Okapi form; Lucene 8+ drops it, which scales every score by
 * the same constant and changes no ranking.
 */

export interface Bm25Counts {
  /** Occurrences of the term in the document. */
  tf: number;
  /** Documents that contain the term. */
  df: number;
  /** The document's length, in terms. */
  docLength: number;
  /** Mean document length over the index, in terms. */
  avgDocLength: number;
  /** Documents in the index. */
  totalDocs: number;
}

export interface Bm25Params {
  /** Term-frequency saturation: how fast repeating a term stops adding to the score (default 1.2). */
  k1?: number;
  /** Length normalisation, 0 (none) to 1 (full) (default 0.75). */
  b?: number;
}

export const DEFAULT_K1 = 1.2;
export const DEFAULT_B = 0.75;

/** Lucene's BM25 IDF, `ln(1 + (N - df + 0.5) / (df + 0.5))`. */
export function bm25Idf(df: number, totalDocs: number): number {
  return Math.log(1 + (totalDocs - df + 0.5) / (df + 0.5));
}

/**
 * The term-frequency part of BM25, without the IDF: `tf * (k1 + 1) / (tf + k1 * norm)` with
 * `norm = 1 - b + b * docLength / avgDocLength` (1 when the mean length is 0).
 */
export function bm25TermWeight(tf: number, docLength: number, avgDocLength: number, k1: number, b: number): number {
  if (tf <= 0) return 0;
  const norm = avgDocLength > 0 ? 1 - b + (b * docLength) / avgDocLength : 1;
  return (tf * (k1 + 1)) / (tf + k1 * norm);
}

/** The BM25 score of one term in one document. */
export function bm25Score(counts: Bm25Counts, params: Bm25Params = {}): number {
  const k1 = params.k1 ?? DEFAULT_K1;
  const b = params.b ?? DEFAULT_B;
  return bm25Idf(counts.df, counts.totalDocs) * bm25TermWeight(counts.tf, counts.docLength, counts.avgDocLength, k1, b);
}
