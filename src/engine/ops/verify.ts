import type { CollectionParts } from '../collection.js';
import { payloadMatchesChecksum, readIndexTrailer } from '../index/index-file.js';
import { decodeLabel } from '../store/keys.js';
import type { StoredRecord } from '../types.js';
import { decodeText, scanKeys, scanPrefix } from './scan.js';

/**
 * Stable codes of what `verify` can find. Derived data (the faiss index, the keyword and payload
 * indexes, the counters) can be rebuilt from the records: `--repair` does. Damage to the records
 * themselves (the source of truth) cannot: restore a backup.
 */
/** Damage to the records themselves: nothing to rebuild them from. */
const SOURCE_PROBLEMS = ['RECORD_UNREADABLE', 'RECORD_WITHOUT_ID', 'ID_WITHOUT_RECORD', 'RECORD_WITHOUT_VECTOR', 'VECTOR_BAD_SIZE', 'LABEL_GAP', 'DOCUMENT_RECORD_MISSING'] as const;
/** Derived data wrong or missing, and leftovers: `--repair` rebuilds or removes them. */
const DERIVED_PROBLEMS = [
  'COUNT_MISMATCH',
  'INDEX_MISSING',
  'INDEX_CORRUPT',
  'INDEX_FOREIGN',
  'INDEX_COUNT_MISMATCH',
  'KEYWORD_INDEX_MISMATCH',
  'PAYLOAD_INDEX_MISMATCH',
  'ORPHAN_INDEX_FILE',
  'ORPHAN_DATA',
] as const;
export const PROBLEM_CODES = [...SOURCE_PROBLEMS, ...DERIVED_PROBLEMS] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];
const DERIVED: ReadonlySet<ProblemCode> = new Set(DERIVED_PROBLEMS);

export interface VerifyProblem {
  code: ProblemCode;
  message: string;
  /** Derived data, rebuilt from the records by `verify --repair`. */
  repairable: boolean;
}

export interface CollectionCheck {
  name: string;
  ok: boolean;
  /** Live records (chunks, or whole documents). */
  records: number;
  documents: number;
  /** Labels issued since the last compact, live or not: the size the index must have. */
  labels: number;
  /** Labels the checkpoint file holds (the rest is replayed on open); null without a readable file. */
  checkpointLabels: number | null;
  problems: VerifyProblem[];
}

/** Up to this many examples are named in one problem's message. */
const EXAMPLES = 3;

/**
 * Checks one collection, writes held (run inside Collection.maintain): records <-> ids <-> vectors,
 * the label range, counters, document registry, the index checkpoint (checksum, owner, count), and
 * the keyword and payload indexes against the records.
 */
export async function checkCollection(parts: CollectionParts): Promise<CollectionCheck> {
  const { config, store } = parts;
  const root = store.rootLevel;
  const prefixes = store.keyPrefixes;
  const problems = new ProblemList();

  // ids: document/chunk id -> label of its live record.
  const idOfLabel = new Map<number, string>();
  for await (const chunk of scanPrefix(root, prefixes.ids)) {
    for (const [id, value] of chunk) idOfLabel.set(decodeLabel(decodeText(value)), id);
  }

  // vec: every label issued, dense from 0, dimension × 4 bytes each.
  const vectorBytes = config.dimension * 4;
  let labels = 0;
  const withVector = new Set<number>();
  const badSize: number[] = [];
  const gaps: number[] = [];
  for await (const keys of scanPrefix(root, prefixes.vectors, { chunkSize: 1024 })) {
    for (const [key, value] of keys) {
      const label = decodeLabel(key);
      if (label !== labels) gaps.push(labels);
      if (value.byteLength !== vectorBytes) badSize.push(label);
      withVector.add(label);
      labels = label + 1;
    }
  }
  problems.addMany('LABEL_GAP', gaps, (n, ex) => `${n} gap(s) in the stored vector labels, first before label ${ex.join(', ')}.`);
  problems.addMany('VECTOR_BAD_SIZE', badSize, (n, ex) => `${n} stored vector(s) are not ${config.dimension} float32 values (labels ${ex.join(', ')}).`);

  // rec: live records, each named by its id entry and backed by a vector.
  let records = 0;
  const unreadable: number[] = [];
  const withoutId: string[] = [];
  const withoutVector: string[] = [];
  const live = new Map<string, StoredRecord>();
  const seen = new Set<number>();
  for await (const chunk of scanPrefix(root, prefixes.records)) {
    for (const [key, value] of chunk) {
      const label = decodeLabel(key);
      seen.add(label);
      records += 1;
      let record: StoredRecord;
      try {
        record = JSON.parse(decodeText(value)) as StoredRecord;
      } catch {
        unreadable.push(label);
        continue;
      }
      if (idOfLabel.get(label) !== record.id) withoutId.push(record.id);
      if (!withVector.has(label)) withoutVector.push(record.id);
      live.set(record.id, record);
    }
  }
  problems.addMany('RECORD_UNREADABLE', unreadable, (n, ex) => `${n} record(s) are not valid JSON (labels ${ex.join(', ')}).`);
  problems.addMany('RECORD_WITHOUT_ID', withoutId, (n, ex) => `${n} record(s) are not what their id points at: ${ex.join(', ')}.`);
  problems.addMany('RECORD_WITHOUT_VECTOR', withoutVector, (n, ex) => `${n} record(s) have no stored vector: ${ex.join(', ')}.`);
  const dangling = [...idOfLabel].filter(([label]) => !seen.has(label)).map(([, id]) => id);
  problems.addMany('ID_WITHOUT_RECORD', dangling, (n, ex) => `${n} id(s) point at no record: ${ex.join(', ')}.`);

  // docs: each registered document's records exist.
  let documents = 0;
  const missingRecords: string[] = [];
  for await (const chunk of scanPrefix(root, prefixes.documents)) {
    for (const [id, value] of chunk) {
      documents += 1;
      const entry = JSON.parse(decodeText(value)) as { records?: string[] };
      for (const recordId of entry.records ?? []) if (!live.has(recordId)) missingRecords.push(`${id} -> ${recordId}`);
    }
  }
  problems.addMany('DOCUMENT_RECORD_MISSING', missingRecords, (n, ex) => `${n} record(s) listed by their document are missing: ${ex.join(', ')}.`);

  const counts = await store.counts();
  if (counts.records !== records || counts.documents !== documents) {
    problems.add('COUNT_MISMATCH', `Counters say ${counts.records} records / ${counts.documents} documents; the store holds ${records} / ${documents}.`);
  }

  const checkpointLabels = await checkIndexFile(parts, labels, problems);
  if (config.keywordIndex === true) await checkKeywordIndex(parts, live, problems);
  await checkPayloadIndex(parts, live, problems);

  return { name: config.name, ok: problems.list.length === 0, records, documents, labels, checkpointLabels, problems: problems.list };
}

/** The checkpoint: readable, every byte matching its checksum, of this incarnation, no more labels than issued. */
async function checkIndexFile(parts: CollectionParts, labels: number, problems: ProblemList): Promise<number | null> {
  const file = await readIndexTrailer(parts.indexPath);
  if (!file.ok) {
    // No file for an empty collection is normal; the engine writes one before its first label.
    if (file.problem === 'missing') {
      if (labels > 0 && !parts.index.loaded) problems.add('INDEX_MISSING', `Index file ${parts.indexPath} is missing.`);
      return null;
    }
    problems.add('INDEX_CORRUPT', `Index file ${parts.indexPath} is damaged (${file.problem}).`);
    return null;
  }
  const { header } = file;
  if (header.uid !== parts.config.uid || header.dimension !== parts.config.dimension) {
    // Compact's atomic batch renumbers the labels, changes the uid and removes the checkpoint's
    // stamp; a process killed before it wrote the new checkpoint leaves the previous incarnation's
    // file and no stamp: the normal state after that crash, rebuilt from the records on next load.
    if (header.uid !== parts.config.uid && (await parts.store.indexStamp()) === undefined) return null;
    problems.add('INDEX_FOREIGN', `Index file ${parts.indexPath} belongs to another incarnation of this collection.`);
    return header.labels;
  }
  if (!(await payloadMatchesChecksum(parts.indexPath, header))) {
    problems.add('INDEX_CORRUPT', `Index file ${parts.indexPath} fails its sha256 checksum.`);
    return header.labels;
  }
  if (header.labels > labels) {
    problems.add('INDEX_COUNT_MISMATCH', `Index file holds ${header.labels} labels; only ${labels} were issued.`);
  }
  if (parts.index.loaded && parts.index.size !== labels) {
    problems.add('INDEX_COUNT_MISMATCH', `The open index holds ${parts.index.size} labels; ${labels} were issued.`);
  }
  return header.labels;
}

/** BM25: one entry per record with indexable text, the stats they add up to, and their postings. */
async function checkKeywordIndex(parts: CollectionParts, live: Map<string, StoredRecord>, problems: ProblemList): Promise<void> {
  const keywords = parts.keywordIndex;
  const prefix = keywords.keyPrefix;
  const root = parts.store.rootLevel;
  const expected = new Set<string>();
  for (const record of live.values()) if (keywords.operationsToAdd(record.id, record.text ?? '').puts.length > 0) expected.add(record.id);

  let entries = 0;
  let postingsListed = 0;
  let totalLength = 0;
  const extra: string[] = [];
  for await (const chunk of scanPrefix(root, `${prefix}d!`)) {
    for (const [id, value] of chunk) {
      const entry = JSON.parse(decodeText(value)) as { length: number; terms: string[] };
      entries += 1;
      postingsListed += entry.terms.length;
      totalLength += entry.length;
      if (!expected.delete(id)) extra.push(id);
    }
  }
  let postings = 0;
  for await (const keys of scanKeys(root, `${prefix}t!`)) postings += keys.length;
  const stats = await keywords.stats();
  const issues: string[] = [];
  if (expected.size > 0) issues.push(`${expected.size} record(s) not indexed (e.g. ${[...expected].slice(0, EXAMPLES).join(', ')})`);
  if (extra.length > 0) issues.push(`${extra.length} entry(ies) for records that do not exist (e.g. ${extra.slice(0, EXAMPLES).join(', ')})`);
  if (postings !== postingsListed) issues.push(`${postings} postings where the entries list ${postingsListed}`);
  if (stats.docs !== entries || stats.totalLength !== totalLength) issues.push(`stats say ${stats.docs} docs / length ${stats.totalLength}, entries add up to ${entries} / ${totalLength}`);
  if (issues.length > 0) problems.add('KEYWORD_INDEX_MISMATCH', `Keyword index: ${issues.join('; ')}.`);
}

/** Payload postings: exactly the ones the live records' metadata calls for. */
async function checkPayloadIndex(parts: CollectionParts, live: Map<string, StoredRecord>, problems: ProblemList): Promise<void> {
  const indexes = parts.config.payloadIndexes ?? {};
  const payload = parts.payloadIndex;
  const prefix = payload.keyPrefix;
  const expected = new Set<string>();
  for (const record of live.values()) for (const key of payload.operationsFor(record.id, record.metadata, indexes)) expected.add(key.slice(prefix.length));
  let extra = 0;
  for await (const keys of scanKeys(parts.store.rootLevel, prefix)) for (const key of keys) if (!expected.delete(key)) extra += 1;
  if (expected.size > 0 || extra > 0) {
    problems.add('PAYLOAD_INDEX_MISMATCH', `Payload index: ${expected.size} posting(s) missing, ${extra} posting(s) for records or values that do not exist.`);
  }
}

export function problem(code: ProblemCode, message: string): VerifyProblem {
  return { code, message, repairable: DERIVED.has(code) };
}

class ProblemList {
  readonly list: VerifyProblem[] = [];

  add(code: ProblemCode, message: string): void {
    this.list.push(problem(code, message));
  }

  addMany<T>(code: ProblemCode, items: readonly T[], describe: (count: number, examples: T[]) => string): void {
    if (items.length > 0) this.add(code, describe(items.length, items.slice(0, EXAMPLES)));
  }
}
