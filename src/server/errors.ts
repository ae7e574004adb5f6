import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isPiramidError, type ErrorCode, type ErrorLocation } from '../engine/errors.js';

/**
 * Codes only the server produces, beside the engine's ErrorCodes: they describe the HTTP exchange
 * (no key, wrong key, a body too big or of the wrong type), not the data. Stable like the engine's.
 */
export const ServerErrorCodes = ['UNAUTHORIZED', 'FORBIDDEN', 'ROUTE_NOT_FOUND', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'INTERNAL'] as const;
export type ServerErrorCode = (typeof ServerErrorCodes)[number];

/** The body of every error response: `{"error": {...}}`, as `piramid <command> --json` prints. */
export interface ErrorBody {
  error: { code: ErrorCode | ServerErrorCode; message: string; hint?: string; location?: ErrorLocation };
}

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  COLLECTION_NOT_FOUND: 404,
  DOCUMENT_NOT_FOUND: 404,
  COLLECTION_EXISTS: 409,
  INVALID_NAME: 400,
  INVALID_ARGUMENT: 400,
  INVALID_INPUT: 400,
  DIMENSION_MISMATCH: 400,
  EMBEDDER_REQUIRED: 400,
  EMBEDDER_MISMATCH: 409,
  EMBEDDER_UNAVAILABLE: 502,
  EMBEDDER_AUTH: 502,
  DATABASE_LOCKED: 423,
  DATABASE_CLOSED: 503,
  FORMAT_UNSUPPORTED: 500,
  INDEX_CORRUPT: 500,
  NATIVE_UNAVAILABLE: 500,
  IO_ERROR: 500,
  DISK_FULL: 507,
  READ_ONLY: 503,
  WRITES_STOPPED: 503,
  ARCHIVE_INVALID: 400,
  TARGET_EXISTS: 409,
};

export function httpStatusFor(code: ErrorCode): number {
  return STATUS_BY_CODE[code];
}

/** An error the server raises itself (auth, media type), turned into a response by the handler. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ServerErrorCode | ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/documents/0/vector` + a missing `id` -> `documents[0].vector.id`: the engine's field notation. */
export function fieldPath(issue: AjvIssue, context: string | undefined): string {
  const parts = issue.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = issue.params.missingProperty ?? issue.params.additionalProperty;
  if (typeof extra === 'string') parts.push(extra);
  let path = '';
  for (const part of parts) path += /^\d+$/.test(part) ? `[${part}]` : path === '' ? part : `.${part}`;
  if (path === '' && context !== undefined && context !== 'body') return context;
  return path === '' ? '(body)' : path;
}

/**
 * The issue to report: the one deepest in the body. A union (`index`: a kind name, or an object)
 * fails every branch; its deepest issue (`index.datatype`) is the one the caller got wrong, not the
 * first branch's "must be string".
 */
function mostSpecific(issues: AjvIssue[] | undefined): AjvIssue | undefined {
  let best: AjvIssue | undefined;
  for (const issue of issues ?? []) {
    if (best === undefined || issue.instancePath.split('/').length > best.instancePath.split('/').length) best = issue;
  }
  return best;
}

function validationBody(err: FastifyError): ErrorBody {
  const issue = mostSpecific(err.validation as AjvIssue[] | undefined);
  const context = err.validationContext;
  if (issue === undefined) return { error: { code: 'INVALID_ARGUMENT', message: err.message } };
  const field = fieldPath(issue, context);
  let reason = issue.message ?? 'is not valid';
  if (issue.keyword === 'additionalProperties') reason = 'is not a known field';
  if (issue.keyword === 'required') reason = 'is required';
  if (issue.keyword === 'enum' && Array.isArray(issue.params.allowedValues)) reason = `must be one of: ${issue.params.allowedValues.join(', ')}`;
  const where = context === 'params' ? 'path parameter' : context === 'querystring' ? 'query parameter' : 'field';
  return { error: { code: 'INVALID_ARGUMENT', message: `${where} ${field} ${reason}.`, location: { field } } };
}

/** Engine errors by code, validation errors with the field at fault, Fastify's own by status. */
export function errorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (isPiramidError(err)) return { status: httpStatusFor(err.code), body: { error: err.toJSON() } };
  if (err instanceof HttpError) {
    return { status: err.statusCode, body: { error: { code: err.code, message: err.message, ...(err.hint === undefined ? {} : { hint: err.hint }) } } };
  }
  const fastifyError = err as Partial<FastifyError>;
  if (fastifyError.validation !== undefined) return { status: 400, body: validationBody(fastifyError as FastifyError) };
  const status = fastifyError.statusCode;
  const message = fastifyError.message ?? String(err);
  if (status === 413 || fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is larger than the server accepts.', hint: 'Send fewer documents per request, or stream them to the ingest route as JSONL.' } } };
  }
  if (status === 415) {
    return { status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message, hint: 'Send application/json (or application/x-ndjson to the ingest route).' } } };
  }
  if (status !== undefined && status >= 400 && status < 500) return { status, body: { error: { code: 'INVALID_ARGUMENT', message } } };
  return { status: 500, body: { error: { code: 'INTERNAL', message } } };
}

export function errorHandler(this: unknown, err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = errorResponse(err);
  if (status >= 500) request.log.error({ err }, 'request failed');
  void reply.status(status).send(body);
}
