import { createHash } from 'node:crypto';
import type { Embedder } from '../../src/engine/embed/embedder.js';

/**
 * A small real embedder for engine tests that need text but not a neural model: hashed bag of
 * words, L2-normalised. Texts sharing words get similar vectors; it is deterministic and instant.
 */
export class WordHashEmbedder implements Embedder {
  readonly name = 'use';
  readonly model: string;
  calls = 0;

  constructor(readonly dimension = 64, model = 'word-hash-test') {
    this.model = model;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    this.calls += 1;
    return texts.map((text) => {
      const vector = new Float32Array(this.dimension);
      for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
        const slot = createHash('md5').update(word).digest().readUInt32LE(0) % this.dimension;
        vector[slot] = (vector[slot] ?? 0) + 1;
      }
      const norm = Math.hypot(...vector) || 1;
      return vector.map((value) => value / norm);
    });
  }

  async close(): Promise<void> {}
}
