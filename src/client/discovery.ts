import { resolve } from 'node:path';
import { readServeFile, type ServeFile } from '../server/serve-file.js';
import { PiramidClient } from './http-client.js';

/** True when a process with this id exists (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The server holding a data folder, from its `serve.json`: only when the process it names is alive
 * and its URL answers /healthz. A stale file (a killed server, a reused pid that is not a server)
 * gives undefined.
 */
export async function findServer(dataDir: string, options: { apiKey?: string; timeoutMs?: number } = {}): Promise<{ serveFile: ServeFile; client: PiramidClient } | undefined> {
  const serveFile = await readServeFile(resolve(dataDir));
  if (serveFile === undefined || !processAlive(serveFile.pid)) return undefined;
  let client: PiramidClient;
  try {
    client = new PiramidClient(serveFile.url, options.apiKey === undefined ? {} : { apiKey: options.apiKey });
  } catch {
    return undefined;
  }
  if (!(await client.health(options.timeoutMs ?? 2000))) return undefined;
  return { serveFile, client };
}
