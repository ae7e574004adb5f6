import type { Database } from '../engine/database.js';
import { PiramidError, isPiramidError } from '../engine/errors.js';
import { decodeVectorBase64 } from '../engine/vector-base64.js';
import { parseFilter, type Filter } from '../engine/query/filter.js';
import { parseWhere } from '../engine/query/where.js';
import type { QueryPlan } from '../engine/query/planner.js';
import type { SearchHit, SearchMode, SearchOptions } from '../engine/types.js';

/** One query as the CLI, the shell and batch files describe it. */
export interface QuerySpec {
  collection: string;
  text?: string;
  vector?: number[] | Float32Array;
  k: number;
  offset?: number;
  scoreThreshold?: number;
  mode?: SearchMode;
  alpha?: number;
  filter?: Filter;
  ef?: number;
  nprobe?: number;
  /** Exact scoring of every live record, bypassing the approximate index. */
  exact?: boolean;
  withVector?: boolean;
  groupByDocument?: boolean;
}

/** The `query --json` result shape; stable for scripts. */
export interface QueryJson {
  collection: string;
  k: number;
  took_ms: number;
  hits: SearchHit[];
  plan: QueryPlan;
}

/** Runs one query against an open database and times it (embedding included). */
export async function runQuery(db: Database, spec: QuerySpec): Promise<QueryJson> {
  const collection = await db.collection(spec.collection);
  const options: SearchOptions = { k: spec.k };
  if (spec.offset !== undefined) options.offset = spec.offset;
  if (spec.scoreThreshold !== undefined) options.scoreThreshold = spec.scoreThreshold;
  if (spec.mode !== undefined) options.mode = spec.mode;
  if (spec.alpha !== undefined) options.alpha = spec.alpha;
  if (spec.filter !== undefined) options.filter = spec.filter;
  if (spec.ef !== undefined) options.efSearch = spec.ef;
  if (spec.nprobe !== undefined) options.nprobe = spec.nprobe;
  if (spec.exact === true) options.exact = true;
  if (spec.withVector === true) options.withVector = true;
  if (spec.groupByDocument === true) options.groupByDocument = true;
  if (spec.text !== undefined && spec.vector !== undefined && spec.mode !== 'hybrid') {
    throw new PiramidError('INVALID_ARGUMENT', 'Give either a query text or a vector, not both (except in hybrid mode).');
  }
  const query = spec.vector ?? spec.text;
  if (query === undefined) throw new PiramidError('INVALID_ARGUMENT', 'Nothing to search for.', { hint: 'Pass a query text, or --vector "[...]".' });
  if (spec.text !== undefined && spec.vector !== undefined) options.text = spec.text;
  const started = process.hrtime.bigint();
  const result = await collection.search(query, options);
  const tookMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { collection: collection.name, k: spec.k, took_ms: Math.round(tookMs * 1000) / 1000, hits: result.hits, plan: result.plan };
}

/** `--where` text or `--filter` JSON to a filter; both together are refused. */
export function filterFrom(where: string | undefined, filterJson: string | undefined): Filter | undefined {
  if (where !== undefined && filterJson !== undefined) throw new PiramidError('INVALID_ARGUMENT', 'Give either --where or --filter, not both.');
  if (where !== undefined) return parseWhere(where);
  if (filterJson === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(filterJson);
  } catch (err) {
    throw new PiramidError('INVALID_ARGUMENT', `--filter is not valid JSON (${(err as Error).message}).`);
  }
  return parseFilter(value);
}

/** A `--vector` argument: a JSON array of numbers, or base64 of little-endian float32 values. */
export function vectorFrom(text: string, what = '--vector'): number[] | Float32Array {
  const given = text.trim();
  if (!given.startsWith('[')) {
    try {
      return decodeVectorBase64(given, {});
    } catch (err) {
      throw new PiramidError('INVALID_ARGUMENT', `${what} is neither a JSON array nor base64 float32 (${isPiramidError(err) ? err.message : String(err)})`, {
        hint: 'Example: --vector "[0.1, 0.2, 0.3]"',
      });
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(given);
  } catch {
    throw new PiramidError('INVALID_ARGUMENT', `${what} is not valid JSON.`, { hint: 'Example: --vector "[0.1, 0.2, 0.3]"' });
  }
  if (!Array.isArray(parsed)) throw new PiramidError('INVALID_ARGUMENT', `${what} must be a JSON array of numbers.`);
  return parsed as number[];
}
