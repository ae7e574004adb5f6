/** Vectors are stored as raw little-endian Float32 bytes: 4 bytes a dimension, no framing. */

export function encodeVector(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export function decodeVector(bytes: Uint8Array): Float32Array {
  // LevelDB hands back views at arbitrary offsets; Float32Array needs 4-byte alignment, so copy.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}
