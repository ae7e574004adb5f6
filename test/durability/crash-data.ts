/**
 * Deterministic documents for the crash tests. Every document is a pure function of (seed, id,
 * version), so the test and its child processes agree on what an acknowledged document must look
 * like without passing data around, and a failure reproduces from the seed alone.
 */
import { seededRandom } from '../helpers/vectors.js';

export interface CrashDoc {
  id: string;
  vector: number[];
  text: string;
  metadata: { cat: string; version: number };
}

const WORDS = 'harbor lantern quarry meadow ember falcon glacier orchard velvet copper thistle summit canyon ripple saffron'.split(' ');
export const CATEGORIES = 7;

/** FNV-1a, 32 bits. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A token only this version of this document has in its text (for BM25 checks). */
export function uniqueToken(id: string, version: number): string {
  return `uq${id.replace(/[^a-z0-9]/gi, '')}x${version}`;
}

export function crashDoc(seed: number, id: string, version: number, dimension: number): CrashDoc {
  const random = seededRandom(hash32(`${seed}:${id}:${version}`));
  // 4 decimals: exact in JSON, so the stored float32 is Math.fround of what we wrote.
  const vector = Array.from({ length: dimension }, () => Math.round((random() * 2 - 1) * 10_000) / 10_000);
  const words = Array.from({ length: 6 }, () => WORDS[Math.floor(random() * WORDS.length)] as string);
  return { id, vector, text: `${words.join(' ')} ${uniqueToken(id, version)}`, metadata: { cat: `c${Math.floor(random() * CATEGORIES)}`, version } };
}

/**
 * An ingest file: `count` lines; about `resendShare` of them re-send an id from an earlier line
 * with new content (an update: a new label, the old one dead, postings moved). The version of a
 * line's document is its 1-based line number.
 */
export function ingestLines(seed: number, count: number, dimension: number, resendShare = 0.1): CrashDoc[] {
  const random = seededRandom(hash32(`${seed}:lines`));
  const lines: CrashDoc[] = [];
  let fresh = 0;
  for (let line = 1; line <= count; line++) {
    const resend = line > 100 && random() < resendShare;
    const id = resend ? (lines[Math.floor(random() * (line - 1))] as CrashDoc).id : `d${fresh++}`;
    lines.push(crashDoc(seed, id, line, dimension));
  }
  return lines;
}

/** id -> version: what the store must hold. */
export type Expected = Map<string, number>;

/** The state after writing lines 1..through (in order) over `state`. */
export function applyLines(state: Expected, lines: readonly CrashDoc[], through: number): Expected {
  const next = new Map(state);
  for (const doc of lines.slice(0, through)) next.set(doc.id, doc.metadata.version);
  return next;
}

export interface StoredView {
  id: string;
  text?: string;
  metadata?: Record<string, unknown>;
  vector?: number[];
}

/**
 * Differences between what is stored and what should be (at most `limit` described): missing ids,
 * extra ids, and records whose text, metadata or vector is not the expected version's.
 */
export function differences(stored: readonly StoredView[], expected: Expected, docOf: (id: string, version: number) => CrashDoc, limit = 5): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const record of stored) {
    if (out.length >= limit) break;
    seen.add(record.id);
    const version = expected.get(record.id);
    if (version === undefined) {
      out.push(`${record.id} is stored but should not be (version ${String(record.metadata?.version)})`);
      continue;
    }
    const want = docOf(record.id, version);
    if (record.text !== want.text) out.push(`${record.id}: text ${JSON.stringify(record.text)}, expected version ${version}'s`);
    else if (JSON.stringify(record.metadata) !== JSON.stringify(want.metadata)) out.push(`${record.id}: metadata ${JSON.stringify(record.metadata)}, expected ${JSON.stringify(want.metadata)}`);
    else if (record.vector === undefined) out.push(`${record.id}: no vector`);
    else if (record.vector.length !== want.vector.length || record.vector.some((x, i) => x !== Math.fround(want.vector[i] as number))) {
      out.push(`${record.id}: vector differs from version ${version}'s`);
    }
  }
  if (out.length < limit) {
    for (const [id, version] of expected) {
      if (seen.has(id)) continue;
      out.push(`${id} (version ${version}) is missing`);
      if (out.length >= limit) break;
    }
  }
  return out;
}

/** Seeded choice of `count` distinct integers below `below`. */
export function distinct(random: () => number, count: number, below: number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, below)) picked.add(Math.floor(random() * below));
  return [...picked];
}

/** The checkpoint child's batch `b` (1-based): 150 new documents and 50 updates of template documents. */
export function checkpointBatch(seed: number, b: number, templateSize: number, dimension: number): CrashDoc[] {
  const fresh = Array.from({ length: 150 }, (_, j) => crashDoc(seed, `n${b}_${j}`, b, dimension));
  const updates = distinct(seededRandom(hash32(`${seed}:updates:${b}`)), 50, templateSize).map((t) => crashDoc(seed, `t${t}`, b, dimension));
  return [...fresh, ...updates];
}
