import type { Database } from '../engine/database.js';
import { PiramidError } from '../engine/errors.js';
import type { Filter } from '../engine/query/filter.js';
import type { DocumentView } from '../engine/types.js';

/** One page of records in id order, as `piramid browse` (and POST /v1/.../documents/scroll) asks for it. */
export interface ScrollSpec {
  collection: string;
  /** First id of the page (inclusive); the start of the collection when absent. */
  from?: string;
  /** Matching records to skip after `from` before the page starts (default 0). */
  offset?: number;
  limit: number;
  filter?: Filter;
  withVector?: boolean;
}

/** A page of records and the id the following page starts at (absent after the last page). */
export interface RecordPage {
  records: DocumentView[];
  next?: string;
}

/** How many records one skipping step reads (Collection.scroll's largest page). */
const SKIP_STEP = 10_000;

/**
 * A page of `Collection.scroll`, after skipping `offset` records: the engine pages by id, so an
 * offset is walked in large id-ordered steps (cheap for the first pages, a scan for the last ones).
 */
export async function runScroll(db: Database, spec: ScrollSpec): Promise<RecordPage> {
  const offset = spec.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw new PiramidError('INVALID_ARGUMENT', `offset must be a non-negative integer; got ${offset}.`);
  const collection = await db.collection(spec.collection);
  const filter = spec.filter === undefined ? {} : { filter: spec.filter };
  let from = spec.from;
  for (let skip = offset; skip > 0; ) {
    const step = await collection.scroll({ limit: Math.min(skip, SKIP_STEP), ...filter, ...(from === undefined ? {} : { from }) });
    if (step.next === undefined) return { records: [] };
    skip -= step.records.length;
    from = step.next;
  }
  const page = await collection.scroll({ limit: spec.limit, ...filter, ...(from === undefined ? {} : { from }), ...(spec.withVector === true ? { withVector: true } : {}) });
  return page.next === undefined ? { records: page.records } : { records: page.records, next: page.next };
}
