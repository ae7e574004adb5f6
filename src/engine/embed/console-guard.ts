/**
 * Keeps third-party runtime chatter off the terminal. TensorFlow.js writes to `console` directly
 * (warnings, its "install tfjs-node" banner on the CPU backend, emscripten messages); the engine
 * must never print, and `piramid query --json` prints only JSON on stdout. The guard wraps the
 * console methods once per process and drops a call when the code calling it lives in one of the
 * guarded packages; every other call passes through untouched. What it drops goes to the
 * listeners (an embedder's `onLog` option), if any.
 */

export type ConsoleLevel = 'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace';
export type ConsoleListener = (level: ConsoleLevel, message: string) => void;

const LEVELS: readonly ConsoleLevel[] = ['log', 'info', 'warn', 'error', 'debug', 'trace'];
/** Files of the packages whose console output is dropped (either path separator). */
const GUARDED = /[\\/]node_modules[\\/]@tensorflow[\\/]/;
/** Frames above the wrapper that are looked at: the caller, and a wrapper or two in between. */
const FRAMES_CHECKED = 3;

type ConsoleMethod = (...args: unknown[]) => void;

const listeners = new Set<ConsoleListener>();
let installed = false;

function callerFiles(below: ConsoleMethod): string[] {
  const holder: { stack?: NodeJS.CallSite[] } = {};
  const previousPrepare = Error.prepareStackTrace;
  const previousLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = FRAMES_CHECKED;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    Error.captureStackTrace(holder, below);
    const sites = holder.stack;
    return Array.isArray(sites) ? sites.map((site) => site.getFileName() ?? '') : [];
  } finally {
    Error.prepareStackTrace = previousPrepare;
    Error.stackTraceLimit = previousLimit;
  }
}

function format(args: readonly unknown[]): string {
  return args.map((arg) => (typeof arg === 'string' ? arg : arg instanceof Error ? (arg.stack ?? arg.message) : String(arg))).join(' ');
}

/** Wraps the console methods (once); later calls only add the listener. */
export function installConsoleGuard(listener?: ConsoleListener): void {
  if (listener !== undefined) listeners.add(listener);
  if (installed) return;
  installed = true;
  const target = console as unknown as Record<ConsoleLevel, ConsoleMethod>;
  for (const level of LEVELS) {
    const original = target[level];
    const guarded: ConsoleMethod = function guardedConsole(this: unknown, ...args: unknown[]): void {
      if (callerFiles(guarded).some((file) => GUARDED.test(file))) {
        const message = format(args);
        for (const notify of listeners) {
          try {
            notify(level, message);
          } catch {
            // A listener's failure must not turn a dropped log line into an engine error.
          }
        }
        return;
      }
      original.apply(this === undefined ? console : this, args);
    };
    target[level] = guarded;
  }
}

export function removeConsoleListener(listener: ConsoleListener | undefined): void {
  if (listener !== undefined) listeners.delete(listener);
}
