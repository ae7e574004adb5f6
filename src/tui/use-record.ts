import type { Backend } from '../client/backend.js';
import { PiramidError } from '../engine/errors.js';
import type { DocumentView } from '../engine/types.js';
import { useAsync, type AsyncState } from './use-async.js';

/** How many chunks of one document the record view lists. */
export const MAX_SIBLINGS = 500;

export interface RecordDetail {
  record: DocumentView;
  /** The chunks of the record's document, in chunk order (empty for a whole document). */
  siblings: DocumentView[];
  /** More chunks exist than were read. */
  moreSiblings: boolean;
}

/**
 * A record with its vector (Backend.getRecords), and the other chunks of its document: chunk ids
 * are `<document>#<n>`, so they are the records scrolled from `<document>#` whose parent it is.
 */
export async function loadRecord(backend: Backend, collection: string, id: string): Promise<RecordDetail> {
  const [record] = await backend.getRecords(collection, [id], { withVector: true });
  if (record === undefined) throw new PiramidError('DOCUMENT_NOT_FOUND', `Record "${id}" is not in ${collection} (deleted since?).`);
  if (record.parent === undefined) return { record, siblings: [], moreSiblings: false };
  const parent = record.parent;
  const page = await backend.scrollRecords({ collection, from: `${parent}#`, limit: MAX_SIBLINGS });
  const siblings = page.records.filter((r) => r.parent === parent && r.id.startsWith(`${parent}#`));
  siblings.sort((a, b) => (a.chunk?.index ?? 0) - (b.chunk?.index ?? 0));
  const last = page.records[page.records.length - 1];
  return { record, siblings, moreSiblings: page.next !== undefined && last?.parent === parent };
}

export function useRecord(backend: Backend, collection: string, id: string): AsyncState<RecordDetail> {
  return useAsync(() => loadRecord(backend, collection, id), [backend, collection, id]);
}
