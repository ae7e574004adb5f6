import type { AbstractSublevel } from 'abstract-level';
import { payloadValues, type IndexableTerm } from '../query/filter.js';
import type { Metadata } from '../types.js';
import type { RootLevel } from './collection-store.js';

export const PAYLOAD_INDEX_KINDS = ['keyword', 'integer', 'float'] as const;
export type PayloadIndexKind = (typeof PAYLOAD_INDEX_KINDS)[number];


/** Raw pre-prefixed operations, to be put into the collection's own atomic batch. */
export interface PostingOps {
  puts: string[];
  dels: string[];
}

type Sub = AbstractSublevel<RootLevel, string | Buffer | Uint8Array, string, string>;
const SEP = '\x00';
/** Sorts right after SEP: `x + AFTER_SEP` bounds every key that starts with `x + SEP`, whatever follows. */
const AFTER_SEP = '\x01';

/**
 * Value -> record postings for the metadata keys a collection indexes (`piramid index-field`):
 * key `<field>\0<encoded value>\0<record id>` in the sublevel `c~<name>~pidx`, empty value.
 * Numbers are encoded so that byte order is numeric order, so a range is one LevelDB range scan.
 * The planner intersects postings to find a filter's candidates without touching the records.
 */
export class PayloadIndex {
  private readonly postings: Sub;

  constructor(root: RootLevel, collectionName: string) {
    this.postings = root.sublevel<string, string>(`c~${collectionName}~pidx`, {});
  }

  /** Raw key prefix of the postings on the root, for maintenance scans. */
  get keyPrefix(): string {
    return this.postings.prefix;
  }

  /** Postings a record with this metadata contributes to the given indexes. */
  operationsFor(recordId: string, metadata: Metadata | undefined, indexes: Readonly<Record<string, PayloadIndexKind>>): string[] {
    const keys: string[] = [];
    if (metadata === undefined) return keys;
    for (const [field, kind] of Object.entries(indexes)) {
      // A leaf array is one value to filters (matched by any element): index each element.
      for (const value of payloadValues(metadata, field).flatMap((v) => (Array.isArray(v) ? (v as unknown[]) : [v]))) {
        const encoded = encodeValue(value, kind);
        if (encoded !== undefined) keys.push(this.postings.prefix + field + SEP + encoded + SEP + recordId);
      }
    }
    return keys;
  }

  /**
   * Candidates for a filter from its indexed terms, without reading more than `limit + 1` postings
   * per term: the ids of its most selective indexed term (every matching record is among them; the
   * caller still checks the filter), or `ids: null` with `atLeast` when even that term names more
   * than `limit` records (then the exact path would not pay, and counting further would cost what
   * it saves). `used` lists the keys whose postings were read.
   */
  async candidates(
    terms: readonly IndexableTerm[],
    indexes: Readonly<Record<string, PayloadIndexKind>>,
    limit: number,
  ): Promise<{ ids: string[] | null; atLeast: number; used: string[] } | null> {
    let best: Set<string> | null = null;
    const used: string[] = [];
    for (const term of terms) {
      const kind = indexes[term.key];
      if (kind === undefined || (term.kind === 'range' && kind === 'keyword')) continue;
      used.push(term.key);
      const ids = term.kind === 'values' ? await this.idsForValues(term.key, term.values, kind, limit + 1) : await this.idsForRange(term, limit + 1);
      if (best === null || ids.size < best.size) best = ids;
      if (best.size === 0) break;
    }
    if (best === null) return null;
    if (best.size > limit) return { ids: null, atLeast: best.size, used };
    return { ids: [...best], atLeast: best.size, used };
  }

  /** Every posting of one field (for dropping or rebuilding an index). */
  async clearField(field: string): Promise<void> {
    await this.postings.clear({ gte: field + SEP, lt: field + AFTER_SEP });
  }

  private async idsForValues(field: string, values: readonly (string | number | boolean)[], kind: PayloadIndexKind, max: number): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const value of values) {
      const encoded = encodeValue(value, kind);
      if (encoded === undefined) continue; // e.g. a string against a numeric index: no record has it
      const prefix = field + SEP + encoded;
      await this.collect(prefix + SEP, prefix + AFTER_SEP, ids, max);
      if (ids.size >= max) break;
    }
    return ids;
  }

  private async idsForRange(term: Extract<IndexableTerm, { kind: 'range' }>, max: number): Promise<Set<string>> {
    const low = term.gte ?? term.gt;
    const high = term.lte ?? term.lt;
    const prefix = term.key + SEP;
    const start = low === undefined ? prefix + 'n' : prefix + encodeNumber(low);
    const end = high === undefined ? prefix + 'o' : prefix + encodeNumber(high) + AFTER_SEP;
    const ids = new Set<string>();
    await this.collect(start, end, ids, max, (encoded) => {
      const value = decodeNumber(encoded);
      return (term.gt === undefined || value > term.gt) && (term.lt === undefined || value < term.lt);
    });
    return ids;
  }

  /** Record ids of the postings in [gte, lt) (those whose value passes `accept`), until `into` holds `max`. */
  private async collect(gte: string, lt: string, into: Set<string>, max: number, accept?: (encodedValue: string) => boolean): Promise<void> {
    const iterator = this.postings.keys({ gte, lt });
    try {
      while (into.size < max) {
        const keys = await iterator.nextv(Math.min(4096, max - into.size + 64));
        if (keys.length === 0) return;
        for (const key of keys) {
          if (into.size >= max) return;
          const first = key.indexOf(SEP);
          const second = key.indexOf(SEP, first + 1);
          if (accept !== undefined && !accept(key.slice(first + 1, second))) continue;
          into.add(key.slice(second + 1));
        }
      }
    } finally {
      await iterator.close();
    }
  }
}

function encodeValue(value: unknown, kind: PayloadIndexKind): string | undefined {
  if (kind === 'keyword') {
    if (typeof value === 'string') return 's' + value.replaceAll(SEP, '');
    if (typeof value === 'number' || typeof value === 'boolean') return 's' + String(value);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  if (kind === 'integer' && !Number.isInteger(value)) return undefined;
  return encodeNumber(value);
}

/** 'n' + 16 hex digits of the float64 bits, sign-flipped so that byte order is numeric order. */
function encodeNumber(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value === 0 ? 0 : value); // -0 and 0 are one key
  let high = view.getUint32(0);
  let low = view.getUint32(4);
  if (high & 0x80000000) {
    high = ~high >>> 0;
    low = ~low >>> 0;
  } else {
    high = (high | 0x80000000) >>> 0;
  }
  return 'n' + high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

function decodeNumber(encoded: string): number {
  let high = Number.parseInt(encoded.slice(1, 9), 16);
  let low = Number.parseInt(encoded.slice(9, 17), 16);
  if (high & 0x80000000) {
    high = (high & 0x7fffffff) >>> 0;
  } else {
    high = ~high >>> 0;
    low = ~low >>> 0;
  }
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, high);
  view.setUint32(4, low);
  return view.getFloat64(0);
}
