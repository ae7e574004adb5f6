import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `serve.json` in a data folder: where the server holding the folder's lock listens. */
export interface ServeFile {
  url: string;
  pid: number;
  /** ISO time the server started listening. */
  started: string;
}

export const SERVE_FILE = 'serve.json';

export function serveFilePath(dataDir: string): string {
  return join(dataDir, SERVE_FILE);
}

/** Written atomically (temp file, then rename), so a reader never sees half of it. */
export async function writeServeFile(dataDir: string, content: ServeFile): Promise<string> {
  const path = serveFilePath(dataDir);
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o644 });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return path;
}

/** Removes the file, but only if it still names this process (a newer server may have replaced it). */
export async function removeServeFile(dataDir: string, pid = process.pid): Promise<void> {
  const current = await readServeFile(dataDir);
  if (current !== undefined && current.pid !== pid) return;
  await rm(serveFilePath(dataDir), { force: true });
}

/** The file's content, or undefined when there is none (or it cannot be read as one). */
export async function readServeFile(dataDir: string): Promise<ServeFile | undefined> {
  try {
    const value = JSON.parse(await readFile(serveFilePath(dataDir), 'utf8')) as Partial<ServeFile>;
    if (typeof value.url !== 'string' || typeof value.pid !== 'number' || typeof value.started !== 'string') return undefined;
    return { url: value.url, pid: value.pid, started: value.started };
  } catch {
    return undefined;
  }
}
