/** Deterministic test data: clustered vectors, and exact search to compare with. */
import { seededRandom } from '../../src/engine/random.js';

export { seededRandom };

export function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export function randomVectors(count: number, dimension: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: dimension }, () => gaussian(random)));
}

/**
 * Points scattered around `clusters` random centres: the shape real embeddings have. The centres
 * come from `seed`, the points from `pointSeed`, so queries can share the data's clusters
 * without repeating its points.
 */
export function clusteredVectors(count: number, dimension: number, clusters: number, seed: number, pointSeed = seed + 1, spread = 0.35): Float32Array[] {
  const centreRandom = seededRandom(seed);
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: dimension }, () => gaussian(centreRandom)));
  const random = seededRandom(pointSeed);
  return Array.from({ length: count }, () => {
    const centre = centres[Math.floor(random() * clusters)] as Float32Array;
    return Float32Array.from(centre, (value) => value + spread * gaussian(random));
  });
}

export type TestMetric = 'cosine' | 'dot' | 'l2';

function score(a: Float32Array, b: Float32Array, metric: TestMetric): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let l2 = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
    l2 += (x - y) * (x - y);
  }
  if (metric === 'dot') return dot;
  if (metric === 'l2') return Math.sqrt(l2);
  return dot / (Math.sqrt(na) * Math.sqrt(nb));
}

/** Exact top-k by brute force: indexes into `vectors` with their scores, best first. */
export function bruteForce(vectors: readonly Float32Array[], query: Float32Array, k: number, metric: TestMetric): { index: number; score: number }[] {
  const scored = vectors.map((vector, index) => ({ index, score: score(vector, query, metric) }));
  scored.sort((a, b) => (metric === 'l2' ? a.score - b.score : b.score - a.score));
  return scored.slice(0, k);
}

/** Share of the exact top-k ids that the approximate result found. */
export function recallAtK(exact: readonly string[], approximate: readonly string[]): number {
  const truth = new Set(exact);
  return approximate.filter((id) => truth.has(id)).length / exact.length;
}
