import type { ErrorCode } from './engine/errors.js';

/**
 * Exit codes of the CLI, stable for scripts. 2 is also what oclif uses for unparseable flags.
 * Documented in docs/cli.md.
 */
export const EXIT = {
  internal: 1,
  usage: 2,
  notFound: 3,
  badInput: 4,
  locked: 5,
  exists: 6,
  embedder: 7,
  storage: 8,
  /** A piramid server refused the request: no API key, an unknown one, or a read-only one for a write. */
  auth: 9,
  /** `piramid verify` found problems (each reported with its code). */
  verifyFailed: 10,
  /** Stopped by Ctrl-C (128 + SIGINT), after storing the batch in hand. */
  interrupted: 130,
} as const;

const BY_CODE: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: EXIT.usage,
  INVALID_NAME: EXIT.usage,
  COLLECTION_NOT_FOUND: EXIT.notFound,
  DOCUMENT_NOT_FOUND: EXIT.notFound,
  INVALID_INPUT: EXIT.badInput,
  DIMENSION_MISMATCH: EXIT.badInput,
  DATABASE_LOCKED: EXIT.locked,
  COLLECTION_EXISTS: EXIT.exists,
  EMBEDDER_REQUIRED: EXIT.embedder,
  EMBEDDER_MISMATCH: EXIT.embedder,
  EMBEDDER_UNAVAILABLE: EXIT.embedder,
  EMBEDDER_AUTH: EXIT.embedder,
  DATABASE_CLOSED: EXIT.storage,
  FORMAT_UNSUPPORTED: EXIT.storage,
  INDEX_CORRUPT: EXIT.storage,
  NATIVE_UNAVAILABLE: EXIT.storage,
  IO_ERROR: EXIT.storage,
  DISK_FULL: EXIT.storage,
  READ_ONLY: EXIT.storage,
  WRITES_STOPPED: EXIT.storage,
  ARCHIVE_INVALID: EXIT.badInput,
  TARGET_EXISTS: EXIT.exists,
};

export function exitCodeFor(code: ErrorCode): number {
  return BY_CODE[code];
}
