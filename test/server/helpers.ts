import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Database } from '../../src/engine/database.js';
import { buildApp, type AppOptions } from '../../src/server/app.js';
import { WordHashEmbedder } from '../helpers/word-embedder.js';

export interface TestServer {
  url: string;
  app: FastifyInstance;
  db: Database;
  dir: string;
  /** fetch relative to the server, JSON in and out. */
  /** Stops the server, closes the database, removes the folder. */
  close: () => Promise<void>;
  call: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; json: Json }>;
}

// Loose on purpose: tests read fields of many response shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/**
 * A real server on 127.0.0.1 (a free port) over a real database in a temp folder. Call close()
 * (in an after hook): the server stops, then the database closes, then the folder goes, in order.
 */
export async function startServer(options: Omit<AppOptions, 'db'> = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'piramid-server-'));
  const db = await Database.open(dir, { embedderFactory: async () => new WordHashEmbedder(32) });
  const app = await buildApp({ db, metrics: { processMetrics: false }, ...options });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const close = async (): Promise<void> => {
    await app.close();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  };
  const call: TestServer['call'] = async (method, path, body, headers = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${url}${path}`, init);
    const text = await response.text();
    let json: Json;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, json };
  };
  return { url, app, db, dir, call, close };
}
