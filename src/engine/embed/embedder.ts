/**
 * An Embedder turns texts into vectors. Collections store the embedder's name, model and dimension
 * in their config so that a later query or ingest with a different model is refused.
 */
export interface EmbedderInfo {
  /** Provider name as given to `--embedder`, e.g. `use`, `openai`, `none`. */
  readonly name: string;
  /** Model identifier within the provider, e.g. `use-lite-en`. */
  readonly model: string;
  /** Length of every vector this embedder returns. */
  readonly dimension: number;
}

export interface Embedder extends EmbedderInfo {
  /** Embeds texts in order; the result has one Float32Array of `dimension` per input text. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  /** Releases model memory or connections. Safe to call twice. */
  close(): Promise<void>;
}
