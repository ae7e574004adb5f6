/**
 * Typed loader for Piramid's native FAISS binding: faiss-node 0.5.1's `src/faiss.cc` with
 * `native/faiss-node.patch` applied, built by `scripts/install-native.mjs` into
 * `native/build/faiss-node.node` (see /work/shared/FAISS.md).
 *
 * What the patch changes from faiss-node's own API:
 * - `add`, `train` and `search` take a `Float32Array` and read it in place (a `number[]` still
 *   works, converted element by element); `n` vectors packed in one array are `n * d` floats.
 * - `search` returns typed arrays: `distances: Float32Array`, `labels: Float64Array`, `n * k` of
 *   each for `n` queries (row-major: query `i`'s hits are `[i * k, (i + 1) * k)`). A missing hit
 *   has label `-1`.
 * - `setParam(name, value)` sets a parameter through faiss' ParameterSpace (`efSearch` and
 *   `efConstruction` for HNSW, `nprobe` for IVF, ...); an unknown name for the index throws.
 * - `setOmpThreads(n)` / `getOmpThreads()`: OpenMP threads of the calling JS thread (a
 *   worker_thread has its own setting; `OMP_NUM_THREADS` sets the starting value).
 * - `Index.readAsync(fname)`: `read` on a libuv worker thread, resolving with the index.
 * - `reset()`; FAISS errors (including from add/search/write/removeIds) throw JS Errors.
 * - `toBuffer`/`fromBuffer` no longer leak a copy of the index.
 *
 * Calls are synchronous and run on the calling thread (plus OpenMP threads).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** faiss/MetricType.h */
export const MetricType = {
  METRIC_INNER_PRODUCT: 0,
  METRIC_L2: 1,
  METRIC_L1: 2,
  METRIC_Linf: 3,
  METRIC_Lp: 4,
  METRIC_Canberra: 20,
  METRIC_BrayCurtis: 21,
  METRIC_JensenShannon: 22,
  METRIC_Jaccard: 23,
} as const;
export type MetricType = (typeof MetricType)[keyof typeof MetricType];

/** Vectors: `n * d` floats, row-major. A Float32Array is read in place; a number[] is converted. */
export type VectorInput = Float32Array | readonly number[];

export interface SearchResult {
  /** `n * k` distances (squared L2, or inner products for METRIC_INNER_PRODUCT). */
  readonly distances: Float32Array;
  /** `n * k` labels (sequential from 0 in insertion order); `-1` where fewer than k were found. */
  readonly labels: Float64Array;
}

/** Search parameters faiss 1.7.3's ParameterSpace knows for the index kinds Piramid uses. */
export type SearchParamName = 'efSearch' | 'efConstruction' | 'nprobe' | 'k_factor' | 'max_codes' | 'ht' | (string & Record<never, never>);

export interface Index {
  /** Number of vectors in the index. */
  ntotal(): number;
  getDimension(): number;
  isTrained(): boolean;
  /** Adds `x.length / d` vectors; labels continue from `ntotal()`. Throws if the index is untrained. */
  add(x: VectorInput): void;
  train(x: VectorInput): void;
  /** `x.length / d` queries at once; `k` must not exceed `ntotal()`. */
  search(x: VectorInput, k: number): SearchResult;
  /**
   * e.g. `setParam('efSearch', 64)` (HNSW), `setParam('nprobe', 8)` (IVF); saved with the index.
   * `efConstruction` (HNSW) applies to the adds that follow it.
   */
  setParam(name: SearchParamName, value: number): void;
  /** Removes all vectors (keeps the training). */
  reset(): void;
  write(fname: string): void;
  toBuffer(): Buffer;
  mergeFrom(other: Index): void;
  /** Flat and IVF indexes only (HNSW throws). Flat indexes renumber the labels after each removed one. */
  removeIds(ids: readonly number[]): number;
}

export interface IndexConstructor<T extends Index = Index> {
  /** A flat index of dimension d (IndexFlatL2 for the generic `Index`). */
  new (d: number): T;
  read(fname: string): T;
  fromBuffer(src: Uint8Array): T;
}

export interface IndexClass extends IndexConstructor<Index> {
  /** `faiss::index_factory(d, description, metric)`; metric defaults to METRIC_L2. */
  fromFactory(d: number, description: string, metric?: MetricType): Index;
  setOmpThreads(n: number): void;
  getOmpThreads(): number;
  /** `read` on a libuv worker thread (builds before the prefetch patch lack it). */
  readAsync?(fname: string): Promise<Index>;
}

/** What `scripts/install-native.mjs` records beside the addon (`build-info.json`). */
export interface NativeBuildInfo {
  readonly route: 'A' | 'B';
  readonly faissVersion: string;
  readonly optLevel: string;
  readonly blas: string;
  readonly builtAt: string;
  readonly cacheKey: string;
  readonly libIdentity?: string;
  readonly faissNodeVersion?: string;
  readonly nodeAbi?: string;
}

export interface FaissNative {
  readonly Index: IndexClass;
  readonly IndexFlatL2: IndexConstructor;
  readonly IndexFlatIP: IndexConstructor;
  /** OpenMP threads for FAISS calls made from the calling JS thread (n >= 1). */
  setOmpThreads(n: number): void;
  getOmpThreads(): number;
  readonly MetricType: typeof MetricType;
  /** Absolute path of the loaded `.node` file. */
  readonly addonPath: string;
  /** Contents of `build-info.json` beside the addon, when present. */
  readonly buildInfo: NativeBuildInfo | undefined;
}

const INSTALL_HINT = 'run `node scripts/install-native.mjs` in the project (npm install runs it as postinstall)';

export class NativeAddonError extends Error {
  readonly code: 'NATIVE_ADDON_MISSING' | 'NATIVE_ADDON_INVALID';
  readonly addonPath: string;

  constructor(code: NativeAddonError['code'], addonPath: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NativeAddonError';
    this.code = code;
    this.addonPath = addonPath;
  }
}

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The project folder: the compiled module lives in `dist/src/engine/index/` (`../../../..`); the
 * nearest ancestor holding `package.json` and `native/` also covers running from `src/`.
 */
export function projectRoot(): string {
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    if (dirname(dir) === dir) return resolve(here, '../../../..');
  }
}

/** `native/build/faiss-node.node` in the project. */
export function defaultAddonPath(): string {
  return join(projectRoot(), 'native', 'build', 'faiss-node.node');
}

export function readNativeBuildInfo(addonPath: string = defaultAddonPath()): NativeBuildInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(dirname(resolve(addonPath)), 'build-info.json'), 'utf8')) as NativeBuildInfo;
  } catch {
    return undefined;
  }
}

interface RawBinding {
  Index: IndexClass;
  IndexFlatL2: IndexConstructor;
  IndexFlatIP: IndexConstructor;
  setOmpThreads(n: number): void;
  getOmpThreads(): number;
}

function isPatchedBinding(raw: unknown): raw is RawBinding {
  if (typeof raw !== 'object' || raw === null) return false;
  const r = raw as Partial<Record<keyof RawBinding, unknown>>;
  if (typeof r.Index !== 'function') return false;
  const index = r.Index as { fromFactory?: unknown; prototype?: Partial<Record<keyof Index, unknown>> };
  return (
    typeof index.fromFactory === 'function' &&
    typeof index.prototype?.setParam === 'function' &&
    typeof r.setOmpThreads === 'function' &&
    typeof r.getOmpThreads === 'function'
  );
}

const loaded = new Map<string, FaissNative>();
const requireNative = createRequire(import.meta.url);

/**
 * Loads the patched binding (once per path). `addonPath` defaults to `native/build/faiss-node.node`;
 * benchmarks pass another build, e.g. `native/build-A/faiss-node.node` (two builds can be loaded
 * side by side: their FAISS symbols are private, but they share libgomp and its thread settings).
 * Throws NativeAddonError (code NATIVE_ADDON_MISSING / NATIVE_ADDON_INVALID) naming the fix.
 */
export function loadFaissNative(addonPath: string = defaultAddonPath()): FaissNative {
  const file = resolve(addonPath);
  const cached = loaded.get(file);
  if (cached) return cached;
  if (!existsSync(file)) {
    throw new NativeAddonError('NATIVE_ADDON_MISSING', file, `The native FAISS addon is not built (${file} is missing): ${INSTALL_HINT}.`);
  }
  let raw: unknown;
  try {
    raw = requireNative(file);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new NativeAddonError('NATIVE_ADDON_INVALID', file, `The native FAISS addon ${file} does not load (${why}): ${INSTALL_HINT} to rebuild it.`, { cause });
  }
  if (!isPatchedBinding(raw)) {
    throw new NativeAddonError('NATIVE_ADDON_INVALID', file, `${file} is not Piramid's patched faiss-node binding (no setParam/setOmpThreads): ${INSTALL_HINT}.`);
  }
  const binding: FaissNative = {
    Index: raw.Index,
    IndexFlatL2: raw.IndexFlatL2,
    IndexFlatIP: raw.IndexFlatIP,
    setOmpThreads: (n: number): void => raw.setOmpThreads(n),
    getOmpThreads: (): number => raw.getOmpThreads(),
    MetricType,
    addonPath: file,
    buildInfo: readNativeBuildInfo(file),
  };
  loaded.set(file, binding);
  return binding;
}
