/**
 * Metadata filters in Qdrant's JSON shape (a subset): validation, evaluation against stored
 * records, description for `--explain`, and the terms a payload index can answer. Pure: no I/O.
 *
 * Semantics follow Qdrant's own condition checker (lib/segment: query_checker.rs,
 * condition_checker.rs, json_path/get.rs), so a filter means here what it means there:
 *
 * - `must`: every condition holds. `should`: at least one holds; an empty `should` list holds for
 *   no record (Qdrant's behaviour, qdrant#554). `must_not`: none holds. `min_should`: at least
 *   `min_count` of its conditions hold. A clause may be one condition or a list; `{}` matches all.
 * - Keys are paths into `metadata`: `a.b.c` walks objects; `a[]` walks every element of an array
 *   and `a[2]` one of them; `"odd key".b` quotes a part that is not letters, digits, `_` and `-`.
 *   A dot never walks into an array by itself (`a.b` on `{a: [{b: 1}]}` finds nothing; write
 *   `a[].b`), exactly as Qdrant.
 * - A field condition holds when one of the values at its key matches; a value that is an array
 *   matches when one of its elements does (arrays inside arrays are not flattened). A missing key
 *   never matches a field condition, whatever the operator (`except` included).
 * - `match.value`: strings and booleans by `===`; integers against integral numbers (JSON has no
 *   2.0 vs 2 here, so both match 2). Decimals are not accepted (as Qdrant): use a range.
 * - `match.any`: the value is one of the list (all strings or all integers). `match.except`: the
 *   value is not in the list; a value of another type (a boolean, an object, a number against a
 *   list of strings) counts as "not in the list"; null does not.
 * - `match.text`: substring, case-sensitive (Qdrant without a full-text index).
 * - `range`: numbers only (other values never match); every given bound must hold for one value.
 * - `is_empty`: the key is missing, or every value at it is null or `[]`. `is_null`: a value at
 *   it is null (`[null]` is neither null nor empty, as in Qdrant).
 * - `has_id`: the record's id or its parent document's id is in the list, compared as strings
 *   (so the chunks of a document are found by the document's id).
 */
import { PiramidError } from '../errors.js';
import type { Metadata, StoredRecord } from '../types.js';

// ---------------------------------------------------------------------------------------------
// Types: Qdrant's filter JSON (the subset Piramid supports).

export type MatchScalar = string | number | boolean;

export interface MatchValue {
  value: MatchScalar;
}
export interface MatchAny {
  any: string[] | number[];
}
export interface MatchExcept {
  except: string[] | number[];
}
export interface MatchText {
  text: string;
}
export type Match = MatchValue | MatchAny | MatchExcept | MatchText;

export interface RangeBounds {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

export interface FieldCondition {
  key: string;
  match?: Match;
  range?: RangeBounds;
}
export interface HasIdCondition {
  has_id: (string | number)[];
}
export interface IsEmptyCondition {
  is_empty: { key: string };
}
export interface IsNullCondition {
  is_null: { key: string };
}
export interface MinShould {
  conditions: Condition[];
  min_count: number;
}

export interface Filter {
  must?: Condition[] | Condition;
  should?: Condition[] | Condition;
  must_not?: Condition[] | Condition;
  min_should?: MinShould;
}

export type Condition = FieldCondition | HasIdCondition | IsEmptyCondition | IsNullCondition | Filter;

/**
 * A condition a payload index can answer. A record satisfies a `values` term when one of the
 * values at `key` (or, for an array, one of its elements) equals one of `values` (strings and
 * booleans by `===`, numbers when integral); a `range` term when one of them is a number within
 * every given bound. That is exactly how the field condition it came from matches.
 */
export type IndexableTerm =
  | { key: string; kind: 'values'; values: MatchScalar[] }
  | { key: string; kind: 'range'; gt?: number; gte?: number; lt?: number; lte?: number };

// ---------------------------------------------------------------------------------------------
// Condition kinds.

export function isFieldCondition(c: Condition): c is FieldCondition {
  return 'key' in c;
}
export function isHasIdCondition(c: Condition): c is HasIdCondition {
  return 'has_id' in c;
}
export function isIsEmptyCondition(c: Condition): c is IsEmptyCondition {
  return 'is_empty' in c;
}
export function isIsNullCondition(c: Condition): c is IsNullCondition {
  return 'is_null' in c;
}
export function isFilterCondition(c: Condition): c is Filter {
  return !isFieldCondition(c) && !isHasIdCondition(c) && !isIsEmptyCondition(c) && !isIsNullCondition(c);
}

/** A clause as a list, whether it was given as one condition, a list, or not at all. */
export function clauseList(clause: Condition[] | Condition | undefined): Condition[] {
  if (clause === undefined) return [];
  return Array.isArray(clause) ? clause : [clause];
}

// ---------------------------------------------------------------------------------------------
// Key paths (Qdrant's JsonPath: `a.b`, `a[]`, `a[0]`, `"quoted part"`).

export type KeyPathItem = { kind: 'key'; name: string } | { kind: 'index'; index: number } | { kind: 'wildcard' };

const RAW_PART = /[\p{Alphabetic}\p{N}_-]+/uy;
const QUOTED_PART = /"([^"\\]*)"/y;
const INDEX_PART = /\[(\d+)\]/y;

/** Whether `name` can stand in a key without quotes (letters, digits, `_`, `-`). */
export function isRawKeyPart(name: string): boolean {
  RAW_PART.lastIndex = 0;
  return RAW_PART.test(name) && RAW_PART.lastIndex === name.length;
}

/**
 * A key split into its parts (the first is always a `key`), or the offset (UTF-16) at which it
 * stops being a valid key.
 */
export function parseKeyPath(key: string): KeyPathItem[] | { errorAt: number } {
  const items: KeyPathItem[] = [];
  let at = 0;
  const name = (): string | undefined => {
    for (const re of [RAW_PART, QUOTED_PART]) {
      re.lastIndex = at;
      const m = re.exec(key);
      if (m !== null) {
        at = re.lastIndex;
        return m[1] ?? m[0];
      }
    }
    return undefined;
  };
  const first = name();
  if (first === undefined) return { errorAt: 0 };
  items.push({ kind: 'key', name: first });
  while (at < key.length) {
    if (key[at] === '.') {
      at += 1;
      const part = name();
      if (part === undefined) return { errorAt: at };
      items.push({ kind: 'key', name: part });
    } else if (key.startsWith('[]', at)) {
      at += 2;
      items.push({ kind: 'wildcard' });
    } else {
      INDEX_PART.lastIndex = at;
      const m = INDEX_PART.exec(key);
      if (m === null) return { errorAt: at };
      at = INDEX_PART.lastIndex;
      items.push({ kind: 'index', index: Number(m[1]) });
    }
  }
  return items;
}

/** The inverse of parseKeyPath: quotes the parts that need it. */
export function formatKeyPath(items: readonly KeyPathItem[]): string {
  let out = '';
  for (const item of items) {
    if (item.kind === 'key') {
      const part = isRawKeyPart(item.name) ? item.name : `"${item.name}"`;
      out += out === '' ? part : `.${part}`;
    } else {
      out += item.kind === 'index' ? `[${item.index}]` : '[]';
    }
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function collectValues(value: unknown, items: readonly KeyPathItem[], i: number, out: unknown[]): void {
  if (value === undefined) return;
  const item = items[i];
  if (item === undefined) {
    out.push(value);
    return;
  }
  if (item.kind === 'key') {
    if (isObject(value) && Object.hasOwn(value, item.name)) collectValues(value[item.name], items, i + 1, out);
  } else if (Array.isArray(value)) {
    if (item.kind === 'index') {
      if (item.index < value.length) collectValues(value[item.index], items, i + 1, out);
    } else {
      for (const element of value) collectValues(element, items, i + 1, out);
    }
  }
}

function valuesAtPath(metadata: Metadata | undefined, items: readonly KeyPathItem[]): unknown[] {
  const out: unknown[] = [];
  if (metadata !== undefined) collectValues(metadata, items, 0, out);
  return out;
}

/**
 * The values at `key` in `metadata`, as Qdrant's `get_value`: `[]` in the key walks every element,
 * a leaf array is returned whole (a condition matches it when one of its elements matches).
 * Payload indexes should index these values (and the elements of those that are arrays) so that
 * their postings agree with matchesFilter. An invalid key has no values.
 */
export function payloadValues(metadata: Metadata | undefined, key: string): unknown[] {
  const items = parseKeyPath(key);
  return Array.isArray(items) ? valuesAtPath(metadata, items) : [];
}

// ---------------------------------------------------------------------------------------------
// Validation.

const MAX_DEPTH = 64;
const FILTER_KEYS = ['must', 'should', 'must_not', 'min_should'] as const;
const CLAUSES = ['must', 'should', 'must_not'] as const;
const RANGE_KEYS = ['gt', 'gte', 'lt', 'lte'] as const;
const MATCH_KEYS = ['value', 'any', 'except', 'text'] as const;
/** Qdrant conditions Piramid does not implement: named so the error is not "unknown". */
const UNSUPPORTED: Record<string, string> = {
  nested: 'nested object filters are not supported; use "key": "array[].field" conditions',
  has_vector: 'has_vector is not supported',
  geo_radius: 'geo conditions are not supported',
  geo_bounding_box: 'geo conditions are not supported',
  geo_polygon: 'geo conditions are not supported',
  values_count: 'values_count is not supported',
  phrase: 'match.phrase is not supported; match.text matches a substring',
  text_any: 'match.text_any is not supported; use a should of match.text conditions',
};
const HINT =
  'A filter is Qdrant\'s JSON, e.g. {"must": [{"key": "lang", "match": {"value": "en"}}, {"key": "year", "range": {"gte": 2020}}], "must_not": [{"has_id": ["doc-1"]}]}.';

function fail(path: string, message: string, hint = HINT): never {
  throw new PiramidError('INVALID_ARGUMENT', `${path}: ${message}`, { location: { field: path }, hint });
}

/** A short rendering of a JSON value for messages. */
function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)} (a string)`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a ${typeof value}`;
}

const normalizeName = (name: string): string => name.toLowerCase().replace(/[_-]/g, '');

function unknownKey(path: string, key: string, allowed: readonly string[]): never {
  const unsupported = UNSUPPORTED[key];
  if (unsupported !== undefined) fail(`${path}.${key}`, unsupported);
  const near = allowed.find((a) => normalizeName(a) === normalizeName(key));
  const suggestion = near === undefined ? '' : ` (did you mean "${near}"?)`;
  fail(`${path}.${key}`, `unknown field "${key}"${suggestion}; expected ${allowed.map((a) => `"${a}"`).join(', ')}.`);
}

function checkKeys(path: string, object: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(object)) if (!allowed.includes(key)) unknownKey(path, key, allowed);
}

function parseKey(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, `a key must be a string; got ${show(value)}.`);
  if (value.length === 0) fail(path, 'a key must not be empty.');
  const items = parseKeyPath(value);
  if (!Array.isArray(items)) {
    fail(path, `${JSON.stringify(value)} is not a valid key (at character ${items.errorAt + 1}).`, 'Keys are metadata paths: `lang`, `meta.lang`, `tags[]`, `authors[].name`, `authors[0]`; quote a part with other characters: `"my key".sub`.');
  }
  return value;
}

function isSafeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function parseValueList(value: unknown, path: string): string[] | number[] {
  if (!Array.isArray(value)) fail(path, `expected a list of strings or of integers; got ${show(value)}.`);
  const list: unknown[] = value;
  const strings = typeof list[0] !== 'number';
  const hint = 'match.any and match.except take a list of strings or a list of integers (as Qdrant); use a range for decimals.';
  list.forEach((item, i) => {
    if (strings ? typeof item === 'string' : isSafeInt(item)) return;
    const mixed = strings ? typeof item === 'number' : typeof item === 'string';
    fail(`${path}[${i}]`, mixed ? `the list mixes strings and numbers (${show(item)}); give all strings or all integers.` : `expected ${strings ? 'a string' : 'an integer'}; got ${show(item)}.`, hint);
  });
  return strings ? (list as string[]).slice() : (list as number[]).slice();
}

function parseMatch(value: unknown, path: string): Match {
  if (!isObject(value)) fail(path, `match must be an object such as {"value": "en"}; got ${show(value)}.`);
  checkKeys(path, value, MATCH_KEYS);
  const present = MATCH_KEYS.filter((k) => value[k] !== undefined);
  if (present.length !== 1) {
    fail(path, present.length === 0 ? 'match needs one of "value", "any", "except", "text".' : `match takes one of ${present.map((k) => `"${k}"`).join(', ')}, not several.`);
  }
  const kind = present[0] as (typeof MATCH_KEYS)[number];
  const given = value[kind];
  const at = `${path}.${kind}`;
  switch (kind) {
    case 'value':
      if (typeof given === 'string' || typeof given === 'boolean') return { value: given };
      if (isSafeInt(given)) return { value: given };
      if (given === null) fail(at, 'null cannot be matched; use {"is_null": {"key": ...}}.');
      if (typeof given === 'number' && Number.isFinite(given)) {
        fail(at, `match.value takes strings, integers and booleans; got ${show(given)}.`, `For a decimal use a range: {"range": {"gte": ${given}, "lte": ${given}}}.`);
      }
      return fail(at, `match.value takes a string, an integer or a boolean; got ${show(given)}.`);
    case 'any':
      return { any: parseValueList(given, at) };
    case 'except':
      return { except: parseValueList(given, at) };
    case 'text':
      if (typeof given !== 'string') fail(at, `match.text takes a string; got ${show(given)}.`);
      return { text: given };
  }
}

function parseRange(value: unknown, path: string): RangeBounds {
  if (!isObject(value)) fail(path, `range must be an object such as {"gte": 2020}; got ${show(value)}.`);
  checkKeys(path, value, RANGE_KEYS);
  const range: RangeBounds = {};
  for (const bound of RANGE_KEYS) {
    const given = value[bound];
    if (given === undefined || given === null) continue;
    if (typeof given !== 'number' || !Number.isFinite(given)) {
      fail(`${path}.${bound}`, `a range bound must be a number; got ${show(given)}.`, typeof given === 'string' ? 'Date-time ranges are not supported: store dates as numbers (e.g. a year, or epoch seconds).' : HINT);
    }
    range[bound] = given;
  }
  if (Object.keys(range).length === 0) fail(path, 'a range needs at least one of "gt", "gte", "lt", "lte".');
  return range;
}

function parseFieldCondition(value: Record<string, unknown>, path: string): FieldCondition {
  checkKeys(path, value, ['key', 'match', 'range']);
  const condition: FieldCondition = { key: parseKey(value.key, `${path}.key`) };
  const hasMatch = value.match !== undefined && value.match !== null;
  const hasRange = value.range !== undefined && value.range !== null;
  if (hasMatch && hasRange) fail(path, 'a condition takes "match" or "range", not both; put them in two conditions.');
  if (hasMatch) condition.match = parseMatch(value.match, `${path}.match`);
  else if (hasRange) condition.range = parseRange(value.range, `${path}.range`);
  else fail(path, `the condition on "${condition.key}" needs "match" or "range".`);
  return condition;
}

function parsePayloadField(value: unknown, path: string): { key: string } {
  if (!isObject(value)) fail(path, `expected {"key": "..."}; got ${show(value)}.`);
  checkKeys(path, value, ['key']);
  return { key: parseKey(value.key, `${path}.key`) };
}

function parseHasId(value: unknown, path: string): (string | number)[] {
  if (!Array.isArray(value)) fail(path, `has_id takes a list of ids; got ${show(value)}.`);
  const list: unknown[] = value;
  return list.map((id, i) => {
    if (typeof id === 'string') return id;
    if (isSafeInt(id) && id >= 0) return id;
    return fail(`${path}[${i}]`, `an id is a string or a non-negative integer; got ${show(id)}.`);
  });
}

function parseCondition(value: unknown, path: string, depth: number): Condition {
  if (!isObject(value)) fail(path, `a condition must be an object; got ${show(value)}.`);
  if ('key' in value) return parseFieldCondition(value, path);
  if ('has_id' in value) {
    checkKeys(path, value, ['has_id']);
    return { has_id: parseHasId(value.has_id, `${path}.has_id`) };
  }
  if ('is_empty' in value) {
    checkKeys(path, value, ['is_empty']);
    return { is_empty: parsePayloadField(value.is_empty, `${path}.is_empty`) };
  }
  if ('is_null' in value) {
    checkKeys(path, value, ['is_null']);
    return { is_null: parsePayloadField(value.is_null, `${path}.is_null`) };
  }
  for (const key of Object.keys(value)) {
    if (!(FILTER_KEYS as readonly string[]).includes(key)) unknownKey(path, key, ['key', 'has_id', 'is_empty', 'is_null', ...FILTER_KEYS]);
  }
  return parseFilterAt(value, path, depth + 1);
}

function parseClause(value: unknown, path: string, depth: number): Condition[] {
  if (Array.isArray(value)) return (value as unknown[]).map((c, i) => parseCondition(c, `${path}[${i}]`, depth));
  if (isObject(value)) return [parseCondition(value, path, depth)];
  return fail(path, `expected a condition or a list of conditions; got ${show(value)}.`);
}

function parseFilterAt(value: unknown, path: string, depth: number): Filter {
  if (depth > MAX_DEPTH) fail(path, `filters nest at most ${MAX_DEPTH} levels deep.`);
  if (!isObject(value)) fail(path, `a filter must be an object; got ${show(value)}.`);
  checkKeys(path, value, FILTER_KEYS);
  const filter: Filter = {};
  for (const clause of CLAUSES) {
    const given = value[clause];
    if (given !== undefined && given !== null) filter[clause] = parseClause(given, `${path}.${clause}`, depth);
  }
  const min = value.min_should;
  if (min !== undefined && min !== null) {
    const at = `${path}.min_should`;
    if (!isObject(min)) fail(at, `expected {"conditions": [...], "min_count": N}; got ${show(min)}.`);
    checkKeys(at, min, ['conditions', 'min_count']);
    if (!Array.isArray(min.conditions)) fail(`${at}.conditions`, `expected a list of conditions; got ${show(min.conditions)}.`);
    if (!isSafeInt(min.min_count) || min.min_count < 0) fail(`${at}.min_count`, `expected a non-negative integer; got ${show(min.min_count)}.`);
    filter.min_should = {
      conditions: (min.conditions as unknown[]).map((c, i) => parseCondition(c, `${at}.conditions[${i}]`, depth)),
      min_count: min.min_count,
    };
  }
  return filter;
}

/**
 * Validates a filter from outside (JSON body, `--filter`, API call) and returns a copy in normal
 * form: clauses as lists, absent (or null) parts left out. Throws INVALID_ARGUMENT naming the JSON
 * path of the first bad part (`filter.must[1].range.gte`) in the message and in `location.field`.
 */
export function parseFilter(value: unknown, path = 'filter'): Filter {
  return parseFilterAt(value, path, 0);
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

type Check = (stored: unknown) => boolean;
type Predicate = (record: StoredRecord) => boolean;

function matchCheck(match: Match): Check {
  if ('value' in match) {
    const expected = match.value;
    if (typeof expected === 'number') return (s) => typeof s === 'number' && Number.isInteger(s) && s === expected;
    return (s) => s === expected;
  }
  if ('text' in match) {
    const text = match.text;
    return (s) => typeof s === 'string' && s.includes(text);
  }
  if ('any' in match) {
    const list: readonly (string | number)[] = match.any;
    const set = new Set<unknown>(list);
    if (typeof list[0] === 'number') return (s) => typeof s === 'number' && Number.isInteger(s) && set.has(s);
    return (s) => typeof s === 'string' && set.has(s);
  }
  const list: readonly (string | number)[] = match.except;
  const set = new Set<unknown>(list);
  const numbers = typeof list[0] === 'number';
  return (s) => {
    if (s === null || s === undefined) return false;
    if (numbers) return typeof s === 'number' && Number.isInteger(s) ? !set.has(s) : true;
    return typeof s === 'string' ? !set.has(s) : true;
  };
}

function rangeCheck(range: RangeBounds): Check {
  const { gt, gte, lt, lte } = range;
  return (s) =>
    typeof s === 'number' &&
    (gt === undefined || s > gt) &&
    (gte === undefined || s >= gte) &&
    (lt === undefined || s < lt) &&
    (lte === undefined || s <= lte);
}

function keyItems(key: string): KeyPathItem[] {
  const items = parseKeyPath(key);
  if (!Array.isArray(items)) throw new TypeError(`invalid filter key ${JSON.stringify(key)}`);
  return items;
}

/** A check on the values at a key: one of them, or one element of an array one, passes. */
function onValues(key: string, check: Check): Predicate {
  const items = keyItems(key);
  return (record) => {
    for (const value of valuesAtPath(record.metadata, items)) {
      if (Array.isArray(value) ? value.some(check) : check(value)) return true;
    }
    return false;
  };
}

function compileCondition(c: Condition): Predicate {
  if (isFieldCondition(c)) {
    if (c.match !== undefined) return onValues(c.key, matchCheck(c.match));
    if (c.range !== undefined) return onValues(c.key, rangeCheck(c.range));
    return () => false;
  }
  if (isHasIdCondition(c)) {
    const ids = new Set(c.has_id.map(String));
    return (r) => ids.has(r.id) || (r.parent !== undefined && ids.has(r.parent));
  }
  if (isIsEmptyCondition(c)) {
    const items = keyItems(c.is_empty.key);
    return (r) => valuesAtPath(r.metadata, items).every((v) => v === null || (Array.isArray(v) && v.length === 0));
  }
  if (isIsNullCondition(c)) {
    const items = keyItems(c.is_null.key);
    return (r) => valuesAtPath(r.metadata, items).some((v) => v === null);
  }
  return compileFilterNode(c);
}

function compileFilterNode(filter: Filter): Predicate {
  const parts: Predicate[] = [];
  const must = clauseList(filter.must).map(compileCondition);
  if (must.length > 0) parts.push((r) => must.every((p) => p(r)));
  if (filter.should !== undefined) {
    const should = clauseList(filter.should).map(compileCondition);
    parts.push((r) => should.some((p) => p(r)));
  }
  const mustNot = clauseList(filter.must_not).map(compileCondition);
  if (mustNot.length > 0) parts.push((r) => !mustNot.some((p) => p(r)));
  if (filter.min_should !== undefined) {
    const { min_count: need } = filter.min_should;
    const conditions = filter.min_should.conditions.map(compileCondition);
    parts.push((r) => {
      let count = 0;
      for (const p of conditions) if (count < need && p(r)) count += 1;
      return count >= need;
    });
  }
  if (parts.length === 0) return () => true;
  if (parts.length === 1) return parts[0] as Predicate;
  return (r) => parts.every((p) => p(r));
}

/**
 * A predicate for many records: the filter is validated (parseFilter) and compiled once. Treat the
 * filter as immutable afterwards.
 */
export function compileFilter(filter: Filter): (record: StoredRecord) => boolean {
  return compileFilterNode(parseFilter(filter));
}

const compiled = new WeakMap<Filter, Predicate>();

/** Whether a record passes the filter (compiled on first use and cached per filter object). */
export function matchesFilter(filter: Filter, record: StoredRecord): boolean {
  let predicate = compiled.get(filter);
  if (predicate === undefined) {
    predicate = compileFilter(filter);
    compiled.set(filter, predicate);
  }
  return predicate(record);
}

/** Whether a record satisfies an indexable term (see IndexableTerm). */
export function matchesTerm(term: IndexableTerm, record: StoredRecord): boolean {
  if (term.kind === 'range') return onValues(term.key, rangeCheck(term))(record);
  const set = new Set<unknown>(term.values);
  return onValues(term.key, (s) => (typeof s === 'number' ? Number.isInteger(s) && set.has(s) : (typeof s === 'string' || typeof s === 'boolean') && set.has(s)))(record);
}

// ---------------------------------------------------------------------------------------------
// Analysis: keys, planner terms, description.

/** Every metadata key the filter reads, in order of first mention, without repeats. */
export function filterKeys(filter: Filter): string[] {
  const keys = new Set<string>();
  const visit = (c: Condition): void => {
    if (isFieldCondition(c)) keys.add(c.key);
    else if (isIsEmptyCondition(c)) keys.add(c.is_empty.key);
    else if (isIsNullCondition(c)) keys.add(c.is_null.key);
    else if (isFilterCondition(c)) visitFilter(c);
  };
  const visitFilter = (f: Filter): void => {
    for (const clause of CLAUSES) clauseList(f[clause]).forEach(visit);
    f.min_should?.conditions.forEach(visit);
  };
  visitFilter(filter);
  return [...keys];
}

function termOf(c: FieldCondition): IndexableTerm | undefined {
  if (c.range !== undefined) return { key: c.key, kind: 'range', ...c.range };
  if (c.match === undefined) return undefined;
  if ('value' in c.match) return { key: c.key, kind: 'values', values: [c.match.value] };
  if ('any' in c.match) return { key: c.key, kind: 'values', values: [...c.match.any] };
  return undefined; // except, text: no posting list answers them
}

function requiredTerms(filter: Filter, out: IndexableTerm[]): void {
  const required: Condition[] = clauseList(filter.must);
  // A should of one condition requires it; so does a min_should that needs all (or more) of its.
  const should = clauseList(filter.should);
  if (filter.should !== undefined && should.length === 1) required.push(...should);
  const min = filter.min_should;
  if (min !== undefined && min.conditions.length > 0 && min.min_count >= min.conditions.length) required.push(...min.conditions);
  for (const c of required) {
    if (isFieldCondition(c)) {
      const term = termOf(c);
      if (term !== undefined) out.push(term);
    } else if (isFilterCondition(c)) {
      requiredTerms(c, out);
    }
  }
}

/**
 * Terms for candidate generation from payload indexes: the `match.value`, `match.any` and `range`
 * conditions the filter requires, found through `must` (and nested filters in `must`, a `should`
 * of one condition, a `min_should` needing all its conditions), whatever else the filter holds.
 *
 * Guarantee: every record matching the filter satisfies every returned term (matchesTerm), so the
 * intersection of the terms' postings holds every match. It may hold more (conditions no index
 * answers, `should`, `must_not`, ...): candidates must still pass matchesFilter. Returns null when
 * the filter requires no such term (a payload index cannot narrow it).
 */
export function indexableTerms(filter: Filter): IndexableTerm[] | null {
  const terms: IndexableTerm[] = [];
  requiredTerms(filter, terms);
  return terms.length === 0 ? null : terms;
}

// Description: the --where syntax (see where.ts), so that --explain shows what a user could type.

const WHERE_KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'empty', 'null', 'contains', 'true', 'false', 'id']);
const WHERE_FIRST = /^[\p{L}_][\p{L}\p{N}_-]*$/u;
const WHERE_NEXT = /^[\p{L}\p{N}_-]+$/u;

const backquote = (name: string): string => `\`${name.replace(/[`\\]/g, (ch) => `\\${ch}`)}\``;

/** A metadata key as the --where syntax writes it (`id` and keywords in backquotes). */
export function whereKey(key: string): string {
  const items = parseKeyPath(key);
  if (!Array.isArray(items)) return backquote(key);
  let out = '';
  for (const item of items) {
    if (item.kind !== 'key') {
      out += item.kind === 'index' ? `[${item.index}]` : '[]';
    } else if (out === '') {
      const bare = WHERE_FIRST.test(item.name) && !WHERE_KEYWORDS.has(item.name.toLowerCase());
      out = bare ? item.name : backquote(item.name);
    } else {
      out += `.${WHERE_NEXT.test(item.name) ? item.name : backquote(item.name)}`;
    }
  }
  return out;
}

const literal = (value: MatchScalar): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));

type Printed = { text: string; kind: 'atom' | 'and' | 'or' | 'not' };

function printRange(key: string, range: RangeBounds): string {
  // Both bounds of a side apply to the same value: keep the tighter one.
  let lower: [string, number] | undefined;
  if (range.gt !== undefined) lower = ['<', range.gt];
  if (range.gte !== undefined && (lower === undefined || range.gte > lower[1])) lower = ['<=', range.gte];
  let upper: [string, number] | undefined;
  if (range.lt !== undefined) upper = ['<', range.lt];
  if (range.lte !== undefined && (upper === undefined || range.lte < upper[1])) upper = ['<=', range.lte];
  if (lower !== undefined && upper !== undefined) {
    if (lower[0] === '<=' && upper[0] === '<=' && lower[1] === upper[1] && !Number.isInteger(lower[1])) return `${key} = ${lower[1]}`;
    return `${lower[1]} ${lower[0]} ${key} ${upper[0]} ${upper[1]}`;
  }
  if (lower !== undefined) return `${key} ${lower[0] === '<' ? '>' : '>='} ${lower[1]}`;
  if (upper !== undefined) return `${key} ${upper[0]} ${upper[1]}`;
  return `${key} is a number`;
}

function printCondition(c: Condition, strict: boolean): Printed {
  if (isFieldCondition(c)) {
    const key = whereKey(c.key);
    if (c.range !== undefined) return { text: printRange(key, c.range), kind: 'atom' };
    const m = c.match;
    if (m === undefined) return { text: `${key} ?`, kind: 'atom' };
    if ('value' in m) return { text: `${key} = ${literal(m.value)}`, kind: 'atom' };
    if ('text' in m) return { text: `${key} contains ${literal(m.text)}`, kind: 'atom' };
    if ('any' in m) return { text: `${key} in (${m.any.map(literal).join(', ')})`, kind: 'atom' };
    return { text: `${key} not in (${m.except.map(literal).join(', ')})`, kind: 'atom' };
  }
  if (isHasIdCondition(c)) return { text: `id in (${c.has_id.map(literal).join(', ')})`, kind: 'atom' };
  if (isIsEmptyCondition(c)) return { text: `${whereKey(c.is_empty.key)} is empty`, kind: 'atom' };
  if (isIsNullCondition(c)) return { text: `${whereKey(c.is_null.key)} is null`, kind: 'atom' };
  return printFilter(c, strict);
}

const paren = (p: Printed, keep: Printed['kind'][]): string => (keep.includes(p.kind) ? p.text : `(${p.text})`);

/** A must_not member: `k != v`, `k not contains s`, `k is not empty` where the syntax has them. */
function printNegated(c: Condition, strict: boolean): Printed {
  if (isFieldCondition(c) && c.match !== undefined) {
    if ('value' in c.match) return { text: `${whereKey(c.key)} != ${literal(c.match.value)}`, kind: 'atom' };
    if ('text' in c.match) return { text: `${whereKey(c.key)} not contains ${literal(c.match.text)}`, kind: 'atom' };
  }
  if (isHasIdCondition(c) && c.has_id.length === 1) return { text: `id != ${literal(c.has_id[0] as string | number)}`, kind: 'atom' };
  if (isIsEmptyCondition(c)) return { text: `${whereKey(c.is_empty.key)} is not empty`, kind: 'atom' };
  if (isIsNullCondition(c)) return { text: `${whereKey(c.is_null.key)} is not null`, kind: 'atom' };
  return { text: `not ${paren(printCondition(c, strict), ['atom', 'not'])}`, kind: 'not' };
}

function printFilter(filter: Filter, strict: boolean): Printed {
  const parts: Printed[] = clauseList(filter.must).map((c) => printCondition(c, strict));
  if (filter.should !== undefined) {
    const should = clauseList(filter.should).map((c) => printCondition(c, strict));
    if (should.length === 0) {
      if (strict) throw new TypeError('an empty "should" (which matches nothing) has no --where form');
      parts.push({ text: 'nothing (empty should)', kind: 'atom' });
    } else if (should.length === 1) {
      parts.push(should[0] as Printed);
    } else {
      parts.push({ text: should.map((p) => paren(p, ['atom', 'not'])).join(' or '), kind: 'or' });
    }
  }
  for (const c of clauseList(filter.must_not)) parts.push(printNegated(c, strict));
  if (filter.min_should !== undefined) {
    if (strict) throw new TypeError('"min_should" has no --where form');
    const items = filter.min_should.conditions.map((c) => paren(printCondition(c, strict), ['atom', 'not']));
    parts.push({ text: `at least ${filter.min_should.min_count} of (${items.join(', ')})`, kind: 'atom' });
  }
  if (parts.length === 0) {
    if (strict) throw new TypeError('an empty filter (which matches everything) has no --where form');
    return { text: 'everything', kind: 'atom' };
  }
  if (parts.length === 1) return parts[0] as Printed;
  return { text: parts.map((p) => paren(p, ['atom', 'not', 'and'])).join(' and '), kind: 'and' };
}

/**
 * The filter in the --where syntax, for `--explain` and logs: `lang = "en" and year >= 2020`.
 * Parts with no --where form read as `everything`, `nothing (empty should)`, `at least N of (...)`.
 */
export function describeFilter(filter: Filter): string {
  return printFilter(filter, false).text;
}

/**
 * The filter as --where text that parseWhere reads back to an equivalent filter. Throws TypeError
 * for what the syntax cannot say: min_should, an empty should, an empty filter.
 */
export function formatFilterAsWhere(filter: Filter): string {
  return printFilter(filter, true).text;
}
