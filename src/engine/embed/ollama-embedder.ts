/**
 * The `ollama` embedder: Ollama's native `POST /api/embed` (the batch endpoint; older Ollama
 * releases have only the one-text `/api/embeddings`).
 *
 * Request `{ model, input: string[] }`; response `{ embeddings: number[][] }` in input order.
 * Batching, concurrency, retries and the dimension checks are shared with the other HTTP providers
 * (`batching-embedder.ts`, `http-client.ts`). Ollama's OpenAI-compatible `/v1` works with the
 * `openai` embedder too.
 */
import {
  createHttpEmbedder,
  joinUrl,
  malformedResponse,
  toVector,
  type HttpEmbedderOptions,
  type HttpEmbeddingProtocol,
  type ResponseContext,
} from './batching-embedder.js';
import type { Embedder } from './embedder.js';

export const OLLAMA_EMBEDDER_NAME = 'ollama';
export const OLLAMA_DEFAULT_BASE_URL = 'http://127.0.0.1:11434';

export type OllamaEmbedderOptions = HttpEmbedderOptions;

/** `http://127.0.0.1:11434` → `…/api/embed`; a base already ending in `/api` or `/api/embed` is kept. */
export function ollamaEmbedUrl(baseUrl: string | URL): URL {
  const base = new URL(baseUrl);
  const path = base.pathname.replace(/\/+$/, '');
  if (/\/api\/embed$/.test(path)) return joinUrl(base, '');
  if (/\/api$/.test(path)) return joinUrl(base, 'embed');
  return joinUrl(base, 'api/embed');
}

/** The vectors of an Ollama `/api/embed` response, in input order. */
export function readOllamaEmbeddings(body: unknown, count: number, context: ResponseContext): Float32Array[] {
  const embeddings: unknown = typeof body === 'object' && body !== null ? (body as { embeddings?: unknown }).embeddings : undefined;
  if (!Array.isArray(embeddings)) throw malformedResponse(context, 'no "embeddings" array', body);
  if (embeddings.length !== count) throw malformedResponse(context, `${embeddings.length} embeddings for ${count} texts`);
  return embeddings.map((vector: unknown, i) => toVector(vector, `embeddings[${i}]`, context));
}

export const OLLAMA_PROTOCOL: HttpEmbeddingProtocol = {
  name: OLLAMA_EMBEDDER_NAME,
  defaultBaseUrl: OLLAMA_DEFAULT_BASE_URL,
  endpoint: ollamaEmbedUrl,
  read: readOllamaEmbeddings,
  unreachableHint: `Is Ollama running (ollama serve)? Set --embed-url or PIRAMID_EMBED_URL if it is not at ${OLLAMA_DEFAULT_BASE_URL}.`,
  statusHint: (status, model) => (status === 404 ? `Is the model pulled? Run: ollama pull ${model}` : undefined),
};

/**
 * A ready `ollama` embedder (name `ollama`, model as given). Without `dimension`, one probe
 * request at creation learns it.
 */
export function createOllamaEmbedder(options: OllamaEmbedderOptions): Promise<Embedder> {
  return createHttpEmbedder(OLLAMA_PROTOCOL, options);
}
