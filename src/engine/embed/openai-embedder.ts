/**
 * The `openai` embedder: any server speaking OpenAI's `POST /v1/embeddings` — OpenAI itself,
 * Ollama (`http://127.0.0.1:11434/v1`), llama.cpp's server, vLLM, LM Studio, Hugging Face TEI.
 *
 * Request `{ model, input: string[] }`; response `{ data: [{ embedding: number[], index }] }`,
 * put back in input order by `index`. Batching, concurrency, retries and the dimension checks are
 * shared with the other HTTP providers (`batching-embedder.ts`, `http-client.ts`).
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

export const OPENAI_EMBEDDER_NAME = 'openai';
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com';

export type OpenAIEmbedderOptions = HttpEmbedderOptions;

/**
 * The embeddings endpoint under a base URL: `https://api.openai.com` → `…/v1/embeddings`; a base
 * that already ends in `/v1` (`http://127.0.0.1:11434/v1`) or `/v1/embeddings` is kept.
 */
export function openAIEmbeddingsUrl(baseUrl: string | URL): URL {
  const base = new URL(baseUrl);
  const path = base.pathname.replace(/\/+$/, '');
  if (/\/v1\/embeddings$/.test(path)) return joinUrl(base, '');
  if (/\/v1$/.test(path)) return joinUrl(base, 'embeddings');
  return joinUrl(base, 'v1/embeddings');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Little-endian float32 bytes, as servers send for `encoding_format: "base64"`. */
function fromBase64(text: string, where: string, context: ResponseContext): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength === 0 || bytes.byteLength % 4 !== 0) throw malformedResponse(context, `${where} is not base64 float32 data`);
  const vector = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatLE(i * 4);
  return vector;
}

/** The vectors of an OpenAI embeddings response, in input order. */
export function readOpenAIEmbeddings(body: unknown, count: number, context: ResponseContext): Float32Array[] {
  if (!isRecord(body) || !Array.isArray(body.data)) throw malformedResponse(context, 'no "data" array', body);
  const data: unknown[] = body.data;
  if (data.length !== count) throw malformedResponse(context, `${data.length} embeddings for ${count} texts`);
  const out = new Array<Float32Array | undefined>(count).fill(undefined);
  data.forEach((item, position) => {
    if (!isRecord(item)) throw malformedResponse(context, `data[${position}] is not an object`);
    const index = item.index === undefined ? position : item.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || out[index] !== undefined) {
      throw malformedResponse(context, `data[${position}].index is ${context.quote(JSON.stringify(item.index) ?? 'missing')}: not a distinct index below ${count}`);
    }
    const where = `data[${position}].embedding`;
    out[index] = typeof item.embedding === 'string' ? fromBase64(item.embedding, where, context) : toVector(item.embedding, where, context);
  });
  return out as Float32Array[];
}

export const OPENAI_PROTOCOL: HttpEmbeddingProtocol = {
  name: OPENAI_EMBEDDER_NAME,
  defaultBaseUrl: OPENAI_DEFAULT_BASE_URL,
  endpoint: openAIEmbeddingsUrl,
  read: readOpenAIEmbeddings,
  statusHint: (status, model) =>
    status === 404 ? `Check the URL (it should lead to …/v1/embeddings) and that the server has the model "${model}".` : undefined,
};

/**
 * A ready `openai` embedder (name `openai`, model as given). Without `dimension`, one probe
 * request at creation learns it.
 */
export function createOpenAIEmbedder(options: OpenAIEmbedderOptions): Promise<Embedder> {
  return createHttpEmbedder(OPENAI_PROTOCOL, options);
}
