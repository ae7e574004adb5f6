import { Level } from 'level';
import { PiramidError } from '../errors.js';
import { asStorageError } from '../storage-errors.js';

/** The write entry points every abstract-level database implements (its "private API for implementors"). */
interface LevelWrites {
  _put(...args: unknown[]): Promise<void>;
  _del(...args: unknown[]): Promise<void>;
  _batch(...args: unknown[]): Promise<void>;
  _clear(...args: unknown[]): Promise<void>;
  _chainedBatch(): { _write(...args: unknown[]): Promise<void> };
}

const base = Level.prototype as unknown as LevelWrites;

/** Opens nothing yet: the data folder's LevelDB at `location`, guarded (see GuardedLevel). */
export function guardedLevel(location: string, options: LevelOptions, folder: string): Level<string, string> {
  // A subclass's batch() is typed on the subclass (abstract-level's `this`-typed operations), which
  // makes it unassignable to the Level type the rest of the engine names; it behaves as one.
  return new GuardedLevel(location, options, folder) as unknown as Level<string, string>;
}

type LevelOptions = ConstructorParameters<typeof Level<string, string>>[1];

/**
 * The data folder's LevelDB, taking no more writes once one has failed. A batch LevelDB could not
 * append whole to its log (a full disk) leaves the log torn, and LevelDB keeps appending after the
 * tear: on the next open it recovers everything before the failure and drops everything after it
 * (seen: a batch written once space was freed, acknowledged, then gone on reopening). So after a
 * failed write every further write is refused with WRITES_STOPPED until the folder is opened again;
 * reads go on. Every write, sublevels' included, reaches LevelDB through these methods.
 */
class GuardedLevel extends Level<string, string> {
  private failure: Error | undefined;

  constructor(
    location: string,
    options: LevelOptions,
    private readonly folder: string,
  ) {
    super(location, options);
  }

  async _put(...args: unknown[]): Promise<void> {
    return this.guard(() => base._put.apply(this, args));
  }

  async _del(...args: unknown[]): Promise<void> {
    return this.guard(() => base._del.apply(this, args));
  }

  async _batch(...args: unknown[]): Promise<void> {
    return this.guard(() => base._batch.apply(this, args));
  }

  async _clear(...args: unknown[]): Promise<void> {
    return this.guard(() => base._clear.apply(this, args));
  }

  _chainedBatch(): ReturnType<LevelWrites['_chainedBatch']> {
    const batch = base._chainedBatch.call(this);
    const write = batch._write;
    batch._write = (...args: unknown[]) => this.guard(() => write.apply(batch, args));
    return batch;
  }

  private async guard(write: () => Promise<void>): Promise<void> {
    if (this.failure !== undefined) {
      throw new PiramidError('WRITES_STOPPED', `Writes to ${this.folder} stopped when one failed earlier in this process: ${this.failure.message}`, {
        hint: 'LevelDB would drop writes made after a failed one when the folder is next opened. Fix the cause (free disk space, make the folder writable), then open the folder again (rerun the command, restart `piramid serve`): every write acknowledged before the failure is kept.',
      });
    }
    try {
      await write();
    } catch (err) {
      const reason = asStorageError(err, this.folder);
      this.failure = reason instanceof Error ? reason : new Error(String(reason));
      throw err;
    }
  }
}
