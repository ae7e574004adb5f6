import type { CollectionStats } from '../engine/types.js';

/** The `info --json` shape, snake_case as documented; stable for scripts. */
export interface StatsJson {
  name: string;
  dimension: number;
  metric: string;
  index: string;
  index_state: string;
  embedder: string;
  /** Live records: chunks, or whole documents. */
  count: number;
  documents: number;
  deleted: number;
  size_bytes: number;
  embedding_cache: { entries: number; hits: number; misses: number; hit_rate: number } | null;
}

export function statsJson(stats: CollectionStats): StatsJson {
  const cache = stats.embeddingCache;
  return {
    name: stats.name,
    dimension: stats.dimension,
    metric: stats.metric,
    index: stats.index,
    index_state: stats.indexState,
    embedder: stats.embedder,
    count: stats.count,
    documents: stats.documents,
    deleted: stats.deleted,
    size_bytes: stats.sizeBytes,
    embedding_cache: cache === null ? null : { entries: cache.entries, hits: cache.hits, misses: cache.misses, hit_rate: cache.hitRate },
  };
}

/** Rows for a human `info` table: nested cache figures flattened. */
export function statsRows(stats: StatsJson): [string, string][] {
  const { embedding_cache: cache, ...plain } = stats;
  const rows: [string, string][] = Object.entries(plain).map(([key, value]) => [key, String(value)]);
  if (cache !== null) {
    rows.push(['embedding_cache', `${cache.entries} entries, ${(cache.hit_rate * 100).toFixed(1)}% hits (${cache.hits} hits, ${cache.misses} misses)`]);
  }
  return rows;
}
