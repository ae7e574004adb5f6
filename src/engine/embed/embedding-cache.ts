import { createHash } from 'node:crypto';
import type { AbstractSublevel } from 'abstract-level';
import type { RootLevel } from '../store/collection-store.js';
import { decodeVector, encodeVector } from '../store/vector-codec.js';
import type { Embedder } from './embedder.js';

type Sub<V> = AbstractSublevel<RootLevel, string | Buffer | Uint8Array, string, V>;

export interface CacheStats {
  /** `<provider>:<model>` the figures are for. */
  model: string;
  entries: number;
  hits: number;
  misses: number;
}

/**
 * Embeddings already computed, in LevelDB, keyed by (provider, model, sha256 of the text): the same
 * text is never sent to a model twice, whichever collection or process asks. Entries live under
 * `embcache!<provider>:<model>!<hash>`; per-model counters under `embstats!<provider>:<model>`,
 * updated in the same batch as the entries they count.
 */
export class EmbeddingCache {
  private readonly entries: Sub<Uint8Array>;
  private readonly stats: Sub<CacheStats>;

  constructor(private readonly root: RootLevel) {
    this.entries = root.sublevel<string, Uint8Array>('embcache', { valueEncoding: 'view' });
    this.stats = root.sublevel<string, CacheStats>('embstats', { valueEncoding: 'json' });
  }

  /** Wraps an embedder so that it answers from the cache and stores what it had to compute. */
  wrap(inner: Embedder): Embedder {
    return new CachedEmbedder(inner, this);
  }

  async statsFor(model: string): Promise<CacheStats> {
    return (await this.stats.get(model)) ?? { model, entries: 0, hits: 0, misses: 0 };
  }

  async allStats(): Promise<CacheStats[]> {
    return (await this.stats.values().all()).sort((a, b) => a.model.localeCompare(b.model));
  }

  /** Removes cached embeddings (of one model, or all) and their counters; returns entries removed. */
  async clear(model?: string): Promise<number> {
    const models = model === undefined ? await this.allStats() : [await this.statsFor(model)];
    let removed = 0;
    for (const stats of models) {
      removed += stats.entries;
      await this.entries.clear({ gte: `${stats.model}!`, lt: `${stats.model}!\xff` });
      await this.stats.del(stats.model);
    }
    return removed;
  }

  async lookup(model: string, hashes: readonly string[]): Promise<(Float32Array | undefined)[]> {
    const values = await this.entries.getMany(hashes.map((hash) => `${model}!${hash}`));
    return values.map((bytes) => (bytes === undefined ? undefined : decodeVector(bytes)));
  }

  async store(model: string, computed: ReadonlyMap<string, Float32Array>, hits: number, misses: number): Promise<void> {
    const previous = await this.statsFor(model);
    const batch = this.root.batch();
    for (const [hash, vector] of computed) batch.put(`${model}!${hash}`, encodeVector(vector), { sublevel: this.entries });
    batch.put(
      model,
      { model, entries: previous.entries + computed.size, hits: previous.hits + hits, misses: previous.misses + misses },
      { sublevel: this.stats },
    );
    await batch.write();
  }
}

export function textHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

class CachedEmbedder implements Embedder {
  readonly name: string;
  readonly model: string;
  readonly dimension: number;
  private readonly key: string;
  /** Stats writes are serialised so concurrent embed calls do not lose counts. */
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly inner: Embedder,
    private readonly cache: EmbeddingCache,
  ) {
    this.name = inner.name;
    this.model = inner.model;
    this.dimension = inner.dimension;
    this.key = `${inner.name}:${inner.model}`;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const hashes = texts.map(textHash);
    const cached = await this.cache.lookup(this.key, hashes);
    // Each distinct missing text is embedded once, however often it repeats in the call.
    const missing = new Map<string, string>();
    hashes.forEach((hash, i) => {
      if (cached[i] === undefined && !missing.has(hash)) missing.set(hash, texts[i] as string);
    });
    const computed = new Map<string, Float32Array>();
    if (missing.size > 0) {
      const vectors = await this.inner.embed([...missing.values()]);
      [...missing.keys()].forEach((hash, i) => computed.set(hash, vectors[i] as Float32Array));
    }
    const hits = texts.length - missing.size;
    const write = this.pending.then(() => this.cache.store(this.key, computed, hits, missing.size));
    this.pending = write.catch(() => undefined);
    await write;
    return hashes.map((hash, i) => cached[i] ?? (computed.get(hash) as Float32Array));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
