import { PiramidError, type ErrorLocation } from './errors.js';
import type { Metric } from './types.js';

/**
 * Checks a caller's vector and copies it into a Float32Array. Everything user-supplied goes
 * through here, so a wrong length or a NaN is reported with where it came from.
 */
export function toFloat32Vector(vector: unknown, dimension: number, location: ErrorLocation = {}): Float32Array {
  const fast = finiteFloat32Copy(vector, dimension);
  if (fast !== undefined) return fast;
  const where = { ...location, field: location.field ?? 'vector' };
  if (!(Array.isArray(vector) || ArrayBuffer.isView(vector))) {
    throw new PiramidError('INVALID_INPUT', 'vector must be an array of numbers.', { location: where });
  }
  const values = vector as ArrayLike<unknown>;
  if (values.length !== dimension) {
    throw new PiramidError(
      'DIMENSION_MISMATCH',
      `vector has ${values.length} dimensions; the collection expects ${dimension}.`,
      { location: where, hint: 'Every vector of a collection has the dimension it was created with.' },
    );
  }
  const out = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) {
    const value = values[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new PiramidError('INVALID_INPUT', `vector[${i}] is ${typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value))}, not a finite number.`, {
        location: where,
      });
    }
    out[i] = value;
  }
  return out;
}

/**
 * The common case of toFloat32Vector without building an error location: a Float32Array of the
 * right length and finite values, copied (bulk loads hand these over; a typed scan is ~3x faster
 * than the generic path's polymorphic element reads). undefined when the full check must run.
 */
export function finiteFloat32Copy(vector: unknown, dimension: number): Float32Array | undefined {
  if (!(vector instanceof Float32Array) || vector.length !== dimension) return undefined;
  for (let i = 0; i < dimension; i++) if (!Number.isFinite(vector[i])) return undefined;
  const copy = cutFromSlab(dimension);
  copy.set(vector);
  return copy;
}

/**
 * finiteFloat32Copy for a document's vector as parsed from JSON (an array of numbers), into the
 * same slabs: a JSONL bulk load's vectors, without the error location toFloat32Vector needs built
 * first (~1.3 µs a vector of its 100k-line ingest, with the allocation). undefined when the full
 * check must run, which reports what is wrong.
 */
export function finiteNumbersCopy(vector: unknown, dimension: number): Float32Array | undefined {
  if (!Array.isArray(vector) || vector.length !== dimension) return undefined;
  const copy = cutFromSlab(dimension);
  for (let i = 0; i < dimension; i++) {
    const value: unknown = vector[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
    copy[i] = value;
  }
  return copy;
}

/**
 * A zeroed Float32Array of `length`, cut from a shared 256 KB slab: a fresh ArrayBuffer per
 * vector (a backing store each) cost ~0.7 µs, a fifth of a bulk load's time per vector here, a
 * view of a slab ~0.1 µs. Ingested vectors live for one upsert (LevelDB and faiss copy them), so
 * a slab is freed soon after its last vector; big vectors get their own buffer.
 */
function cutFromSlab(length: number): Float32Array {
  if (length > SLAB_FLOATS / 8) return new Float32Array(length);
  if (slabUsed + length > SLAB_FLOATS) {
    slab = new ArrayBuffer(SLAB_FLOATS * 4);
    slabUsed = 0;
  }
  const view = new Float32Array(slab, slabUsed * 4, length);
  slabUsed += length;
  return view;
}

const SLAB_FLOATS = 65_536;
let slab = new ArrayBuffer(SLAB_FLOATS * 4);
let slabUsed = 0;

export function norm(vector: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) {
    const value = vector[i] as number;
    sum += value * value;
  }
  return Math.sqrt(sum);
}

/**
 * Writes `vector` as the index sees it into `target` at `offset`: unit length for cosine
 * (so inner product equals cosine similarity), unchanged for dot and l2.
 */
export function writeIndexVector(vector: Float32Array, metric: Metric, target: Float32Array, offset: number): void {
  if (metric !== 'cosine') {
    target.set(vector, offset);
    return;
  }
  const length = norm(vector);
  const scale = length === 0 ? 0 : 1 / length;
  for (let i = 0; i < vector.length; i++) target[offset + i] = (vector[i] as number) * scale;
}

/** Packs vectors into one contiguous buffer in index space, as faiss wants them. */
export function packIndexVectors(vectors: readonly Float32Array[], dimension: number, metric: Metric): Float32Array {
  const packed = new Float32Array(vectors.length * dimension);
  vectors.forEach((vector, i) => writeIndexVector(vector, metric, packed, i * dimension));
  return packed;
}

/**
 * Copies rows of `from` floats into rows of `to` with a zero tail (faiss indexes padded to a
 * multiple of 8: index-plan.ts indexDimension); the identity when the two match. A single row
 * (a query: the hot path) is copied into one reused buffer whose tail stays zero, so the result is
 * valid only until the next call: faiss reads it synchronously, within the call.
 */
export function rowPadder(from: number, to: number): (rows: Float32Array) => Float32Array {
  if (from === to) return (rows) => rows;
  const one = new Float32Array(to);
  return (rows) => {
    const count = rows.length / from;
    if (count === 1) {
      one.set(rows);
      return one;
    }
    const out = new Float32Array(count * to);
    for (let row = 0; row < count; row++) out.set(rows.subarray(row * from, (row + 1) * from), row * to);
    return out;
  };
}
