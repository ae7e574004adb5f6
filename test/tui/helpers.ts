/** A real small database for the TUI tests, and a way to wait for Ink frames. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBackend } from '../../src/client/backend.js';
import { Database } from '../../src/engine/database.js';
import type { DocumentInput } from '../../src/engine/types.js';
import { fixture } from '../helpers/cli.js';
import { WordHashEmbedder } from '../helpers/word-embedder.js';

export const KEY = {
  up: '\u001B[A',
  down: '\u001B[B',
  pageUp: '\u001B[5~',
  pageDown: '\u001B[6~',
  enter: '\r',
  escape: '\u001B',
  tab: '\t',
  backspace: '\u007F',
  ctrlU: '\u0015',
};

/** The text of a long document: `n` numbered sentences, so chunks of it differ. */
export function longText(n: number): string {
  return Array.from({ length: n }, (_, i) => `Sentence number ${i + 1} talks about the harbour, the lighthouse and the keeper.`).join(' ');
}

export interface TestDatabase {
  db: Database;
  backend: EmbeddedBackend;
  dir: string;
  /** Closes the database, then removes its folder (the index checkpoint writes into it). */
  close: () => Promise<void>;
}

/**
 * A temp LevelDB folder with three collections: "vec" (fixtures/vectors-4d.jsonl, no embedder),
 * "notes" (60 short texts embedded by a word-hash model, metadata), and "book" (one long document
 * chunked into several records, plus a short one).
 */
export async function smallDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'piramid-tui-'));
  const db = await Database.open(dir, { embedderFactory: async () => new WordHashEmbedder(32) });
  const vec = await db.createCollection('vec', { embedder: 'none', dimension: 4 });
  const lines = (await readFile(fixture('vectors-4d.jsonl'), 'utf8')).trim().split('\n');
  await vec.upsert(lines.map((line) => JSON.parse(line) as DocumentInput));
  const notes = await db.createCollection('notes');
  const topics = ['bread baking with flour and yeast', 'the stock market and interest rates', 'sailing boats in the harbour', 'growing tomatoes in the garden'];
  await notes.upsert(
    Array.from({ length: 60 }, (_, i) => ({
      id: `note-${String(i).padStart(2, '0')}`,
      text: `Note ${i}: ${topics[i % topics.length]}.`,
      metadata: { topic: i % topics.length, year: 2000 + i, tags: { even: i % 2 === 0 } },
    })),
  );
  const book = await db.createCollection('book');
  await book.upsert([{ id: 'chapter', text: longText(20), metadata: { title: 'The Lighthouse' } }, { id: 'preface', text: 'A short preface.' }], { chunking: { size: 400, overlap: 40 } });
  const close = async (): Promise<void> => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { db, backend: new EmbeddedBackend(db), dir, close };
}

/** Waits until `check` passes (it is retried on every tick for up to `ms`), then returns its value. */
export async function waitFor<T>(check: () => T, ms = 5000): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      return check();
    } catch (err) {
      last = err;
    }
    if (Date.now() - started > ms) throw last;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Lets Ink process input and React settle. */
export function tick(ms = 40): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
