/**
 * What the HTTP embedding providers share: their options and their checks, batching, a limit on
 * requests in flight (across calls), the dimension probe and check, turning JSON numbers into
 * Float32Arrays, and messages for malformed answers. A provider only says where it posts and how
 * it reads an answer (`HttpEmbeddingProtocol`); `createHttpEmbedder` does the rest.
 *
 * A failing batch fails its `embed` call and cancels the call's other requests; `close()` cancels
 * every request in flight.
 */
import { PiramidError } from '../errors.js';
import type { Embedder } from './embedder.js';
import { checkRetryOptions, createQuoter, displayUrl, postJson, redactError, type HttpRetryOptions } from './http-client.js';

export interface HttpEmbedderOptions extends HttpRetryOptions {
  /** The provider's model name, e.g. `text-embedding-3-small`, `nomic-embed-text`. */
  readonly model: string;
  /** Where the server listens; each provider has its default. */
  readonly baseUrl?: string;
  /** Sent as `Authorization: Bearer <apiKey>`; never shown in messages. */
  readonly apiKey?: string;
  /** When given, every vector is checked against it; when absent, one probe request discovers it. */
  readonly dimension?: number;
  /** Most texts per request. Default 64. */
  readonly batchSize?: number;
  /** Most requests in flight at once, across all `embed` calls of one embedder. Default 4. */
  readonly concurrency?: number;
}

export const HTTP_EMBEDDER_DEFAULT_BATCH_SIZE = 64;
export const HTTP_EMBEDDER_DEFAULT_CONCURRENCY = 4;
/** The text embedded once at creation when the dimension is not given. */
export const DIMENSION_PROBE_TEXT = 'piramid dimension probe';

/**
 * Sends one batch and returns one vector per text, in the texts' order. Rejects with the signal's
 * reason when it aborts.
 */
export type SendBatch = (texts: readonly string[], signal: AbortSignal) => Promise<Float32Array[]>;

export interface BatchingEmbedderSpec {
  /** Provider name: `openai`, `ollama`. */
  readonly name: string;
  readonly model: string;
  /** The endpoint as shown in messages (no credentials). */
  readonly endpoint: string;
  readonly dimension?: number;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly send: SendBatch;
}

/** The request timing options out of a provider's options, for postJson. */
export function retryOptionsOf(options: HttpRetryOptions): HttpRetryOptions {
  const picked: { -readonly [K in keyof HttpRetryOptions]: HttpRetryOptions[K] } = {};
  if (options.timeoutMs !== undefined) picked.timeoutMs = options.timeoutMs;
  if (options.retries !== undefined) picked.retries = options.retries;
  if (options.retryBaseDelayMs !== undefined) picked.retryBaseDelayMs = options.retryBaseDelayMs;
  if (options.retryMaxDelayMs !== undefined) picked.retryMaxDelayMs = options.retryMaxDelayMs;
  if (options.onRetry !== undefined) picked.onRetry = options.onRetry;
  if (options.sleep !== undefined) picked.sleep = options.sleep;
  if (options.random !== undefined) picked.random = options.random;
  return picked;
}

/** `Authorization: Bearer <apiKey>` when there is a key. */
export function authorizationHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey === undefined || apiKey === '' ? {} : { authorization: `Bearer ${apiKey}` };
}

/** Validated options shared by the providers; INVALID_ARGUMENT names the bad one. */
export interface CheckedHttpEmbedderOptions {
  readonly model: string;
  readonly dimension: number | undefined;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly baseUrl: URL;
}

function positiveInteger(value: number | undefined, fallback: number | undefined, what: string, provider: string): number | undefined {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new PiramidError('INVALID_ARGUMENT', `The ${provider} embedder's ${what} must be a positive integer, got ${String(value)}.`);
  }
  return value;
}

export function checkHttpEmbedderOptions(options: HttpEmbedderOptions, provider: string, defaultBaseUrl: string): CheckedHttpEmbedderOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`The ${provider} embedder needs an options object.`);
  if (typeof options.model !== 'string' || options.model.trim() === '') {
    throw new PiramidError('INVALID_ARGUMENT', `The ${provider} embedder needs a model name.`, {
      hint: `Name it in the embedder spec, e.g. ${provider}:<model>.`,
    });
  }
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || /[\r\n]/.test(options.apiKey))) {
    throw new PiramidError('INVALID_ARGUMENT', `The ${provider} embedder's API key must be a single-line string.`);
  }
  checkRetryOptions(options);
  const rawUrl = options.baseUrl ?? defaultBaseUrl;
  let baseUrl: URL | undefined;
  try {
    baseUrl = new URL(rawUrl);
  } catch {
    baseUrl = undefined;
  }
  if (baseUrl === undefined || (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:')) {
    const shown = rawUrl.includes('@') ? '' : `, got "${rawUrl}"`; // it may hold a password
    throw new PiramidError('INVALID_ARGUMENT', `The ${provider} embedder's URL must be an http:// or https:// URL${shown}.`, {
      hint: `For example ${defaultBaseUrl}.`,
    });
  }
  if (baseUrl.username !== '' || baseUrl.password !== '') {
    throw new PiramidError('INVALID_ARGUMENT', `The ${provider} embedder's URL must not hold a user name or password.`, {
      hint: 'Pass the API key as the key option (sent as "Authorization: Bearer <key>") instead.',
    });
  }
  return {
    model: options.model,
    dimension: positiveInteger(options.dimension, undefined, 'dimension', provider),
    batchSize: positiveInteger(options.batchSize, HTTP_EMBEDDER_DEFAULT_BATCH_SIZE, 'batchSize', provider) as number,
    concurrency: positiveInteger(options.concurrency, HTTP_EMBEDDER_DEFAULT_CONCURRENCY, 'concurrency', provider) as number,
    baseUrl,
  };
}

/** `base` + `path`, keeping any path prefix `base` has (`http://host/proxy` + `v1/embeddings`). */
export function joinUrl(base: URL, path: string): URL {
  const joined = new URL(base.href);
  const tail = path.replace(/^\/+/, '');
  joined.pathname = `${joined.pathname.replace(/\/+$/, '')}${tail === '' ? '' : `/${tail}`}`;
  return joined;
}

/** What a protocol's reader needs to describe a bad answer. */
export interface ResponseContext {
  /** The endpoint as shown in messages. */
  readonly endpoint: string;
  /** A server-sent value as a short excerpt for a message, with any secret masked. */
  readonly quote: (value: unknown) => string;
}

/** EMBEDDER_UNAVAILABLE for a 2xx answer that does not hold what the protocol says. */
export function malformedResponse(context: ResponseContext, problem: string, body?: unknown): PiramidError {
  const shown = body === undefined ? '' : `: ${context.quote(body)}`;
  return new PiramidError('EMBEDDER_UNAVAILABLE', `${context.endpoint} returned a malformed response (${problem})${shown}`, {
    hint: `Check that ${context.endpoint} is the right endpoint for this provider, and that the model is an embedding model.`,
  });
}

/** A JSON array of finite numbers as a Float32Array; `where` names it in the error. */
export function toVector(value: unknown, where: string, context: ResponseContext): Float32Array {
  if (!Array.isArray(value)) throw malformedResponse(context, `${where} is not an array of numbers`);
  const vector = new Float32Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const x: unknown = value[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw malformedResponse(context, `${where}[${i}] is ${context.quote(JSON.stringify(x) ?? String(x))}, not a number`);
    }
    vector[i] = x;
  }
  return vector;
}

/** A FIFO limit on how many tasks run at once. */
class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {}

  async acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.active < this.max) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(grant);
        if (at !== -1) this.waiting.splice(at, 1);
        reject(signal.reason);
      };
      this.waiting.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Hands the slot to the next waiter, if any. */
  release(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.active--;
    else next();
  }
}

class BatchingEmbedder implements Embedder {
  readonly name: string;
  readonly model: string;
  private readonly source: VectorSource;
  private readonly batchSize: number;
  private readonly send: SendBatch;
  private readonly limiter: Limiter;
  private closed = false;

  constructor(
    spec: BatchingEmbedderSpec,
    readonly dimension: number,
    private readonly lifetime: AbortController,
  ) {
    this.name = spec.name;
    this.model = spec.model;
    this.source = { name: spec.name, model: spec.model, endpoint: spec.endpoint };
    this.batchSize = spec.batchSize;
    this.send = spec.send;
    this.limiter = new Limiter(spec.concurrency);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.closed) throw new Error(`The "${this.name}" embedder is closed.`);
    const notText = texts.findIndex((text) => typeof text !== 'string');
    if (notText !== -1) throw new TypeError(`Text ${notText} is not a string.`);
    if (texts.length === 0) return [];

    const out = new Array<Float32Array>(texts.length);
    // One controller per call: the first failing batch cancels the others (they then reject with
    // the same error), and close() cancels everything.
    const call = new AbortController();
    const onClose = (): void => call.abort(this.lifetime.signal.reason);
    this.lifetime.signal.addEventListener('abort', onClose, { once: true });
    try {
      const jobs: Promise<void>[] = [];
      for (let start = 0; start < texts.length; start += this.batchSize) {
        const job = this.runBatch(texts.slice(start, start + this.batchSize), start, out, call.signal);
        jobs.push(
          job.catch((err: unknown) => {
            if (!call.signal.aborted) call.abort(err);
            throw err;
          }),
        );
      }
      await Promise.all(jobs);
    } finally {
      this.lifetime.signal.removeEventListener('abort', onClose);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lifetime.abort(new Error(`The "${this.name}" embedder was closed while embedding.`));
  }

  private async runBatch(batch: readonly string[], offset: number, out: Float32Array[], signal: AbortSignal): Promise<void> {
    await this.limiter.acquire(signal);
    try {
      signal.throwIfAborted();
      const vectors = await this.send(batch, signal);
      checkVectors(vectors, batch.length, this.dimension, this.source);
      vectors.forEach((vector, i) => {
        out[offset + i] = vector;
      });
    } finally {
      this.limiter.release();
    }
  }
}

interface VectorSource {
  readonly name: string;
  readonly model: string;
  readonly endpoint: string;
}

/** A context for messages that quote nothing the server sent. */
function bare(endpoint: string): ResponseContext {
  return { endpoint, quote: () => '…' };
}

function checkVectors(vectors: readonly Float32Array[], expectedCount: number, dimension: number, source: VectorSource): void {
  if (vectors.length !== expectedCount) {
    throw malformedResponse(bare(source.endpoint), `${vectors.length} vectors for ${expectedCount} texts`);
  }
  for (const vector of vectors) {
    if (vector.length !== dimension) {
      throw new PiramidError(
        'DIMENSION_MISMATCH',
        `The ${source.name} model "${source.model}" at ${source.endpoint} returned vectors of dimension ${vector.length}, expected ${dimension}.`,
        {
          hint: `Vectors of dimension ${dimension} were asked for (the collection's dimension): use the model the collection was created with, or a new collection for this model.`,
        },
      );
    }
  }
}

/**
 * A ready embedder over `spec.send`. Without `spec.dimension`, embeds one probe text to learn it.
 */
export async function createBatchingEmbedder(spec: BatchingEmbedderSpec): Promise<Embedder> {
  const lifetime = new AbortController();
  let dimension = spec.dimension;
  if (dimension === undefined) {
    const probe = await spec.send([DIMENSION_PROBE_TEXT], lifetime.signal);
    if (probe.length !== 1) throw malformedResponse(bare(spec.endpoint), `${probe.length} vectors for 1 text`);
    dimension = probe[0]?.length ?? 0;
    if (dimension === 0) throw malformedResponse(bare(spec.endpoint), 'an empty vector');
  }
  return new BatchingEmbedder(spec, dimension, lifetime);
}

/** How one HTTP provider speaks: where it posts, and how it reads the answer. */
export interface HttpEmbeddingProtocol {
  /** Provider name: `openai`, `ollama`. */
  readonly name: string;
  readonly defaultBaseUrl: string;
  /** The endpoint under the (validated) base URL. */
  readonly endpoint: (baseUrl: URL) => URL;
  /** One vector per text from a 2xx JSON body, in input order; malformedResponse otherwise. */
  readonly read: (body: unknown, count: number, context: ResponseContext) => Float32Array[];
  /** Hint for a server that cannot be reached; postJson's generic one otherwise. */
  readonly unreachableHint?: string;
  /** Hint for an HTTP error status; `undefined` keeps postJson's generic one. */
  readonly statusHint?: (status: number, model: string) => string | undefined;
}

/**
 * A ready embedder posting `{ model, input: texts }` to the protocol's endpoint. Without
 * `options.dimension`, one probe request at creation learns it (and shows at once whether the
 * server is there and has the model).
 */
export async function createHttpEmbedder(protocol: HttpEmbeddingProtocol, options: HttpEmbedderOptions): Promise<Embedder> {
  const checked = checkHttpEmbedderOptions(options, protocol.name, protocol.defaultBaseUrl);
  const url = protocol.endpoint(checked.baseUrl);
  const endpoint = displayUrl(url);
  const { statusHint, unreachableHint } = protocol;
  const headers = authorizationHeaders(options.apiKey);
  const context: ResponseContext = { endpoint, quote: createQuoter(headers) };
  const request = {
    ...retryOptionsOf(options),
    headers,
    ...(unreachableHint === undefined ? {} : { unreachableHint }),
    ...(statusHint === undefined ? {} : { statusHint: (status: number) => statusHint(status, checked.model) }),
  };
  const send: SendBatch = async (texts, signal) => {
    const body = await postJson(url, { model: checked.model, input: texts }, { ...request, signal });
    try {
      return protocol.read(body, texts.length, context);
    } catch (err) {
      throw redactError(err, [], headers); // quotes are masked already; this catches any other echo
    }
  };
  return createBatchingEmbedder({
    name: protocol.name,
    model: checked.model,
    endpoint,
    ...(checked.dimension === undefined ? {} : { dimension: checked.dimension }),
    batchSize: checked.batchSize,
    concurrency: checked.concurrency,
    send,
  });
}
