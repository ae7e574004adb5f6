import type { IndexSettings, IvfDatatype, SearchOptions } from '../types.js';
import type { SearchParams } from './faiss-index.js';

/** Defaults chosen from measurements on GloVe-100 and 384-d clustered data (docs/tuning.md, bench/tuning.ts). */
export const DEFAULT_HNSW_M = 32;
export const DEFAULT_EF_SEARCH = 128;
/** HNSW candidate list while inserting; faiss' own default is 40 (docs/tuning.md). */
export const DEFAULT_EF_CONSTRUCTION = 40;
/**
 * auto: a query on the exact Flat index scans count × dimension floats; past this many it trains
 * IVF lists (about 10k vectors at 384 dims, 40k at 100 dims: ~0.4 ms per exact query here).
 */
export const AUTO_FLAT_MAX_FLOATS = 4_000_000;
/** Recall@10 the calibrated nprobe must reach on the sample (above the 0.95 promised, for margin). */
export const CALIBRATION_TARGET_RECALL = 0.96;
/** Stored vectors used as queries when calibrating nprobe. */
export const CALIBRATION_QUERIES = 100;
/** k-means wants ~39 points per list; below this many vectors an IVF collection searches exactly. */
export const IVF_MIN_TRAIN_VECTORS = 4096;
const IVF_POINTS_PER_LIST = 39;
/**
 * Training on more points per list buys no recall: GloVe-100 at 300k, IVF1024 trained on 64 vs 256
 * points per list reached the same recall@10 (0.953 vs 0.952 at nprobe 48) and trained 3.8×
 * faster. 256 balances the lists a little better (queries 4-16% faster at the same nprobe,
 * measured later): not worth the training time while builds must stay short (docs/tuning.md).
 */
export const IVF_MAX_TRAIN_POINTS_PER_LIST = 64;

/** Number of IVF lists for a collection of `count` vectors: ~4·√n (ivf), never starving k-means. */
export function ivfListsFor(count: number, requested?: number, perRoot = 4): number {
  if (requested !== undefined) return requested;
  const byRoot = Math.round(perRoot * Math.sqrt(count));
  return Math.max(1, Math.min(byRoot, Math.floor(count / IVF_POINTS_PER_LIST), 65536));
}

/**
 * auto uses ~2·√n lists: at 300k GloVe-100 vectors IVF1024 (≈2√n) and IVF2191 (4√n) answer at
 * recall 0.95 in about the same time (nprobe 48 vs 64), and the first trains ~6× faster.
 */
export const AUTO_LISTS_PER_ROOT = 2;

/**
 * IVF lists hold 16-bit floats unless a collection asks for float32: on GloVe-100 at 340k, IVF1024
 * nprobe 48 scanned in 277 µs against 468 µs for float32 lists trained on the same sample, recall
 * 0.9566 vs 0.9569, and the lists take half the memory (docs/tuning.md). The scans are memory-bound:
 * halving the bytes read is what pays.
 */
export const DEFAULT_IVF_DATATYPE: IvfDatatype = 'float16';

/** The faiss encoding of IVF lists for each datatype. */
const IVF_ENCODINGS: Record<IvfDatatype, string> = { float16: 'SQfp16', float32: 'Flat' };

function ivfEncoding(datatype: IvfDatatype | undefined): string {
  return IVF_ENCODINGS[datatype ?? DEFAULT_IVF_DATATYPE];
}

/** How the lists of an IVF index described by `description` store vectors (undefined: not IVF). */
export function ivfDatatypeOf(description: string): IvfDatatype | undefined {
  if (!description.startsWith('IVF')) return undefined;
  return description.endsWith(`,${IVF_ENCODINGS.float16}`) ? 'float16' : 'float32';
}

/**
 * The dimension faiss holds for a collection's vectors under `description`. faiss 1.7.3 runs its
 * AVX2 scalar-quantizer kernels only when the dimension is a multiple of 8 (a 100-d SQfp16 scan
 * took 1.9 ms on the scalar path against 277 µs padded to 104), so SQ indexes get zero padding: it changes no inner
 * product or L2 distance.
 */
export function indexDimension(description: string, dimension: number): number {
  return description.includes(',SQ') ? Math.ceil(dimension / 8) * 8 : dimension;
}

export function defaultNprobe(nlist: number): number {
  return Math.min(nlist, Math.max(8, Math.ceil(nlist / 16)));
}

/**
 * The faiss factory description for a collection of `count` vectors of `dimension`. An IVF
 * collection stays on an exact Flat index until it holds enough vectors to train its lists; an auto
 * collection until an exact query would scan more than AUTO_FLAT_MAX_FLOATS floats.
 */
export function describeIndex(settings: IndexSettings, count: number, dimension?: number): { description: string; nlist?: number } {
  switch (settings.kind) {
    case 'flat':
      return { description: 'Flat' };
    case 'hnsw':
      return { description: `HNSW${settings.m ?? DEFAULT_HNSW_M},Flat` };
    case 'ivf':
    case 'auto': {
      // Without a dimension (a caller that builds for a known-large set), the IVF rule alone.
      if (settings.kind === 'auto' && dimension !== undefined && count * dimension <= AUTO_FLAT_MAX_FLOATS) return { description: 'Flat' };
      const nlist = ivfListsFor(count, settings.nlist, settings.kind === 'auto' ? AUTO_LISTS_PER_ROOT : 4);
      if (count < Math.max(IVF_MIN_TRAIN_VECTORS, nlist * IVF_POINTS_PER_LIST)) return { description: 'Flat' };
      return { description: `IVF${nlist},${ivfEncoding(settings.datatype)}`, nlist };
    }
  }
}

/**
 * True when the index should be (re)built now: an IVF or auto collection on its interim Flat index
 * has grown enough to train, or one whose list count follows its size (no nlist of the user's) has
 * grown so that its lists should double (~4× the vectors it was trained on: amortised, each vector
 * is re-added about once more). Without that, an `ivf` collection filled by a stream of upserts
 * kept the ~150 lists it trained with at ~6000 vectors, however large it grew.
 */
export function shouldTrain(settings: IndexSettings, currentDescription: string, count: number, dimension: number, currentNlist?: number): boolean {
  if (settings.kind !== 'ivf' && settings.kind !== 'auto') return false;
  const plan = describeIndex(settings, count, dimension);
  if (currentDescription === 'Flat') return plan.description !== 'Flat';
  return settings.nlist === undefined && currentNlist !== undefined && (plan.nlist ?? 0) >= 2 * currentNlist;
}

/** Whether a freshly trained IVF index should have its nprobe calibrated (no nprobe of the user's). */
export function shouldCalibrate(settings: IndexSettings): boolean {
  return (settings.kind === 'ivf' || settings.kind === 'auto') && settings.nprobe === undefined;
}

/** nprobe values tried by calibration, smallest first, up to nlist. */
export function nprobeLadder(nlist: number): number[] {
  const ladder: number[] = [];
  for (let p = 1; p < nlist; p = p < 8 ? p * 2 : Math.ceil(p * 1.25)) ladder.push(p);
  ladder.push(nlist);
  return ladder;
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
    const calibrated = settings.calibrated?.nlist === nlist ? settings.calibrated.nprobe : undefined;
    return { nprobe: Math.min(nlist, options.nprobe ?? settings.nprobe ?? calibrated ?? defaultNprobe(nlist)) };
  }
  return {};
}
