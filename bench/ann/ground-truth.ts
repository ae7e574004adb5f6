/** Exact top-k by inner product (unit vectors: cosine) with faiss Flat, batched, all cores. */
import { availableParallelism } from 'node:os';
import { MetricType, loadFaissNative } from '../../src/engine/index/faiss-native.js';

export function exactTopK(base: Float32Array, queries: Float32Array, dim: number, k: number): Int32Array {
  const faiss = loadFaissNative();
  const before = faiss.getOmpThreads();
  faiss.setOmpThreads(availableParallelism());
  try {
    const index = faiss.Index.fromFactory(dim, 'Flat', MetricType.METRIC_INNER_PRODUCT);
    index.add(base);
    const out = new Int32Array((queries.length / dim) * k);
    const step = 200 * dim;
    for (let offset = 0; offset < queries.length; offset += step) {
      const { labels } = index.search(queries.subarray(offset, offset + step), k);
      out.set(Int32Array.from(labels), (offset / dim) * k);
    }
    return out;
  } finally {
    faiss.setOmpThreads(before);
  }
}

/** recall@k: the share of each query's true top-k found in its returned top-k, averaged. */
export function recallAtK(found: readonly ArrayLike<number>[], truth: Int32Array, truthK: number, k: number): number {
  let hits = 0;
  found.forEach((labels, q) => {
    const want = new Set(truth.subarray(q * truthK, q * truthK + k));
    for (let i = 0; i < Math.min(k, labels.length); i++) if (want.has(labels[i] as number)) hits++;
  });
  return found.length === 0 ? 0 : hits / (found.length * k);
}
