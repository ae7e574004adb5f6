/**
 * Errors a user can cause carry a stable code (never renamed: scripts and the HTTP API depend on
 * them), a message naming what was wrong, and a hint saying what to do. Messages may change.
 * Programmer misuse throws TypeError instead.
 */
export const ErrorCodes = [
  'COLLECTION_NOT_FOUND',
  'COLLECTION_EXISTS',
  'DOCUMENT_NOT_FOUND',
  'INVALID_NAME',
  'INVALID_ARGUMENT',
  'INVALID_INPUT',
  'DIMENSION_MISMATCH',
  'EMBEDDER_REQUIRED',
  'EMBEDDER_MISMATCH',
  'EMBEDDER_UNAVAILABLE',
  'EMBEDDER_AUTH',
  'DATABASE_LOCKED',
  'DATABASE_CLOSED',
  'FORMAT_UNSUPPORTED',
  'INDEX_CORRUPT',
  'NATIVE_UNAVAILABLE',
  'IO_ERROR',
  /** The disk holding the data folder is full: the write was refused, nothing acknowledged is lost. */
  'DISK_FULL',
  /** The data folder (or the disk) is read-only. */
  'READ_ONLY',
  /** A write failed earlier in this process: no more are taken until the folder is opened again. */
  'WRITES_STOPPED',
  /** A backup archive failed a check (truncated, corrupted, not a piramid backup). */
  'ARCHIVE_INVALID',
  /** A restore would overwrite existing data without --force. */
  'TARGET_EXISTS',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

/** Where in an input a problem was found; every field optional because inputs differ. */
export interface ErrorLocation {
  file?: string;
  line?: number;
  /** Position in a JSON array input (0-based). */
  item?: number;
  field?: string;
  /** Position in a one-line text input such as `--where` (1-based, in characters). */
  column?: number;
}

export interface PiramidErrorOptions {
  hint?: string;
  location?: ErrorLocation;
  cause?: unknown;
}

export class PiramidError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly location: ErrorLocation | undefined;

  constructor(code: ErrorCode, message: string, options: PiramidErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PiramidError';
    this.code = code;
    this.hint = options.hint;
    this.location = options.location;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; location?: ErrorLocation } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.location === undefined ? {} : { location: this.location }),
    };
  }
}

export function isPiramidError(err: unknown, code?: ErrorCode): err is PiramidError {
  return err instanceof PiramidError && (code === undefined || err.code === code);
}

/** "docs.jsonl line 3, field vector" — the prefix used for input errors. */
export function describeLocation(location: ErrorLocation): string {
  const parts: string[] = [];
  if (location.file !== undefined) parts.push(location.file);
  if (location.line !== undefined) parts.push(`line ${location.line}`);
  if (location.column !== undefined) parts.push(`column ${location.column}`);
  if (location.item !== undefined) parts.push(`item ${location.item}`);
  if (location.field !== undefined) parts.push(`field "${location.field}"`);
  return parts.join(', ');
}
