import { spawn, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT } from './cli.js';

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Everything the server printed on stdout (its request logs) so far. */
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM (once), then the exit code. */
  stop: () => Promise<number | null>;
}

/**
 * The real `piramid serve --port 0` on a folder, started as a user would; resolves with its URL once
 * it listens. API keys from the environment are cleared unless `env` sets them.
 */
export async function startServe(dataDir: string, extra: string[] = [], env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [`${PROJECT_ROOT}bin/run.js`, 'serve', '--port', '0', '--data-dir', dataDir, ...extra], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NO_COLOR: '1', PIRAMID_API_KEY: '', PIRAMID_READ_ONLY_API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL after 20 s; stderr:\n${stderr}`)), 20_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /listening on (https?:\/\/\S+)/.exec(stderr);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('close', () => reject(new Error(`exited before listening; stderr:\n${stderr}`)));
  });
  let stopped: Promise<number | null> | undefined;
  const stop = (): Promise<number | null> => {
    stopped ??= (child.kill('SIGTERM'), exited);
    return stopped;
  };
  return { url, child, stdout: () => stdout, stderr: () => stderr, stop };
}
