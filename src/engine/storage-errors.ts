import { PiramidError } from './errors.js';

/**
 * Turns the file-system failures a user can fix (a full disk, a read-only folder) into coded
 * errors that say so. LevelDB reports them as "IO error: <file>: No space left on device" inside
 * its own error's cause chain; node's fs reports errno codes. Anything else is returned unchanged.
 */
export function asStorageError(err: unknown, folder: string): unknown {
  if (err instanceof PiramidError) return err;
  const text = describeChain(err);
  if (/ENOSPC|No space left on device/i.test(text)) {
    return new PiramidError('DISK_FULL', `The disk holding ${folder} is full: the write was refused.`, {
      hint: 'Free some space and run the command again. Everything acknowledged before this error is stored; the database opens as before.',
      cause: err,
    });
  }
  if (/EROFS|Read-only file system|EACCES|EPERM|Permission denied/i.test(text)) {
    return new PiramidError('READ_ONLY', `The data folder ${folder} cannot be written (read-only file system or no permission).`, {
      hint: 'piramid needs write access to its data folder, also to read it (LevelDB keeps a lock and a log there). Copy it somewhere writable, or fix its permissions.',
      cause: err,
    });
  }
  return err;
}

/** Messages and codes of an error and its causes, for matching. */
function describeChain(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (typeof current !== 'object') {
      parts.push(String(current));
      break;
    }
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string') parts.push(code);
    if (typeof message === 'string') parts.push(message);
    current = cause;
  }
  return parts.join(' | ');
}
