import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The project root, from the compiled location dist/test/helpers/. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const fixture = (name: string): string => fileURLToPath(new URL(`../../../fixtures/${name}`, import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  dataDir?: string;
  stdin?: string;
  env?: Record<string, string>;
}

/** Runs the real CLI (bin/run.js, the built commands) as a child process, as a user's shell would. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const fullArgs = options.dataDir === undefined ? args : [...args, '--data-dir', options.dataDir];
  return runNode([`${PROJECT_ROOT}bin/run.js`, ...fullArgs], options);
}

/** Runs `node <nodeArgs>` in the project root with NO_COLOR, collecting its output. */
export function runNode(nodeArgs: string[], options: Omit<CliOptions, 'dataDir'> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** Parses the single JSON document a `--json` command prints on stdout. */
export function parseJson<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}
