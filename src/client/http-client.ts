import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { VerifyReport } from '../engine/database.js';
import type { CompactResult } from '../engine/ops/compact.js';
import type { QueryJson } from '../cli/query-runner.js';
import { ErrorCodes, PiramidError, type ErrorCode, type ErrorLocation } from '../engine/errors.js';
import type { ItemError } from '../engine/ingest/ingest.js';
import type { PayloadIndexKind } from '../engine/store/payload-index.js';
import type { DocumentView } from '../engine/types.js';
import type { BenchBody, CreateBody, IngestQuery, QueryBody, ScrollBody, TuningBody } from '../server/schemas.js';
import type { RecallBenchJson } from '../engine/bench/recall.js';
import type { TuningJson } from '../ui/tuning.js';
import type { StatsJson } from '../ui/stats.js';
import { EXIT } from '../exit-codes.js';
import { exchange, responseText } from './http-exchange.js';

/** One model of GET /v1/cache (as `piramid cache list --json`). */
export interface CacheModelJson {
  model: string;
  entries: number;
  hits: number;
  misses: number;
  hit_rate: number;
}

/** The answer of POST /v1/collections/:name/ingest. */
export interface IngestResponseJson {
  collection: string;
  created: boolean;
  read: number;
  added: number;
  updated: number;
  unchanged: number;
  skipped: number;
  records: number;
  /** Documents of the source folder deleted by prune. */
  pruned: number;
  interrupted: boolean;
  errors: ItemError[];
  took_ms: number;
}

export interface ClientOptions {
  /** Sent as the `api-key` header. */
  apiKey?: string;
  /** Per-request timeout for JSON requests, in ms (default 60 s); streaming ingest has none. */
  timeoutMs?: number;
}

/** An HTTP body the client streams (JSONL ingest): bytes or text chunks. */
export type StreamBody = AsyncIterable<Uint8Array | string>;

/**
 * An error the server reported with a code only the server has (UNAUTHORIZED, FORBIDDEN,
 * ROUTE_NOT_FOUND, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, INTERNAL). `code` is the nearest
 * engine code (for callers that switch on it); `wireCode` and `exitCode` are what the CLI reports.
 */
export class RemoteError extends PiramidError {
  constructor(
    readonly wireCode: string,
    readonly status: number,
    readonly exit: number,
    code: ErrorCode,
    message: string,
    options: { hint?: string; location?: ErrorLocation } = {},
  ) {
    super(code, message, options);
    this.name = 'RemoteError';
  }

  /** The error as the server (and `--json`) spells it: with the server's own code. */
  wireJson(): { code: string; message: string; hint?: string; location?: ErrorLocation } {
    return { ...this.toJSON(), code: this.wireCode };
  }
}

/** Server-only codes: the engine code they stand for, and the CLI exit code. */
const SERVER_CODES: Record<string, { code: ErrorCode; exit: number }> = {
  UNAUTHORIZED: { code: 'INVALID_ARGUMENT', exit: EXIT.auth },
  FORBIDDEN: { code: 'INVALID_ARGUMENT', exit: EXIT.auth },
  ROUTE_NOT_FOUND: { code: 'INVALID_ARGUMENT', exit: EXIT.usage },
  PAYLOAD_TOO_LARGE: { code: 'INVALID_INPUT', exit: EXIT.badInput },
  UNSUPPORTED_MEDIA_TYPE: { code: 'INVALID_ARGUMENT', exit: EXIT.usage },
  INTERNAL: { code: 'IO_ERROR', exit: EXIT.internal },
};

interface ErrorBodyJson {
  error?: { code?: unknown; message?: unknown; hint?: unknown; location?: unknown };
}

/**
 * A client of the native `/v1` API of `piramid serve`. Answers are the server's JSON (the same
 * shapes the CLI prints with --json); errors are PiramidErrors with the server's code, so a caller
 * sees what it would see running the engine in-process.
 */
export class PiramidClient {
  readonly url: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;

  constructor(url: string, options: ClientOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new PiramidError('INVALID_ARGUMENT', `"${url}" is not a URL.`, { hint: 'Example: --url http://127.0.0.1:6333' });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new PiramidError('INVALID_ARGUMENT', `"${url}" is not an http(s) URL.`, { hint: 'Example: --url http://127.0.0.1:6333' });
    }
    this.url = parsed.href.replace(/\/+$/, '');
    this.apiKey = options.apiKey === undefined || options.apiKey === '' ? undefined : options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** True when GET /healthz answers 200 within `timeoutMs` (never throws). */
  async health(timeoutMs = 2000): Promise<boolean> {
    try {
      const response = await exchange(`${this.url}/healthz`, { method: 'GET', headers: {}, signal: AbortSignal.timeout(timeoutMs) });
      response.resume();
      return response.statusCode === 200;
    } catch {
      return false;
    }
  }

  async listCollections(): Promise<StatsJson[]> {
    return (await this.request<{ collections: StatsJson[] }>('GET', '/v1/collections')).collections;
  }

  async info(name: string): Promise<StatsJson> {
    return this.request<StatsJson>('GET', `/v1/collections/${encodeURIComponent(name)}`);
  }

  async create(name: string, body: CreateBody): Promise<StatsJson> {
    return this.request<StatsJson>('PUT', `/v1/collections/${encodeURIComponent(name)}`, body);
  }

  async drop(name: string): Promise<{ dropped: string }> {
    return this.request<{ dropped: string }>('DELETE', `/v1/collections/${encodeURIComponent(name)}`);
  }

  async deleteDocuments(name: string, ids: string[], options: { sync?: boolean } = {}): Promise<{ deleted: number; not_found: string[] }> {
    return this.request('POST', `/v1/collections/${encodeURIComponent(name)}/documents/delete`, { ids, ...(options.sync === true ? { sync: true } : {}) });
  }

  async query(name: string, body: QueryBody): Promise<QueryJson> {
    return this.request<QueryJson>('POST', `/v1/collections/${encodeURIComponent(name)}/query`, body);
  }

  async getDocuments(name: string, ids: string[], options: { withVector?: boolean } = {}): Promise<{ documents: DocumentView[]; not_found: string[] }> {
    return this.request('POST', `/v1/collections/${encodeURIComponent(name)}/documents/get`, { ids, ...(options.withVector === true ? { with_vector: true } : {}) });
  }

  async scroll(name: string, body: ScrollBody): Promise<{ documents: DocumentView[]; next?: string }> {
    return this.request('POST', `/v1/collections/${encodeURIComponent(name)}/documents/scroll`, body);
  }

  async indexField(name: string, key: string, kind: PayloadIndexKind): Promise<{ collection: string; key: string; kind: PayloadIndexKind; indexed: number }> {
    return this.request('PUT', `/v1/collections/${encodeURIComponent(name)}/index-fields`, { key, kind });
  }

  async indexTuning(name: string): Promise<TuningJson> {
    return this.request('GET', `/v1/collections/${encodeURIComponent(name)}/index`);
  }

  async updateIndexTuning(name: string, body: TuningBody): Promise<TuningJson> {
    return this.request('PATCH', `/v1/collections/${encodeURIComponent(name)}`, body);
  }

  async bench(name: string, body: BenchBody): Promise<RecallBenchJson> {
    return this.request('POST', `/v1/collections/${encodeURIComponent(name)}/bench`, body);
  }

  async cacheStats(): Promise<{ models: CacheModelJson[] }> {
    return this.request('GET', '/v1/cache');
  }

  async clearCache(model?: string): Promise<{ removed: number }> {
    return this.request('DELETE', `/v1/cache${model === undefined ? '' : `?${new URLSearchParams({ model }).toString()}`}`);
  }

  /**
   * Streams JSONL (one document a line) to the ingest route: the body is sent as it is produced,
   * and the server writes batches as they arrive.
   */
  async ingest(name: string, body: StreamBody, query: IngestQuery = {}): Promise<IngestResponseJson> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (typeof value === 'string') params.set(key, value);
    const search = params.size === 0 ? '' : `?${params.toString()}`;
    return this.send<IngestResponseJson>('POST', `/v1/collections/${encodeURIComponent(name)}/ingest${search}`, {
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    });
  }

  /** Maintenance runs as long as it takes: no client timeout. */
  async verify(body: { collections?: string[]; repair?: boolean }): Promise<VerifyReport> {
    return this.send<VerifyReport>('POST', '/v1/verify', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  async compact(name: string): Promise<CompactResult> {
    return this.send<CompactResult>('POST', `/v1/collections/${encodeURIComponent(name)}/compact`, { headers: { 'content-type': 'application/json' }, body: '{}' });
  }

  /** Streams the server's backup archive (POST /v1/backup) into `out`; resolves once all of it is written. */
  async backup(out: Writable, body: { collections?: string[]; include_indexes?: boolean }): Promise<void> {
    const headers: Record<string, string> = { accept: 'application/gzip', 'content-type': 'application/json' };
    if (this.apiKey !== undefined) headers['api-key'] = this.apiKey;
    let response: IncomingMessage;
    try {
      response = await exchange(`${this.url}/v1/backup`, { method: 'POST', headers, body: JSON.stringify(body) });
    } catch (err) {
      throw this.connectionError(err);
    }
    if (response.statusCode !== 200) throw this.errorFrom(response.statusCode ?? 0, await responseText(response), 'POST /v1/backup');
    try {
      await pipeline(response, out);
    } catch (err) {
      throw this.connectionError(err);
    }
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.send<T>(method, path, {
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
  }

  private async send<T>(method: string, path: string, init: { headers?: Record<string, string>; body?: string | StreamBody; signal?: AbortSignal }): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    if (this.apiKey !== undefined) headers['api-key'] = this.apiKey;
    let status: number;
    let text: string;
    try {
      const response = await exchange(`${this.url}${path}`, { ...init, method, headers });
      status = response.statusCode ?? 0;
      text = await responseText(response);
    } catch (err) {
      throw this.connectionError(err);
    }
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new PiramidError('IO_ERROR', `The server at ${this.url} answered ${method} ${path} with something that is not JSON.`, {
          hint: 'Is that URL a piramid serve?',
        });
      }
    }
    throw this.errorFrom(status, text, `${method} ${path}`);
  }

  /** `{"error":{code,message,hint,location}}` to a PiramidError with the same code. */
  private errorFrom(status: number, text: string, what: string): PiramidError {
    let body: ErrorBodyJson | undefined;
    try {
      body = JSON.parse(text) as ErrorBodyJson;
    } catch {
      body = undefined;
    }
    const error = body?.error;
    const code = typeof error?.code === 'string' ? error.code : undefined;
    const message = typeof error?.message === 'string' ? error.message : `The server at ${this.url} answered ${what} with HTTP ${status}.`;
    const options: { hint?: string; location?: ErrorLocation } = {};
    if (typeof error?.hint === 'string') options.hint = error.hint;
    if (typeof error?.location === 'object' && error.location !== null) options.location = error.location as ErrorLocation;
    if (code !== undefined && (ErrorCodes as readonly string[]).includes(code)) return new PiramidError(code as ErrorCode, message, options);
    if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN') {
      const sent = this.apiKey !== undefined;
      const reason =
        code === 'FORBIDDEN'
          ? `The server at ${this.url} refused the request: the API key may only read (${message})`
          : `The server at ${this.url} refused the request: ${sent ? 'it does not know the API key sent' : 'it needs an API key and none was sent'}.`;
      return new RemoteError(code, status, EXIT.auth, 'INVALID_ARGUMENT', reason, {
        hint: code === 'FORBIDDEN' ? 'Use a read-write key (--api-key or PIRAMID_API_KEY).' : 'Pass --api-key KEY or set PIRAMID_API_KEY.',
      });
    }
    const known = code === undefined ? undefined : SERVER_CODES[code];
    const fallback = known ?? { code: status >= 500 ? ('IO_ERROR' as const) : ('INVALID_ARGUMENT' as const), exit: status >= 500 ? EXIT.internal : EXIT.usage };
    return new RemoteError(code ?? `HTTP_${status}`, status, fallback.exit, fallback.code, message, options);
  }

  private connectionError(err: unknown): PiramidError {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const name = (err as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new PiramidError('IO_ERROR', `The server at ${this.url} did not answer within ${Math.round(this.timeoutMs / 1000)} s.`, { cause: err });
    }
    const reason = (err as { code?: string }).code ?? cause?.code ?? cause?.message ?? (err as Error).message;
    return new PiramidError('IO_ERROR', `Cannot reach the piramid server at ${this.url} (${reason}).`, {
      hint: reason === 'ECONNREFUSED' ? 'Is `piramid serve` running there? Start it, or check --url / PIRAMID_URL.' : 'Check --url / PIRAMID_URL and the network.',
      cause: err,
    });
  }
}
