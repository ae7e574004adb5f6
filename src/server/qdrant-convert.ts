/**
 * Conversions between Qdrant's REST shapes and the engine's: point ids, distances, payload
 * selectors, filters. Pure functions, used by routes/qdrant.ts.
 *
 * Point ids. Qdrant ids are unsigned integers or UUIDs. A point is stored as a document whose id
 * is the integer in canonical decimal ("42") or the UUID in canonical form (lowercase, hyphenated).
 * The two never collide (a UUID has hyphens), so the id's type needs no extra storage: an id made
 * only of digits, without a leading zero, within 2^53, is answered as an integer; any other id
 * (a UUID, or a document written through the native API) as a string.
 */
import { PiramidError } from '../engine/errors.js';
import { clauseList, isFilterCondition, isHasIdCondition, type Condition, type Filter } from '../engine/query/filter.js';
import type { Metadata, Metric } from '../engine/types.js';

export type PointId = number | string;

const CANONICAL_INTEGER = /^(0|[1-9][0-9]*)$/;
const HEX32 = /^[0-9a-f]{32}$/;

function invalid(field: string, message: string): never {
  throw new PiramidError('INVALID_ARGUMENT', `${field}: ${message}`, {
    location: { field },
    hint: 'A point id is an unsigned integer (at most 2^53 - 1 here) or a UUID such as "550e8400-e29b-41d4-a716-446655440000".',
  });
}

/** A UUID in any form the uuid crate reads (hyphenated, simple, braced, urn) → lowercase hyphenated. */
export function normalizeUuid(value: string): string | undefined {
  let text = value.trim().toLowerCase();
  if (text.startsWith('urn:uuid:')) text = text.slice(9);
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1);
  let hex: string;
  if (text.length === 36) {
    if (text[8] !== '-' || text[13] !== '-' || text[18] !== '-' || text[23] !== '-') return undefined;
    hex = text.replace(/-/g, '');
  } else {
    hex = text;
  }
  if (!HEX32.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A Qdrant point id from a request → the document id it is stored under. */
export function pointIdToDocumentId(value: unknown, field: string): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) invalid(field, `a point id must be an unsigned integer up to 2^53 - 1 or a UUID; got ${value}.`);
    return String(value);
  }
  if (typeof value === 'string') {
    const uuid = normalizeUuid(value);
    if (uuid === undefined) invalid(field, `${JSON.stringify(value)} is not a valid point id (an unsigned integer or a UUID).`);
    return uuid;
  }
  return invalid(field, `a point id must be an unsigned integer or a UUID string; got ${value === null ? 'null' : typeof value}.`);
}

/** A stored document id → the point id a Qdrant client sees. */
export function documentIdToPointId(id: string): PointId {
  if (CANONICAL_INTEGER.test(id)) {
    const n = Number(id);
    if (Number.isSafeInteger(n)) return n;
  }
  return id;
}

export const DISTANCE_TO_METRIC: Record<string, Metric> = { Cosine: 'cosine', Dot: 'dot', Euclid: 'l2' };
export const METRIC_TO_DISTANCE: Record<Metric, string> = { cosine: 'Cosine', dot: 'Dot', l2: 'Euclid' };

/** Qdrant's `with_payload`: true, false, a list of keys, {include: [...]} or {exclude: [...]}. */
export type WithPayload = boolean | string[] | { include: string | string[] } | { exclude: string | string[] } | null | undefined;

function pathParts(key: string): string[] {
  return key.split('.').filter((part) => part.length > 0);
}

function pick(source: Metadata, target: Metadata, parts: string[]): void {
  const [head, ...rest] = parts;
  if (head === undefined || !Object.hasOwn(source, head)) return;
  const value = source[head];
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const existing = target[head];
  const child: Metadata = typeof existing === 'object' && existing !== null && !Array.isArray(existing) ? (existing as Metadata) : {};
  pick(value as Metadata, child, rest);
  if (Object.keys(child).length > 0) target[head] = child;
}

function omit(target: Metadata, parts: string[]): void {
  const [head, ...rest] = parts;
  if (head === undefined || !Object.hasOwn(target, head)) return;
  if (rest.length === 0) {
    delete target[head];
    return;
  }
  const value = target[head];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const copy = { ...(value as Metadata) };
  omit(copy, rest);
  target[head] = copy;
}

const asList = (keys: string | string[]): string[] => (Array.isArray(keys) ? keys : [keys]);

/**
 * The payload to return for a point's metadata, or undefined when none is asked for. A point
 * without metadata has the payload `{}`. Keys may be dotted paths into nested objects.
 */
export function selectPayload(metadata: Metadata | undefined, withPayload: WithPayload, byDefault: boolean): Metadata | undefined {
  const selector = withPayload ?? byDefault;
  if (selector === false) return undefined;
  const payload = metadata ?? {};
  if (selector === true) return payload;
  if (Array.isArray(selector) || 'include' in selector) {
    const keys = Array.isArray(selector) ? selector : asList(selector.include);
    const out: Metadata = {};
    for (const key of keys) pick(payload, out, pathParts(key));
    return out;
  }
  const out: Metadata = { ...payload };
  for (const key of asList(selector.exclude)) omit(out, pathParts(key));
  return out;
}

/** `with_vector`: true or false (named vectors do not exist here, so a list of names means true when it holds ""). */
export function wantsVector(withVector: boolean | string[] | null | undefined): boolean {
  if (Array.isArray(withVector)) return withVector.includes('') || withVector.includes('default');
  return withVector === true;
}

/** A stored vector as Qdrant returns it: Cosine collections hand back the normalised vector. */
export function outputVector(vector: number[], metric: Metric): number[] {
  if (metric !== 'cosine') return vector;
  let sum = 0;
  for (const x of vector) sum += x * x;
  const length = Math.sqrt(sum);
  return length === 0 ? vector : vector.map((x) => Math.fround(x / length));
}

/** has_id lists take UUIDs in any form: normalise them as the stored ids are (a copy). */
export function normalizeFilterIds(filter: Filter): Filter {
  const condition = (c: Condition, path: string): Condition => {
    if (isHasIdCondition(c)) return { has_id: c.has_id.map((id, i) => pointIdToDocumentId(id, `${path}.has_id[${i}]`)) };
    if (isFilterCondition(c)) return walk(c, path);
    return c;
  };
  const walk = (f: Filter, path: string): Filter => {
    const out: Filter = {};
    for (const clause of ['must', 'should', 'must_not'] as const) {
      if (f[clause] !== undefined) out[clause] = clauseList(f[clause]).map((c, i) => condition(c, `${path}.${clause}[${i}]`));
    }
    if (f.min_should !== undefined) {
      out.min_should = { min_count: f.min_should.min_count, conditions: f.min_should.conditions.map((c, i) => condition(c, `${path}.min_should.conditions[${i}]`)) };
    }
    return out;
  };
  return walk(filter, 'filter');
}
