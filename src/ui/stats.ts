import type { CollectionStats } from '../engine/types.js';

/** The `info --json` shape, snake_case as documented; stable for scripts. */
export interface StatsJson {
  name: string;
  dimension: number;
  metric: string;
  index: string;
  index_state: string;
  embedder: string;
  count: number;
  deleted: number;
  size_bytes: number;
}

export function statsJson(stats: CollectionStats): StatsJson {
  return {
    name: stats.name,
    dimension: stats.dimension,
    metric: stats.metric,
    index: stats.index,
    index_state: stats.indexState,
    embedder: stats.embedder,
    count: stats.count,
    deleted: stats.deleted,
    size_bytes: stats.sizeBytes,
  };
}
