import { rm } from 'node:fs/promises';
import type { CollectionParts } from '../collection.js';
import type { CollectionCheck, ProblemCode } from './verify.js';

/** What `verify --repair` rebuilt, by the problem that called for it. */
export type Repair = 'index' | 'counts' | 'keyword-index' | 'payload-index';

const REPAIR_FOR: Partial<Record<ProblemCode, Repair>> = {
  INDEX_MISSING: 'index',
  INDEX_CORRUPT: 'index',
  INDEX_FOREIGN: 'index',
  INDEX_COUNT_MISMATCH: 'index',
  COUNT_MISMATCH: 'counts',
  KEYWORD_INDEX_MISMATCH: 'keyword-index',
  PAYLOAD_INDEX_MISMATCH: 'payload-index',
};

const RECORDS_PER_BATCH = 1024;

/**
 * Rebuilds the derived data a check found wrong from the records (the source of truth), writes
 * held. Damage to the records themselves is left for the caller to report: nothing here can
 * recreate a lost vector or record.
 */
export async function repairCollection(parts: CollectionParts, check: CollectionCheck): Promise<Repair[]> {
  const needed = new Set<Repair>();
  for (const problem of check.problems) {
    const repair = REPAIR_FOR[problem.code];
    if (repair !== undefined) needed.add(repair);
  }
  const sourceDamaged = check.problems.some((p) => !p.repairable);
  if (needed.has('counts')) await parts.store.setCounts({ records: check.records, documents: check.documents });
  if (needed.has('keyword-index')) await rebuildKeywordIndex(parts);
  if (needed.has('payload-index')) await rebuildPayloadIndex(parts);
  // An index cannot be replayed over a gap in the labels: leave it for the report.
  if (needed.has('index') && !sourceDamaged) {
    parts.index.discard();
    await rm(parts.indexPath, { force: true });
    await parts.index.rebuild(check.labels);
  }
  return [...needed].filter((repair) => repair !== 'index' || !sourceDamaged);
}

async function rebuildKeywordIndex(parts: CollectionParts): Promise<void> {
  const { keywordIndex, store } = parts;
  await keywordIndex.clear();
  if (parts.config.keywordIndex !== true) return;
  for await (const chunk of store.recordsInLabelOrder(RECORDS_PER_BATCH)) {
    const batch = store.rootLevel.batch();
    await keywordIndex.stage(batch, { upserts: chunk.map(({ record }) => ({ id: record.id, text: record.text ?? '' })) });
    await batch.write({ sync: true });
  }
}

async function rebuildPayloadIndex(parts: CollectionParts): Promise<void> {
  const { payloadIndex, store } = parts;
  const indexes = parts.config.payloadIndexes ?? {};
  await store.rootLevel.clear({ gte: payloadIndex.keyPrefix, lt: `${payloadIndex.keyPrefix.slice(0, -1)}"` });
  for await (const chunk of store.recordsInLabelOrder(RECORDS_PER_BATCH)) {
    const puts = chunk.flatMap(({ record }) => payloadIndex.operationsFor(record.id, record.metadata, indexes).map((key) => [key, ''] as const));
    await store.write({ upserts: [], deletes: [], documents: [], derived: { puts, dels: [] } }, { sync: true });
  }
}
