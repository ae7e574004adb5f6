/**
 * Hybrid search: merging ranked lists from different retrievers (vector similarity, BM25) whose
 * scores are not comparable. Pure functions; results best first, ties broken by id (code-unit
 * order) so that the same inputs always give the same output.
 */

export interface FusedHit {
  id: string;
  score: number;
}

export interface RrfOptions {
  /** The rank constant: larger values flatten the difference between top and lower ranks (default 60). */
  k?: number;
  /** One weight per list (default 1 each). */
  weights?: readonly number[];
}

export const DEFAULT_RRF_K = 60;

/**
 * Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009): every id scores
 * `sum over lists of weight / (k + rank)`, with rank 1 for the first hit of a list. Only ranks
 * matter, not scores, so lists of any kind and scale fuse without tuning. An id repeated in one
 * list counts once, at its best rank.
 */
export function reciprocalRankFusion(lists: readonly (readonly { id: string }[])[], options: RrfOptions = {}): FusedHit[] {
  const k = options.k ?? DEFAULT_RRF_K;
  if (!Number.isFinite(k) || k < 0) throw new TypeError(`RRF k must be a finite number >= 0, got ${k}`);
  const weights = options.weights;
  if (weights !== undefined) {
    if (weights.length !== lists.length) throw new TypeError(`${weights.length} weights for ${lists.length} lists`);
    for (const w of weights) if (!Number.isFinite(w)) throw new TypeError(`RRF weights must be finite numbers, got ${w}`);
  }
  const scores = new Map<string, number>();
  lists.forEach((list, i) => {
    const weight = weights?.[i] ?? 1;
    const seen = new Set<string>();
    list.forEach((hit, position) => {
      if (seen.has(hit.id)) return;
      seen.add(hit.id);
      scores.set(hit.id, (scores.get(hit.id) ?? 0) + weight / (k + position + 1));
    });
  });
  return ranked(scores);
}

/**
 * Convex combination of normalised scores: each list's scores are min-max normalised to [0, 1]
 * (a list whose scores are all equal normalises to 1), then every id scores
 * `alpha * vector + (1 - alpha) * keyword`, a list it is missing from counting 0. `alpha` is 1 for
 * vector only, 0 for keyword only. Both lists must score higher-is-better: negate l2 distances
 * first. An id repeated in one list counts once, with its first score.
 */
export function weightedFusion(
  vectorHits: readonly FusedHit[],
  keywordHits: readonly FusedHit[],
  alpha: number,
): FusedHit[] {
  if (!(alpha >= 0 && alpha <= 1)) throw new TypeError(`alpha must be between 0 and 1, got ${alpha}`);
  const vector = normalised(vectorHits);
  const keyword = normalised(keywordHits);
  const scores = new Map<string, number>();
  for (const [id, score] of vector) scores.set(id, alpha * score);
  for (const [id, score] of keyword) scores.set(id, (scores.get(id) ?? 0) + (1 - alpha) * score);
  return ranked(scores);
}

/** Min-max normalisation of a list's scores to [0, 1], first occurrence of each id. */
function normalised(hits: readonly FusedHit[]): Map<string, number> {
  const firsts = new Map<string, number>();
  for (const hit of hits) {
    if (!Number.isFinite(hit.score)) throw new TypeError(`score of ${JSON.stringify(hit.id)} is not a finite number: ${hit.score}`);
    if (!firsts.has(hit.id)) firsts.set(hit.id, hit.score);
  }
  let min = Infinity;
  let max = -Infinity;
  for (const score of firsts.values()) {
    if (score < min) min = score;
    if (score > max) max = score;
  }
  const range = max - min;
  const result = new Map<string, number>();
  for (const [id, score] of firsts) result.set(id, range > 0 ? (score - min) / range : 1);
  return result;
}

function ranked(scores: ReadonlyMap<string, number>): FusedHit[] {
  const hits = [...scores].map(([id, score]) => ({ id, score }));
  return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
