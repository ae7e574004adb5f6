import { open, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { glob } from 'tinyglobby';
import { PiramidError, type ErrorLocation } from '../errors.js';
import { SUPPORTED_EXTENSIONS, extractDocument } from '../text/extract.js';

/** One raw input document and where it came from (for error messages and progress). */
export interface SourceItem {
  value: unknown;
  location: ErrorLocation;
  /** Input bytes this item accounts for (progress against SourceInfo.totalBytes). */
  bytes: number;
  /** Set by sources whose items are already in document shape (folders): no field mapping. */
  document?: true;
}

export interface Source {
  items: AsyncIterable<SourceItem>;
  /** Bytes (files) or items (folders) to expect in all; 0 when unknown (stdin). */
  total: number;
  /** Folder sources: the absolute folder, recorded with each document for --prune. */
  folder?: string;
}

export const DEFAULT_FOLDER_GLOBS = [`**/*.{${SUPPORTED_EXTENSIONS.map((e) => e.replace(/^\./, '')).join(',')}}`];
const FOLDER_IGNORES = ['**/node_modules/**', '**/.git/**', '**/.piramid/**'];

/** JSONL from a stream: one item per non-blank line. */
export function jsonlSource(input: Readable, name: string, totalBytes = 0): Source {
  async function* items(): AsyncGenerator<SourceItem> {
    let line = 0;
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      line += 1;
      const bytes = Buffer.byteLength(text) + 1;
      if (text.trim().length === 0) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        value = new PiramidError('INVALID_INPUT', `not valid JSON (${(err as Error).message}).`, { location: { file: name, line } });
      }
      yield { value, location: { file: name, line }, bytes };
    }
  }
  return { items: items(), total: totalBytes };
}

/** A file holding one JSON array of documents. */
export async function jsonArraySource(path: string): Promise<Source> {
  const text = await readFile(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new PiramidError('INVALID_INPUT', `not valid JSON (${(err as Error).message}).`, { location: { file: path } });
  }
  if (!Array.isArray(parsed)) throw new PiramidError('INVALID_INPUT', 'expected a JSON array of documents.', { location: { file: path } });
  const list: unknown[] = parsed;
  const each = Math.max(1, Math.floor(Buffer.byteLength(text) / Math.max(1, list.length)));
  async function* items(): AsyncGenerator<SourceItem> {
    for (let item = 0; item < list.length; item++) yield { value: list[item], location: { file: path, item }, bytes: each };
  }
  return { items: items(), total: each * list.length };
}

/**
 * Every supported file under a folder (recursively, sorted, filtered by globs) as a document: id =
 * path relative to the folder, text extracted by format, metadata {path, title, format, mtime}.
 */
export async function folderSource(folder: string, globs: readonly string[] = DEFAULT_FOLDER_GLOBS): Promise<Source> {
  const root = resolve(folder);
  const files = (await glob([...globs], { cwd: root, ignore: FOLDER_IGNORES, onlyFiles: true, dot: false })).sort();
  async function* items(): AsyncGenerator<SourceItem> {
    for (const file of files) {
      const path = join(root, file);
      const id = relative(root, path).split(sep).join('/');
      const location = { file: path };
      try {
        const [content, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
        const doc = extractDocument(path, content);
        const metadata: Record<string, string> = { path: id, format: doc.format, mtime: info.mtime.toISOString() };
        if (doc.title !== undefined) metadata.title = doc.title;
        yield { value: { id, text: doc.text, metadata }, location, bytes: 1, document: true };
      } catch (err) {
        yield { value: err instanceof PiramidError ? err : new PiramidError('INVALID_INPUT', (err as Error).message, { location }), location, bytes: 1 };
      }
    }
  }
  return { items: items(), total: files.length, folder: root };
}

/** Picks the reader for a path: a folder, a JSON array file (first character `[`), or JSONL. */
export async function openSource(path: string, options: { globs?: readonly string[] } = {}): Promise<Source> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new PiramidError('INVALID_ARGUMENT', `Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`, {
      location: { file: path },
    });
  }
  if (info.isDirectory()) return folderSource(path, options.globs);
  const handle = await open(path, 'r');
  let first = '';
  try {
    const head = Buffer.alloc(256);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    first = head.subarray(0, bytesRead).toString('utf8').trimStart().charAt(0);
  } finally {
    await handle.close();
  }
  if (first === '[') return jsonArraySource(path);
  const { createReadStream } = await import('node:fs');
  return jsonlSource(createReadStream(path), path, info.size);
}
