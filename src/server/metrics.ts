import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../engine/database.js';

/**
 * Prometheus metrics of one app: its own registry (several apps in one process, as in tests, do
 * not collide), request durations per route and status, query latency per collection and mode,
 * collection sizes and embedding-cache figures read from the engine on each scrape, and (with
 * processMetrics) Node's own, event-loop lag included.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly queryDuration: Histogram<'collection' | 'mode'>;
  readonly ingested: Counter<'collection'>;

  /** Request-duration series by method, route and status: label objects built once per series. */
  private readonly requestSeries = new Map<string, { observe: (seconds: number) => void }>();

  /** Records one request (called on every response, so the series lookup is a string key). */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.requestSeries.get(key);
    if (series === undefined) {
      series = this.requestDuration.labels({ method, route, status: String(status) });
      this.requestSeries.set(key, series);
    }
    series.observe(seconds);
  }

  constructor(db: Database, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'piramid_' });
    this.requestDuration = new Histogram({
      name: 'piramid_http_request_duration_seconds',
      help: 'HTTP request duration by route template and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.queryDuration = new Histogram({
      name: 'piramid_query_duration_seconds',
      help: 'Search latency (embedding included) by collection and mode.',
      labelNames: ['collection', 'mode'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.ingested = new Counter({
      name: 'piramid_documents_written_total',
      help: 'Documents added or updated through the API.',
      labelNames: ['collection'],
      registers,
    });
    const sizes = {
      records: new Map<string, number>(),
      documents: new Map<string, number>(),
      bytes: new Map<string, number>(),
      searchCalls: new Map<string, number>(),
      searchQueries: new Map<string, number>(),
    };
    let pending: Promise<void> | undefined;
    // One engine read per scrape, shared by the three gauges.
    const refresh = async (): Promise<void> => {
      pending ??= (async () => {
        for (const map of Object.values(sizes)) map.clear();
        try {
          for (const config of await db.listCollections()) {
            const collection = await db.collection(config.name);
            const stats = await collection.stats();
            sizes.records.set(config.name, stats.count);
            sizes.documents.set(config.name, stats.documents);
            sizes.bytes.set(config.name, stats.sizeBytes);
            const batches = collection.searchBatches;
            sizes.searchCalls.set(config.name, batches.calls);
            sizes.searchQueries.set(config.name, batches.queries);
          }
        } catch {
          // A closed database has no sizes to report; the scrape still answers.
        }
      })().finally(() => {
        pending = undefined;
      });
      return pending;
    };
    const gauge = (name: string, help: string, values: Map<string, number>): void => {
      new Gauge({
        name,
        help,
        labelNames: ['collection'],
        registers,
        async collect() {
          await refresh();
          this.reset();
          for (const [collection, value] of values) this.set({ collection }, value);
        },
      });
    };
    gauge('piramid_collection_records', 'Live records (chunks or whole documents) per collection.', sizes.records);
    gauge('piramid_collection_documents', 'Source documents per collection.', sizes.documents);
    gauge('piramid_collection_size_bytes', 'Bytes on disk per collection (records, vectors, index file).', sizes.bytes);
    // Coalesced searches (the search batcher): queries / calls is the mean batch size.
    gauge('piramid_search_batch_calls', 'faiss calls made for coalesced vector searches since start, per collection.', sizes.searchCalls);
    gauge('piramid_search_batch_queries', 'Vector searches answered by those calls, per collection.', sizes.searchQueries);
    // Embedder calls avoided and made: the embedding cache's own counters, per model (persisted in
    // the data folder, so they count across restarts, as counters in Prometheus may).
    const cache = (name: string, help: string, pick: (stats: { hits: number; misses: number; entries: number }) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['model'],
        registers,
        async collect() {
          this.reset();
          try {
            for (const stats of await db.embeddingCache.allStats()) this.set({ model: stats.model }, pick(stats));
          } catch {
            // closed database: nothing to report
          }
        },
      });
    };
    cache('piramid_embedding_cache_hits', 'Texts answered from the embedding cache, per model.', (stats) => stats.hits);
    cache('piramid_embedding_cache_misses', 'Texts sent to the embedder (cache misses), per model.', (stats) => stats.misses);
    cache('piramid_embedding_cache_entries', 'Embeddings stored in the cache, per model.', (stats) => stats.entries);
  }
}
