/** What the runner asks of a worker process. */
export const PEERS = ['piramid', 'faiss', 'faiss-route-a', 'hnswlib', 'usearch', 'lancedb', 'vectra'] as const;
export type PeerName = (typeof PEERS)[number];

/** Piramid's index configurations, each measured in its own worker process. */
export const PIRAMID_INDEXES = ['default', 'auto', 'flat', 'ivf', 'ivf-float32', 'hnsw'] as const;

export interface WorkerSpec {
  peer: PeerName;
  quick: boolean;
  n?: number;
  nq?: number;
  workDir: string;
  routeAAddon?: string;
  /** Only these index configurations (piramid: PIRAMID_INDEXES). */
  only?: string[];
  /** File the worker writes its WorkerOutput JSON to. */
  out: string;
}
