import type { IndexSettings, SearchOptions } from '../types.js';
import type { SearchParams } from './faiss-index.js';

/** Defaults chosen so recall@10 stays at or above 0.95 on clustered data (see test/engine). */
export const DEFAULT_HNSW_M = 32;
export const DEFAULT_EF_SEARCH = 64;
/** k-means wants ~39 points per list; below this many vectors an IVF collection searches exactly. */
export const IVF_MIN_TRAIN_VECTORS = 4096;
const IVF_POINTS_PER_LIST = 39;
/** Training on more than this many points per list buys nothing measurable. */
export const IVF_MAX_TRAIN_POINTS_PER_LIST = 256;

/** Number of IVF lists for a collection of `count` vectors: ~4·√n, never starving k-means. */
export function ivfListsFor(count: number, requested?: number): number {
  if (requested !== undefined) return requested;
  const byRoot = Math.round(4 * Math.sqrt(count));
  return Math.max(1, Math.min(byRoot, Math.floor(count / IVF_POINTS_PER_LIST), 65536));
}

export function defaultNprobe(nlist: number): number {
  return Math.min(nlist, Math.max(8, Math.ceil(nlist / 16)));
}

/**
 * The faiss factory description for a collection of `count` vectors. An IVF collection stays on
 * an exact Flat index until it holds enough vectors to train its lists.
 */
export function describeIndex(settings: IndexSettings, count: number): { description: string; nlist?: number } {
  switch (settings.kind) {
    case 'flat':
      return { description: 'Flat' };
    case 'hnsw':
      return { description: `HNSW${settings.m ?? DEFAULT_HNSW_M},Flat` };
    case 'ivf': {
      const nlist = ivfListsFor(count, settings.nlist);
      if (count < Math.max(IVF_MIN_TRAIN_VECTORS, nlist * IVF_POINTS_PER_LIST)) return { description: 'Flat' };
      return { description: `IVF${nlist},Flat`, nlist };
    }
  }
}

/** True when an IVF collection on its interim Flat index has grown enough to train. */
export function shouldTrain(settings: IndexSettings, currentDescription: string, count: number): boolean {
  return settings.kind === 'ivf' && currentDescription === 'Flat' && describeIndex(settings, count).description !== 'Flat';
}

/** Search parameters for one query: per-query overrides, then the collection's, then defaults. */
export function searchParams(
  settings: IndexSettings,
  description: string,
  nlist: number | undefined,
  options: SearchOptions,
): SearchParams {
  if (description.startsWith('HNSW')) return { efSearch: options.efSearch ?? settings.efSearch ?? DEFAULT_EF_SEARCH };
  if (description.startsWith('IVF') && nlist !== undefined) {
    return { nprobe: Math.min(nlist, options.nprobe ?? settings.nprobe ?? defaultNprobe(nlist)) };
  }
  return {};
}
