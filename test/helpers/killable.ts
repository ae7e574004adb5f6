/**
 * Child processes to SIGKILL at chosen moments (the crash tests): line-by-line output as it
 * arrives, and at the moment of the kill whether the child held the data folder's LevelDB LOCK
 * open, which tells a kill inside the folder's open..close apart from one during start-up or after
 * it let go (Linux /proc; elsewhere the answer is "unknown").
 */
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { PROJECT_ROOT } from './cli.js';

export type Stream = 'stdout' | 'stderr';

export interface KillReport {
  /** ms since spawn when SIGKILL was sent. */
  atMs: number;
  /** The child had the data folder's LOCK file open: it was between opening and closing the folder. */
  lockHeld: boolean | undefined;
  /** The child had already exited when the kill came (a boring but valid point). */
  afterExit: boolean;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface KillableChild {
  readonly pid: number;
  /** Called for every complete line, in order, as soon as it arrives. */
  onLine(handler: (line: string, stream: Stream) => void): void;
  /** SIGKILLs now (once); returns what the child was doing. */
  kill(): KillReport;
  readonly killed: KillReport | undefined;
  readonly exit: Promise<ChildExit>;
  /** ms since spawn. */
  elapsed(): number;
}

/** Does process `pid` have `path` open right now? undefined where /proc cannot tell. */
export function holdsFile(pid: number, path: string): boolean | undefined {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === path) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/** Starts `node <args>` in the project root; `lockFile` is the data folder's db/LOCK. */
export function startKillable(args: readonly string[], lockFile: string, env: Record<string, string> = {}): KillableChild {
  const started = performance.now();
  const child = spawn(process.execPath, [...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const handlers: ((line: string, stream: Stream) => void)[] = [];
  const text: Record<Stream, string> = { stdout: '', stderr: '' };
  const partial: Record<Stream, string> = { stdout: '', stderr: '' };
  let exited = false;
  let report: KillReport | undefined;
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream].setEncoding('utf8').on('data', (chunk: string) => {
      text[stream] += chunk;
      const lines = (partial[stream] + chunk).split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const line of lines) for (const handler of handlers) handler(line, stream);
    });
  }
  const exit = new Promise<ChildExit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exited = true;
      resolve({ code, signal, stdout: text.stdout, stderr: text.stderr, ms: performance.now() - started });
    });
  });
  child.on('exit', () => {
    exited = true;
  });
  return {
    pid: child.pid as number,
    onLine: (handler) => handlers.push(handler),
    kill: () => {
      if (report !== undefined) return report;
      const atMs = performance.now() - started;
      if (exited || child.exitCode !== null) {
        report = { atMs, lockHeld: false, afterExit: true };
        return report;
      }
      const lockHeld = holdsFile(child.pid as number, lockFile);
      child.kill('SIGKILL');
      report = { atMs, lockHeld, afterExit: false };
      return report;
    },
    get killed() {
      return report;
    },
    exit,
    elapsed: () => performance.now() - started,
  };
}

/** The real CLI's entry point, for startKillable. */
export const CLI_ENTRY = `${PROJECT_ROOT}bin/run.js`;

/** Runs `work` over `items` with at most `limit` at a time; results in input order. */
export async function inLanes<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
