/**
 * A small JSON POST helper on Node's global `fetch`, for the HTTP embedding providers.
 *
 * - Each attempt has its own timeout (`AbortSignal.timeout`), which covers reading the body too.
 * - HTTP 429, 500, 502, 503, 504, timeouts and connection failures (refused, reset, DNS...) are
 *   retried with exponential backoff and full jitter; a `Retry-After` header (seconds or an
 *   HTTP-date; or `retry-after-ms`) replaces the backoff, capped by `retryMaxDelayMs`. Other
 *   statuses, and answers that are not JSON, fail at once.
 * - Failures are PiramidErrors that name the URL (without credentials or query), the status and a
 *   short excerpt of the body, with a hint. Authorization header values are redacted from every
 *   message, even when a server echoes them back.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { PiramidError, type ErrorCode } from '../errors.js';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Why a request is about to be tried again, for progress reporting. */
export interface RetryEvent {
  /** The URL, without credentials or query. */
  readonly url: string;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** How long until the next one. */
  readonly delayMs: number;
  /** e.g. `HTTP 429 Too Many Requests`, `ECONNREFUSED`, `timed out after 30000 ms`. */
  readonly reason: string;
}

export interface HttpRetryOptions {
  /** Per attempt, including reading the response. Default 30000. */
  readonly timeoutMs?: number;
  /** Further attempts after the first one fails with a retryable error. Default 5. */
  readonly retries?: number;
  /** Backoff before retry n (from 0) is a random delay in [0, min(max, base × 2^n)). Default 500. */
  readonly retryBaseDelayMs?: number;
  /** Upper bound of any wait between attempts, `Retry-After` included. Default 20000. */
  readonly retryMaxDelayMs?: number;
  /** Called before each wait between attempts. */
  readonly onRetry?: (event: RetryEvent) => void;
  /** Replaces the real timer (tests). Must reject when `signal` aborts. */
  readonly sleep?: Sleep;
  /** Replaces Math.random for the jitter (tests). */
  readonly random?: () => number;
}

export interface PostJsonOptions extends HttpRetryOptions {
  /** Sent with every attempt, after `content-type` and `accept`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Aborts the request and any wait; the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Hint for a server that cannot be reached (refused, unknown host, timeouts). */
  readonly unreachableHint?: string;
  /** A hint for an HTTP error status, in place of the generic one; `undefined` keeps the generic. */
  readonly statusHint?: (status: number, body: string) => string | undefined;
  /** Strings never to show in a message, besides the Authorization header values. */
  readonly secrets?: readonly string[];
}

export const HTTP_DEFAULT_TIMEOUT_MS = 30_000;
export const HTTP_DEFAULT_RETRIES = 5;
export const HTTP_DEFAULT_RETRY_BASE_DELAY_MS = 500;
export const HTTP_DEFAULT_RETRY_MAX_DELAY_MS = 20_000;

const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);
const AUTH_STATUSES: ReadonlySet<number> = new Set([401, 403]);
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'api-key', 'x-api-key']);
const CONNECT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const NETWORK_CODES: ReadonlySet<string> = new Set([...CONNECT_CODES, 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT']);
/** Retrying does not help: the name does not resolve, or the URL is unusable. */
const PERMANENT_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'ERR_INVALID_URL']);
const EXCERPT_LENGTH = 200;
const DEFAULT_UNREACHABLE_HINT = 'Is the server running? Set --embed-url or PIRAMID_EMBED_URL.';

const defaultSleep: Sleep = async (ms, signal) => {
  await delay(ms, undefined, signal === undefined ? undefined : { signal });
};

/** The URL as shown in messages: no user name, password, query or fragment. */
export function displayUrl(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search === '' ? '' : '?…'}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Milliseconds to wait according to a `Retry-After` header: a number of seconds or an HTTP-date.
 * `undefined` when the header is absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Full jitter: a random delay in [0, min(max, base × 2^retry)). */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

function checkInteger(value: number | undefined, fallback: number, what: string, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new PiramidError('INVALID_ARGUMENT', `${what} must be an integer ≥ ${min}, got ${String(value)}.`);
  }
  return value;
}

/** The timing options with their defaults; INVALID_ARGUMENT for a value that is not a fit integer. */
export function checkRetryOptions(options: HttpRetryOptions): Required<Pick<HttpRetryOptions, 'timeoutMs' | 'retries' | 'retryBaseDelayMs' | 'retryMaxDelayMs'>> {
  return {
    timeoutMs: checkInteger(options.timeoutMs, HTTP_DEFAULT_TIMEOUT_MS, 'timeoutMs', 1),
    retries: checkInteger(options.retries, HTTP_DEFAULT_RETRIES, 'retries', 0),
    retryBaseDelayMs: checkInteger(options.retryBaseDelayMs, HTTP_DEFAULT_RETRY_BASE_DELAY_MS, 'retryBaseDelayMs', 0),
    retryMaxDelayMs: checkInteger(options.retryMaxDelayMs, HTTP_DEFAULT_RETRY_MAX_DELAY_MS, 'retryMaxDelayMs', 0),
  };
}

/** A request that failed in a way worth another attempt, or not. */
interface AttemptFailure {
  readonly retryable: boolean;
  /** Short, for RetryEvent: `HTTP 503 Service Unavailable`, `ECONNREFUSED`, `timed out after 100 ms`. */
  readonly reason: string;
  readonly code: ErrorCode;
  /** The message up to where the attempt count goes: `POST <url> failed with HTTP 503`. */
  readonly head: string;
  /** After a colon at the end of the message: the body excerpt. */
  readonly detail?: string;
  readonly hint: string;
  readonly cause?: unknown;
  /** From `Retry-After`, when the server said. */
  readonly retryAfterMs?: number;
}

function failureError(failure: AttemptFailure, attempts: number): PiramidError {
  const count = attempts > 1 ? ` (${attempts} attempts)` : '';
  const tail = failure.detail === undefined ? '.' : `: ${failure.detail}`;
  return new PiramidError(failure.code, `${failure.head}${count}${tail}`, {
    hint: failure.hint,
    ...(failure.cause === undefined ? {} : { cause: failure.cause }),
  });
}

class Redactor {
  private readonly secrets: string[];

  constructor(headers: Readonly<Record<string, string>>, extra: readonly string[]) {
    const found = new Set<string>();
    for (const [name, value] of Object.entries(headers)) {
      if (!SECRET_HEADERS.has(name.toLowerCase())) continue;
      found.add(value);
      const token = /^\s*\S+\s+(.+)$/.exec(value)?.[1]; // "Bearer <token>" -> "<token>"
      if (token !== undefined) found.add(token.trim());
    }
    for (const secret of extra) found.add(secret);
    // Longest first, so that "Bearer sk-1" goes before "sk-1"; short strings are not worth hiding.
    this.secrets = [...found].filter((secret) => secret.length >= 4).sort((a, b) => b.length - a.length);
  }

  apply(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('[redacted]');
    return out;
  }
}

/**
 * Shows server-sent values in messages: JSON (strings as they are), secrets masked first, then
 * cut to a short excerpt, so that no part of a secret survives the cut.
 */
export function createQuoter(headers: Readonly<Record<string, string>>, secrets: readonly string[] = []): (value: unknown) => string {
  const redactor = new Redactor(headers, secrets);
  return (value) => {
    const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
    return excerpt(redactor.apply(text));
  };
}

/**
 * `err` with every secret (and every Authorization value in `headers`) replaced by `[redacted]`
 * in its message and hint, for errors raised outside postJson from what a server sent.
 */
export function redactError(err: unknown, secrets: readonly string[], headers: Readonly<Record<string, string>> = {}): unknown {
  if (!(err instanceof PiramidError)) return err;
  const redactor = new Redactor(headers, secrets);
  const message = redactor.apply(err.message);
  const hint = err.hint === undefined ? undefined : redactor.apply(err.hint);
  if (message === err.message && hint === err.hint) return err;
  return new PiramidError(err.code, message, {
    ...(hint === undefined ? {} : { hint }),
    ...(err.location === undefined ? {} : { location: err.location }),
    ...(err.cause === undefined ? {} : { cause: err.cause }),
  });
}

/** A user name, password or query in the URL may be credentials: never show them. */
function urlSecrets(url: string | URL): string[] {
  try {
    const parsed = new URL(url);
    return [parsed.username, parsed.password, ...[...parsed.searchParams.values()]].flatMap((value) => [value, encodeURIComponent(value)]);
  } catch {
    return [];
  }
}

/** The first characters of a body, on one line, for a message. */
function excerpt(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > EXCERPT_LENGTH ? `${line.slice(0, EXCERPT_LENGTH)}…` : line;
}

interface NetworkFailure {
  /** `ECONNREFUSED`, `ECONNRESET`, or the cause's message (`bad port`). */
  readonly detail: string;
  readonly retryable: boolean;
  /** The server could not be reached at all (refused, unknown host...). */
  readonly connect: boolean;
}

/**
 * What went wrong below HTTP, or `undefined` when the error is something else. Node's fetch
 * rejects with TypeError('fetch failed') and the socket error as its cause, and a body cut short
 * with TypeError('terminated').
 */
function networkFailure(err: unknown): NetworkFailure | undefined {
  if (!(err instanceof Error)) return undefined;
  let code: string | undefined;
  let innermost: Error = err;
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    innermost = current;
    const found = (current as Error & { code?: unknown }).code;
    if (code === undefined && typeof found === 'string' && found !== '') code = found;
    current = current.cause;
  }
  const fromFetch = err instanceof TypeError && (err.message === 'fetch failed' || err.message === 'terminated');
  if (code !== undefined && (fromFetch || NETWORK_CODES.has(code) || code.startsWith('UND_ERR_'))) {
    return { detail: code, retryable: !PERMANENT_CODES.has(code), connect: CONNECT_CODES.has(code) };
  }
  if (!fromFetch) return undefined;
  const detail = innermost === err ? (err.message === 'terminated' ? 'connection terminated' : err.message) : innermost.message;
  // fetch refuses some ports outright (1, 9, 6000...: the browsers' "bad ports"): no use retrying.
  if (detail === 'bad port') return { detail: 'a port fetch refuses to use', retryable: false, connect: true };
  return { detail, retryable: true, connect: false };
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/**
 * POSTs `body` as JSON to `url` and returns the parsed JSON response of a 2xx answer.
 * Throws PiramidError: `EMBEDDER_AUTH` for 401/403, `EMBEDDER_UNAVAILABLE` for everything else
 * (unreachable, timeouts, retries used up, other statuses, a body that is not JSON).
 */
export async function postJson(url: string | URL, body: unknown, options: PostJsonOptions = {}): Promise<unknown> {
  const { timeoutMs, retries, retryBaseDelayMs: baseDelay, retryMaxDelayMs: maxDelay } = checkRetryOptions(options);
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const headers = options.headers ?? {};
  const redactor = new Redactor(headers, [...(options.secrets ?? []), ...urlSecrets(url)]);
  const shown = displayUrl(url);
  const payload = JSON.stringify(body);
  const external = options.signal;

  for (let attempt = 1; ; attempt++) {
    external?.throwIfAborted();
    const outcome = await attemptOnce(url, payload, headers, timeoutMs, external, shown, redactor, options);
    if (!('failure' in outcome)) return outcome.value;
    const failure = outcome.failure;
    if (!failure.retryable || attempt > retries) throw failureError(failure, attempt);
    const wait = Math.min(maxDelay, failure.retryAfterMs ?? backoffDelay(attempt - 1, baseDelay, maxDelay, random));
    options.onRetry?.({ url: shown, attempt, delayMs: wait, reason: failure.reason });
    try {
      await sleep(wait, external);
    } catch (err) {
      if (external?.aborted === true) throw external.reason;
      throw err;
    }
  }
}

async function attemptOnce(
  url: string | URL,
  payload: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
  external: AbortSignal | undefined,
  shown: string,
  redactor: Redactor,
  options: PostJsonOptions,
): Promise<{ value: unknown } | { failure: AttemptFailure }> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = external === undefined ? timeout : AbortSignal.any([external, timeout]);
  const unreachableHint = options.unreachableHint ?? DEFAULT_UNREACHABLE_HINT;
  let status = 0;
  let statusText = '';
  let retryAfterMs: number | undefined;
  let text: string;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: payload,
      signal,
    });
    status = response.status;
    statusText = response.statusText;
    // `retry-after-ms` (OpenAI, Azure) is finer than the standard `retry-after`.
    const ms = Number(response.headers.get('retry-after-ms') ?? Number.NaN);
    retryAfterMs = Number.isFinite(ms) && ms >= 0 ? Math.round(ms) : parseRetryAfter(response.headers.get('retry-after'));
    text = await response.text();
  } catch (err) {
    if (external?.aborted === true) throw external.reason;
    if (timeout.aborted || isAbortError(err)) {
      const reason = `timed out after ${timeoutMs} ms`;
      const where = status === 0 ? 'waiting for a response' : `reading the HTTP ${status} response`;
      return {
        failure: {
          retryable: true,
          reason,
          code: 'EMBEDDER_UNAVAILABLE',
          head: `POST ${shown} ${reason} ${where}`,
          hint: `The server may be overloaded or still loading the model: raise the timeout, or send smaller batches. ${unreachableHint}`,
          cause: err,
        },
      };
    }
    const network = networkFailure(err);
    const detail = redactor.apply(network?.detail ?? (err instanceof Error ? err.message : String(err)));
    const connect = network?.connect ?? false;
    return {
      failure: {
        retryable: network?.retryable ?? false,
        reason: detail,
        code: 'EMBEDDER_UNAVAILABLE',
        head: connect ? `Could not connect to ${shown} (${detail})` : `POST ${shown} failed (${detail})`,
        hint: unreachableHint,
        cause: err,
      },
    };
  }

  const statusLine = `HTTP ${status}${statusText === '' ? '' : ` ${statusText}`}`;
  if (status >= 200 && status < 300) {
    try {
      return { value: JSON.parse(text) as unknown };
    } catch (err) {
      return {
        failure: {
          retryable: false,
          reason: 'not JSON',
          code: 'EMBEDDER_UNAVAILABLE',
          head: `POST ${shown} answered ${statusLine} with a body that is not JSON`,
          detail: excerpt(redactor.apply(text)) || '(empty)',
          hint: `Check that ${shown} is the right endpoint for this provider.`,
          cause: err,
        },
      };
    }
  }

  const bodyExcerpt = excerpt(redactor.apply(text));
  return {
    failure: {
      retryable: RETRYABLE_STATUSES.has(status),
      reason: statusLine,
      code: AUTH_STATUSES.has(status) ? 'EMBEDDER_AUTH' : 'EMBEDDER_UNAVAILABLE',
      head: `POST ${shown} failed with ${statusLine}`,
      ...(bodyExcerpt === '' ? {} : { detail: bodyExcerpt }),
      hint: redactor.apply(options.statusHint?.(status, text) ?? genericStatusHint(status)),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    },
  };
}

function genericStatusHint(status: number): string {
  if (status === 401 || status === 403) return 'The server refused the credentials: check the API key (or whether this server needs one).';
  if (status === 404) return 'Check the URL and the model name.';
  if (status === 413) return 'The request was too large: send smaller batches.';
  if (status === 429) return 'The server is rate limiting: wait, or lower the concurrency.';
  if (status >= 500) return 'The server failed: it may be overloaded, or unable to load the model; its log says more.';
  return 'The server refused the request: check the model name and the options.';
}
