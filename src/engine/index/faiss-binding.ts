import { PiramidError } from '../errors.js';
import type { FaissBinding } from './faiss-index.js';
import { MetricType, NativeAddonError, loadFaissNative } from './faiss-native.js';
import { takePrefetchedIndex } from './index-prefetch.js';

/**
 * The engine's view of the patched faiss-node addon. Loading failures become a coded error that
 * tells the user how to build the addon. `addonPath` lets benchmarks load another build.
 */
export function loadFaissBinding(addonPath?: string): FaissBinding {
  let native;
  try {
    native = addonPath === undefined ? loadFaissNative() : loadFaissNative(addonPath);
  } catch (err) {
    if (err instanceof NativeAddonError) {
      throw new PiramidError('NATIVE_UNAVAILABLE', `The faiss binding could not be loaded (${err.addonPath}).`, {
        hint: 'Build it with: node scripts/install-native.mjs (npm install runs it).',
        cause: err,
      });
    }
    throw err;
  }
  const { Index } = native;
  // Queries run on one OpenMP thread (builds raise it for their duration): a parallel region
  // costs more than it saves for one query, measured 279 vs 210 µs per HNSW query at 100k.
  native.setOmpThreads(1);
  const readAsync = Index.readAsync?.bind(Index);
  return {
    fromFactory: (dimension, description, metric) =>
      Index.fromFactory(dimension, description, metric === 'l2' ? MetricType.METRIC_L2 : MetricType.METRIC_INNER_PRODUCT),
    read: (path) => Index.read(path),
    ...(readAsync === undefined ? {} : { readAsync }),
    takePrefetched: (path, file) => takePrefetchedIndex(path, file),
    setOmpThreads: (threads) => native.setOmpThreads(threads),
  };
}
