import { PiramidError, type ErrorLocation } from './errors.js';
import type { Metric } from './types.js';

/**
 * Checks a caller's vector and copies it into a Float32Array. Everything user-supplied goes
 * through here, so a wrong length or a NaN is reported with where it came from.
 */
export function toFloat32Vector(vector: unknown, dimension: number, location: ErrorLocation = {}): Float32Array {
  // Bulk loads hand over Float32Arrays: one copy and a typed scan (the generic path below reads
  // through a polymorphic element access, ~3x slower per vector).
  if (vector instanceof Float32Array && vector.length === dimension) {
    const copy = vector.slice();
    if (allFinite(copy)) return copy;
  }
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
      throw new PiramidError('INVALID_INPUT', `vector[${i}] is ${JSON.stringify(value) ?? String(value)}, not a finite number.`, {
        location: where,
      });
    }
    out[i] = value;
  }
  return out;
}

function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

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
