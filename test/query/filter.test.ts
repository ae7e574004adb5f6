import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPiramidError } from '../../src/engine/errors.js';
import {
  compileFilter,
  describeFilter,
  filterKeys,
  indexableTerms,
  matchesFilter,
  matchesTerm,
  parseFilter,
  payloadValues,
  type Condition,
  type Filter,
  type IndexableTerm,
} from '../../src/engine/query/filter.js';
import { seededRandom } from '../../src/engine/random.js';
import type { StoredRecord } from '../../src/engine/types.js';

const rec = (metadata: Record<string, unknown>, id = 'r', parent?: string): StoredRecord => ({ id, metadata, ...(parent === undefined ? {} : { parent }) });
const field = (key: string, rest: Omit<Extract<Condition, { key: string }>, 'key'>): Condition => ({ key, ...rest });
const matches = (filter: unknown, record: StoredRecord): boolean => matchesFilter(parseFilter(filter), record);

// ---------------------------------------------------------------------------------------------
// Hand-written cases.

describe('matchesFilter: field conditions', () => {
  it('match.value compares strictly: strings, integers, booleans', () => {
    const f = { must: [{ key: 'lang', match: { value: 'en' } }] };
    assert.equal(matches(f, rec({ lang: 'en' })), true);
    assert.equal(matches(f, rec({ lang: 'EN' })), false);
    assert.equal(matches(f, rec({ lang: 'english' })), false);
    assert.equal(matches(f, rec({})), false);
    assert.equal(matches({ must: { key: 'n', match: { value: 1 } } }, rec({ n: 1 })), true);
    assert.equal(matches({ must: { key: 'n', match: { value: 1 } } }, rec({ n: '1' })), false);
    assert.equal(matches({ must: { key: 'n', match: { value: 1 } } }, rec({ n: true })), false);
    assert.equal(matches({ must: { key: 'b', match: { value: true } } }, rec({ b: true })), true);
    assert.equal(matches({ must: { key: 'b', match: { value: true } } }, rec({ b: 1 })), false);
    assert.equal(matches({ must: { key: 'b', match: { value: false } } }, rec({ b: null })), false);
  });

  it('a value that is an array matches when one element does (Qdrant)', () => {
    const f = { must: [{ key: 'tags', match: { value: 'b' } }] };
    assert.equal(matches(f, rec({ tags: ['a', 'b'] })), true);
    assert.equal(matches(f, rec({ tags: ['a'] })), false);
    assert.equal(matches(f, rec({ tags: [] })), false);
    assert.equal(matches(f, rec({ tags: [['b']] })), false, 'arrays inside arrays are not flattened');
    assert.equal(matches({ must: [{ key: 'n', range: { gt: 5 } }] }, rec({ n: [1, 7] })), true);
  });

  it('match.any and match.except, including Qdrant\'s treatment of other types, null and missing keys', () => {
    const any = { must: [{ key: 'c', match: { any: ['red', 'blue'] } }] };
    assert.equal(matches(any, rec({ c: 'red' })), true);
    assert.equal(matches(any, rec({ c: ['green', 'blue'] })), true);
    assert.equal(matches(any, rec({ c: 'green' })), false);
    assert.equal(matches(any, rec({})), false);
    assert.equal(matches({ must: [{ key: 'c', match: { any: [] } }] }, rec({ c: 'red' })), false);
    assert.equal(matches({ must: [{ key: 'n', match: { any: [1, 2] } }] }, rec({ n: 2 })), true);
    assert.equal(matches({ must: [{ key: 'n', match: { any: [1, 2] } }] }, rec({ n: '2' })), false);

    const except = { must: [{ key: 'c', match: { except: ['red', 'blue'] } }] };
    assert.equal(matches(except, rec({ c: 'green' })), true);
    assert.equal(matches(except, rec({ c: 'red' })), false);
    assert.equal(matches(except, rec({ c: ['red', 'green'] })), true, 'one element outside the list is enough');
    assert.equal(matches(except, rec({ c: ['red', 'blue'] })), false);
    assert.equal(matches(except, rec({ c: [] })), false);
    assert.equal(matches(except, rec({})), false, 'a missing key matches no field condition, except included');
    assert.equal(matches(except, rec({ c: null })), false);
    assert.equal(matches(except, rec({ c: 5 })), true, 'another type is "not in the list"');
    assert.equal(matches(except, rec({ c: true })), true);
    assert.equal(matches(except, rec({ c: { x: 1 } })), true);
    const exceptInts = { must: [{ key: 'n', match: { except: [1, 2] } }] };
    assert.equal(matches(exceptInts, rec({ n: 3 })), true);
    assert.equal(matches(exceptInts, rec({ n: 2 })), false);
    assert.equal(matches(exceptInts, rec({ n: 2.5 })), true);
    assert.equal(matches(exceptInts, rec({ n: 'x' })), true);
  });

  it('match.text is a case-sensitive substring on strings', () => {
    const f = { must: [{ key: 'title', match: { text: 'whale' } }] };
    assert.equal(matches(f, rec({ title: 'The white whale' })), true);
    assert.equal(matches(f, rec({ title: 'The white Whale' })), false);
    assert.equal(matches(f, rec({ title: ['a', 'whales'] })), true);
    assert.equal(matches(f, rec({ title: 5 })), false);
  });

  it('range: numbers only, every bound', () => {
    const f = { must: [{ key: 'year', range: { gte: 2000, lt: 2010 } }] };
    assert.equal(matches(f, rec({ year: 2000 })), true);
    assert.equal(matches(f, rec({ year: 2009.5 })), true);
    assert.equal(matches(f, rec({ year: 2010 })), false);
    assert.equal(matches(f, rec({ year: '2005' })), false);
    assert.equal(matches(f, rec({ year: null })), false);
    assert.equal(matches(f, rec({ year: [1990, 2020] })), false, 'one element must satisfy every bound');
    assert.equal(matches(f, rec({ year: [1990, 2005] })), true);
    assert.equal(matches({ must: [{ key: 'x', range: { gt: 1, gte: null, lt: null, lte: 3 } }] }, rec({ x: 3 })), true);
  });

  it('nested keys: dots walk objects, [] walks arrays, [N] picks an element, quotes protect odd names', () => {
    const m = { meta: { lang: 'en', deep: { x: 1 } }, authors: [{ name: 'Ann', tags: ['a', 'b'] }, { name: 'Bob' }], 'my key': { 'a.b': 7 } };
    assert.equal(matches({ must: [{ key: 'meta.lang', match: { value: 'en' } }] }, rec(m)), true);
    assert.equal(matches({ must: [{ key: 'meta.deep.x', match: { value: 1 } }] }, rec(m)), true);
    assert.equal(matches({ must: [{ key: 'meta.nope.x', match: { value: 1 } }] }, rec(m)), false);
    assert.equal(matches({ must: [{ key: 'authors[].name', match: { value: 'Bob' } }] }, rec(m)), true);
    assert.equal(matches({ must: [{ key: 'authors.name', match: { value: 'Bob' } }] }, rec(m)), false, 'a dot does not walk into an array');
    assert.equal(matches({ must: [{ key: 'authors[0].name', match: { value: 'Bob' } }] }, rec(m)), false);
    assert.equal(matches({ must: [{ key: 'authors[1].name', match: { value: 'Bob' } }] }, rec(m)), true);
    assert.equal(matches({ must: [{ key: 'authors[].tags', match: { value: 'b' } }] }, rec(m)), true);
    assert.equal(matches({ must: [{ key: 'authors[].tags[]', match: { value: 'b' } }] }, rec(m)), true);
    assert.equal(matches({ must: [{ key: '"my key"."a.b"', match: { value: 7 } }] }, rec(m)), true);
    assert.deepEqual(payloadValues(m, 'authors[].name'), ['Ann', 'Bob']);
    assert.deepEqual(payloadValues(m, 'authors[].tags'), [['a', 'b']]);
    assert.deepEqual(payloadValues(m, 'authors[].tags[]'), ['a', 'b']);
    assert.deepEqual(payloadValues(m, 'constructor'), [], 'only own properties');
    assert.deepEqual(payloadValues(undefined, 'a'), []);
  });
});

describe('matchesFilter: is_empty, is_null, has_id', () => {
  it('is_empty: missing, null or []; is_null: null only', () => {
    const empty = { must: [{ is_empty: { key: 'note' } }] };
    const isNull = { must: [{ is_null: { key: 'note' } }] };
    const table: [unknown, boolean, boolean][] = [
      [undefined, true, false],
      [null, true, true],
      [[], true, false],
      [[null], false, false],
      ['', false, false],
      [0, false, false],
      [{}, false, false],
      ['x', false, false],
    ];
    for (const [note, isEmpty, nul] of table) {
      const r = rec(note === undefined ? {} : { note });
      assert.equal(matches(empty, r), isEmpty, `is_empty of ${JSON.stringify(note)}`);
      assert.equal(matches(isNull, r), nul, `is_null of ${JSON.stringify(note)}`);
    }
    assert.equal(matches(empty, { id: 'no-metadata' }), true);
    // Through [], every value must be empty for is_empty, one null is enough for is_null.
    assert.equal(matches({ must: { is_empty: { key: 'a[].b' } } }, rec({ a: [{ b: null }, { b: [] }, { c: 1 }] })), true);
    assert.equal(matches({ must: { is_empty: { key: 'a[].b' } } }, rec({ a: [{ b: null }, { b: 1 }] })), false);
    assert.equal(matches({ must: { is_null: { key: 'a[].b' } } }, rec({ a: [{ b: 1 }, { b: null }] })), true);
  });

  it('has_id matches the record id or its parent document id, as strings', () => {
    const f = { must: [{ has_id: ['doc-1', 42] }] };
    assert.equal(matches(f, { id: 'doc-1' }), true);
    assert.equal(matches(f, { id: 'doc-1#3', parent: 'doc-1' }), true, 'a chunk is found by its document id');
    assert.equal(matches(f, { id: 'doc-2#0', parent: 'doc-2' }), false);
    assert.equal(matches(f, { id: '42' }), true);
    assert.equal(matches({ must: [{ has_id: ['doc-1#3'] }] }, { id: 'doc-1#3', parent: 'doc-1' }), true);
    assert.equal(matches({ must: [{ has_id: ['doc-1#3'] }] }, { id: 'doc-1#4', parent: 'doc-1' }), false);
    assert.equal(matches({ must_not: [{ has_id: ['doc-1'] }] }, { id: 'doc-1#0', parent: 'doc-1' }), false);
  });
});

describe('matchesFilter: clauses', () => {
  const r = rec({ city: 'London', color: 'red' });
  const london = { key: 'city', match: { value: 'London' } };
  const berlin = { key: 'city', match: { value: 'Berlin' } };
  const red = { key: 'color', match: { value: 'red' } };

  it('must = all, should = at least one, must_not = none; a clause may be a single condition', () => {
    assert.equal(matches({ must: [london, red] }, r), true);
    assert.equal(matches({ must: [london, berlin] }, r), false);
    assert.equal(matches({ should: [berlin, red] }, r), true);
    assert.equal(matches({ should: [berlin] }, r), false, 'should with no match');
    assert.equal(matches({ should: berlin }, r), false);
    assert.equal(matches({ must_not: [berlin] }, r), true);
    assert.equal(matches({ must_not: [berlin, red] }, r), false);
    assert.equal(matches({ must: london, must_not: red }, r), false);
    assert.equal(matches({ must: [london], should: [berlin], must_not: [] }, r), false, 'clauses combine with AND');
  });

  it('empty filter matches everything; an empty should matches nothing (Qdrant)', () => {
    assert.equal(matches({}, r), true);
    assert.equal(matches({ must: [] }, r), true);
    assert.equal(matches({ must: [{}] }, r), true);
    assert.equal(matches({ should: [] }, r), false);
  });

  it('nested filters and min_should', () => {
    assert.equal(matches({ must_not: [{ must: [london, red] }] }, r), false);
    assert.equal(matches({ must_not: [{ must: [london, berlin] }] }, r), true);
    assert.equal(matches({ should: [{ must: [london, red] }, berlin] }, r), true);
    const min = (n: number): Filter => ({ min_should: { conditions: [london, berlin, red], min_count: n } });
    assert.equal(matches(min(0), r), true);
    assert.equal(matches(min(2), r), true);
    assert.equal(matches(min(3), r), false);
    assert.equal(matches({ min_should: { conditions: [], min_count: 1 } }, r), false);
  });

  it('compileFilter validates, and matchesFilter caches per filter object', () => {
    assert.throws(() => compileFilter({ must: [{ key: '', match: { value: 1 } }] }), (e: unknown) => isPiramidError(e, 'INVALID_ARGUMENT'));
    const f: Filter = { must: [field('city', { match: { value: 'London' } })] };
    assert.equal(matchesFilter(f, r), true);
    assert.equal(matchesFilter(f, rec({ city: 'Paris' })), false);
  });
});

// ---------------------------------------------------------------------------------------------
// Validation.

function rejects(value: unknown, path: string, messagePart?: RegExp): void {
  assert.throws(
    () => parseFilter(value),
    (e: unknown) => {
      assert.ok(isPiramidError(e, 'INVALID_ARGUMENT'), `expected INVALID_ARGUMENT, got ${String(e)}`);
      assert.equal(e.location?.field, path, e.message);
      assert.ok(e.message.startsWith(`${path}: `), e.message);
      if (messagePart !== undefined) assert.match(e.message, messagePart);
      assert.ok(e.hint !== undefined && e.hint.length > 0);
      return true;
    },
    JSON.stringify(value),
  );
}

describe('parseFilter', () => {
  it('returns a normal form: clauses as lists, nulls dropped, a copy', () => {
    const input = { must: { key: 'a', match: { value: 1 } }, should: null, must_not: [{ has_id: ['x'] }], min_should: null };
    const parsed = parseFilter(input);
    assert.deepEqual(parsed, { must: [{ key: 'a', match: { value: 1 } }], must_not: [{ has_id: ['x'] }] });
    assert.notEqual(parsed.must_not, input.must_not);
    assert.deepEqual(parseFilter({ must: [{ key: 'x', range: { gt: null, gte: 1, lt: null, lte: 2 } }] }), { must: [{ key: 'x', range: { gte: 1, lte: 2 } }] });
    assert.deepEqual(parseFilter({ min_should: { conditions: [{ is_null: { key: 'a' } }], min_count: 1 } }), { min_should: { conditions: [{ is_null: { key: 'a' } }], min_count: 1 } });
    assert.deepEqual(parseFilter({}), {});
  });

  it('names the JSON path of the bad part', () => {
    rejects(null, 'filter', /must be an object/);
    rejects([], 'filter', /must be an object/);
    rejects({ must: 'x' }, 'filter.must', /condition or a list/);
    rejects({ must: [1] }, 'filter.must[0]', /condition must be an object/);
    rejects({ mustNot: [] }, 'filter.mustNot', /did you mean "must_not"/);
    rejects({ and: [] }, 'filter.and', /unknown field "and"/);
    rejects({ must: [{ key: 'a', match: { value: 1 } }, { key: 'y', range: { gte: '2020' } }] }, 'filter.must[1].range.gte', /must be a number/);
    rejects({ must: [{ key: 'y', range: {} }] }, 'filter.must[0].range', /at least one/);
    rejects({ must: [{ key: 'y', range: { gt: null } }] }, 'filter.must[0].range', /at least one/);
    rejects({ must: [{ key: 'y', range: { from: 1 } }] }, 'filter.must[0].range.from', /unknown field/);
    rejects({ must: [{ key: 'y', range: { gte: Infinity } }] }, 'filter.must[0].range.gte');
    rejects({ must: [{ key: '', match: { value: 1 } }] }, 'filter.must[0].key', /empty/);
    rejects({ must: [{ key: 3, match: { value: 1 } }] }, 'filter.must[0].key', /string/);
    rejects({ must: [{ key: 'my key', match: { value: 1 } }] }, 'filter.must[0].key', /not a valid key/);
    rejects({ must: [{ key: 'a.', match: { value: 1 } }] }, 'filter.must[0].key', /not a valid key/);
    rejects({ must: [{ key: 'a[x]', match: { value: 1 } }] }, 'filter.must[0].key', /not a valid key/);
    rejects({ must: [{ key: 'a' }] }, 'filter.must[0]', /needs "match" or "range"/);
    rejects({ must: [{ key: 'a', match: { value: 1 }, range: { gt: 1 } }] }, 'filter.must[0]', /not both/);
    rejects({ must: [{ key: 'a', match: { value: 1 }, extra: 1 }] }, 'filter.must[0].extra', /unknown field/);
    rejects({ must: [{ key: 'a', geo_radius: {} }] }, 'filter.must[0].geo_radius', /not supported/);
    rejects({ must: [{ key: 'a', match: {} }] }, 'filter.must[0].match', /needs one of/);
    rejects({ must: [{ key: 'a', match: { value: 1, any: [1] } }] }, 'filter.must[0].match', /not several/);
    rejects({ must: [{ key: 'a', match: { value: 1.5 } }] }, 'filter.must[0].match.value', /integers/);
    rejects({ must: [{ key: 'a', match: { value: null } }] }, 'filter.must[0].match.value', /is_null/);
    rejects({ must: [{ key: 'a', match: { value: [1] } }] }, 'filter.must[0].match.value');
    rejects({ must: [{ key: 'a', match: { any: 'x' } }] }, 'filter.must[0].match.any', /list/);
    rejects({ must: [{ key: 'a', match: { any: ['x', 1] } }] }, 'filter.must[0].match.any[1]', /mixes/);
    rejects({ must: [{ key: 'a', match: { except: [1, 'x'] } }] }, 'filter.must[0].match.except[1]', /mixes/);
    rejects({ must: [{ key: 'a', match: { except: [1, 2.5] } }] }, 'filter.must[0].match.except[1]', /integer/);
    rejects({ must: [{ key: 'a', match: { any: [true] } }] }, 'filter.must[0].match.any[0]', /string/);
    rejects({ must: [{ key: 'a', match: { text: 1 } }] }, 'filter.must[0].match.text', /string/);
    rejects({ must: [{ key: 'a', match: { phrase: 'x' } }] }, 'filter.must[0].match.phrase', /not supported/);
    rejects({ must: [{ key: 'a', match: 'x' }] }, 'filter.must[0].match');
    rejects({ should: { has_id: 'x' } }, 'filter.should.has_id', /list/);
    rejects({ should: { has_id: ['a', -1] } }, 'filter.should.has_id[1]', /non-negative/);
    rejects({ should: { has_id: ['a'], key: 'x' } }, 'filter.should.has_id', /unknown field "has_id"/);
    rejects({ must_not: [{ is_empty: 'a' }] }, 'filter.must_not[0].is_empty');
    rejects({ must_not: [{ is_empty: { field: 'a' } }] }, 'filter.must_not[0].is_empty.field', /unknown field/);
    rejects({ must_not: [{ is_null: {} }] }, 'filter.must_not[0].is_null.key', /string/);
    rejects({ must_not: [{ isNull: { key: 'a' } }] }, 'filter.must_not[0].isNull', /did you mean "is_null"/);
    rejects({ must: [{ nested: { key: 'a', filter: {} } }] }, 'filter.must[0].nested', /not supported/);
    rejects({ must: [{ must: [{ should: [{ key: 'a', range: { lt: 'z' } }] }] }] }, 'filter.must[0].must[0].should[0].range.lt', /number/);
    rejects({ min_should: { conditions: [] } }, 'filter.min_should.min_count', /non-negative integer/);
    rejects({ min_should: { conditions: {}, min_count: 1 } }, 'filter.min_should.conditions', /list/);
    rejects({ min_should: { conditions: [{ key: 'a' }], min_count: 1 } }, 'filter.min_should.conditions[0]');
    rejects({ min_should: 2 }, 'filter.min_should');
  });

  it('takes a path prefix, and refuses absurd nesting', () => {
    assert.throws(() => parseFilter({ must: 1 }, 'body.filter'), (e: unknown) => isPiramidError(e) && e.location?.field === 'body.filter.must');
    let deep: Filter = {};
    for (let i = 0; i < 100; i += 1) deep = { must: [deep] };
    assert.throws(() => parseFilter(deep), /nest at most/);
  });
});

// ---------------------------------------------------------------------------------------------
// Keys, description, planner terms.

describe('filterKeys, describeFilter, indexableTerms', () => {
  const f: Filter = {
    must: [
      { key: 'lang', match: { value: 'en' } },
      { key: 'year', range: { gte: 2020 } },
      { should: [{ key: 'tag', match: { any: ['a', 'b'] } }, { is_empty: { key: 'tag' } }] },
      { must: [{ key: 'n.x', match: { any: [1, 2] } }, { key: 'title', match: { text: 'whale' } }] },
    ],
    should: [{ key: 'src', match: { value: 'sotu' } }],
    must_not: [{ is_null: { key: 'lang' } }, { has_id: ['x'] }],
    min_should: { conditions: [{ key: 'p', match: { value: true } }], min_count: 1 },
  };

  it('filterKeys lists every key once, in order', () => {
    assert.deepEqual(filterKeys(f), ['lang', 'year', 'tag', 'n.x', 'title', 'src', 'p']);
    assert.deepEqual(filterKeys({ must: [{ has_id: ['a'] }] }), []);
  });

  it('describeFilter reads like --where', () => {
    assert.equal(
      describeFilter(f),
      'lang = "en" and year >= 2020 and (tag in ("a", "b") or tag is empty) and n.x in (1, 2) and title contains "whale" and src = "sotu" and lang is not null and id != "x" and at least 1 of (p = true)',
    );
    assert.equal(describeFilter({}), 'everything');
    assert.equal(describeFilter({ should: [] }), 'nothing (empty should)');
    assert.equal(describeFilter({ must: [{ key: '"my key"', range: { gt: 1, gte: 3, lt: 9, lte: 5 } }] }), '3 <= `my key` <= 5');
    assert.equal(describeFilter({ must: [{ key: 'id', match: { value: 1 } }] }), '`id` = 1');
  });

  it('indexableTerms: required value/any/range conditions, through must, nested musts, one-condition shoulds and all-of min_shoulds', () => {
    assert.deepEqual(indexableTerms(f), [
      { key: 'lang', kind: 'values', values: ['en'] },
      { key: 'year', kind: 'range', gte: 2020 },
      { key: 'n.x', kind: 'values', values: [1, 2] },
      { key: 'src', kind: 'values', values: ['sotu'] },
      { key: 'p', kind: 'values', values: [true] },
    ]);
    assert.equal(indexableTerms({}), null);
    assert.equal(indexableTerms({ should: [{ key: 'a', match: { value: 1 } }, { key: 'b', match: { value: 1 } }] }), null);
    assert.equal(indexableTerms({ must_not: [{ key: 'a', match: { value: 1 } }] }), null);
    assert.equal(indexableTerms({ must: [{ key: 'a', match: { except: [1] } }, { key: 'a', match: { text: 'x' } }] }), null);
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests against an independent reference evaluator.

/** Keys the generator uses, each with its path written out by hand (no key parser involved). */
const KEYS: { key: string; path: (string | number | '[]')[] }[] = [
  { key: 'color', path: ['color'] },
  { key: 'n', path: ['n'] },
  { key: 'tags', path: ['tags'] },
  { key: 'tags[]', path: ['tags', '[]'] },
  { key: 'tags[0]', path: ['tags', 0] },
  { key: 'flag', path: ['flag'] },
  { key: 'meta.lang', path: ['meta', 'lang'] },
  { key: 'meta.year', path: ['meta', 'year'] },
  { key: 'items[].k', path: ['items', '[]', 'k'] },
  { key: 'items.k', path: ['items', 'k'] },
  { key: 'tags.0', path: ['tags', '0'] },
  { key: 'tags.length', path: ['tags', 'length'] },
  { key: '"odd key"', path: ['odd key'] },
  { key: 'missing', path: ['missing'] },
];
const WORDS = ['red', 'blue', 'green', 'Red', '', 'red blue'];
const INTS = [-1, 0, 1, 2, 3, 2020];

type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
const chance = (rand: Rand, p: number): boolean => rand() < p;

function scalar(rand: Rand): unknown {
  const r = rand();
  if (r < 0.35) return pick(rand, WORDS);
  if (r < 0.6) return pick(rand, INTS);
  if (r < 0.7) return pick(rand, [0.5, 1.5, -2.25, 2020.5]);
  if (r < 0.8) return chance(rand, 0.5);
  if (r < 0.9) return null;
  return { x: pick(rand, INTS) };
}

function someValue(rand: Rand): unknown {
  const r = rand();
  if (r < 0.55) return scalar(rand);
  if (r < 0.65) return [];
  if (r < 0.7) return [null];
  if (r < 0.75) return [[pick(rand, WORDS)]];
  return Array.from({ length: 1 + Math.floor(rand() * 3) }, () => scalar(rand));
}

function randomMetadata(rand: Rand): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  const maybe = (key: string, make: () => unknown): void => {
    if (chance(rand, 0.75)) m[key] = make();
  };
  maybe('color', () => someValue(rand));
  maybe('n', () => someValue(rand));
  maybe('tags', () => (chance(rand, 0.8) ? Array.from({ length: Math.floor(rand() * 4) }, () => (chance(rand, 0.85) ? pick(rand, WORDS) : scalar(rand))) : someValue(rand)));
  maybe('flag', () => (chance(rand, 0.8) ? chance(rand, 0.5) : someValue(rand)));
  maybe('meta', () => (chance(rand, 0.85) ? { ...(chance(rand, 0.8) ? { lang: someValue(rand) } : {}), ...(chance(rand, 0.8) ? { year: someValue(rand) } : {}) } : someValue(rand)));
  maybe('items', () => (chance(rand, 0.8) ? Array.from({ length: Math.floor(rand() * 3) }, () => (chance(rand, 0.85) ? { k: someValue(rand) } : scalar(rand))) : someValue(rand)));
  maybe('odd key', () => someValue(rand));
  return m;
}

function randomRecord(rand: Rand, i: number): StoredRecord {
  const r = rand();
  const id = r < 0.15 ? String(pick(rand, [0, 1, 2, 42])) : r < 0.6 ? `r${i % 7}` : `d${i % 5}#${i % 3}`;
  return { id, ...(id.includes('#') ? { parent: id.split('#')[0] as string } : {}), ...(chance(rand, 0.95) ? { metadata: randomMetadata(rand) } : {}) };
}

function randomList(rand: Rand): string[] | number[] {
  const length = Math.floor(rand() * 4);
  return chance(rand, 0.6) ? Array.from({ length }, () => pick(rand, WORDS)) : Array.from({ length }, () => pick(rand, INTS));
}

function randomCondition(rand: Rand, depth: number): Condition {
  const r = rand();
  const key = pick(rand, KEYS).key;
  if (r < 0.2) return { key, match: { value: pick(rand, [...WORDS, ...INTS, true, false]) } };
  if (r < 0.3) return { key, match: { any: randomList(rand) } };
  if (r < 0.4) return { key, match: { except: randomList(rand) } };
  if (r < 0.47) return { key, match: { text: pick(rand, ['red', 'e', 'blue', '', 'Re']) } };
  if (r < 0.62) {
    const bounds = ['gt', 'gte', 'lt', 'lte'].filter(() => chance(rand, 0.45));
    if (bounds.length === 0) bounds.push(pick(rand, ['gt', 'gte', 'lt', 'lte']));
    return { key, range: Object.fromEntries(bounds.map((b) => [b, pick(rand, [-1, 0, 0.5, 1, 2, 1.5, 2020])])) };
  }
  if (r < 0.7) return { is_empty: { key } };
  if (r < 0.77) return { is_null: { key } };
  if (r < 0.83) return { has_id: Array.from({ length: 1 + Math.floor(rand() * 2) }, () => pick(rand, ['r1', 'r2', 'd1', 'd2#1', 0, 42, 'x'])) };
  return depth > 0 ? randomFilter(rand, depth - 1) : { key, match: { value: pick(rand, WORDS) } };
}

function randomClause(rand: Rand, depth: number): Condition[] | Condition {
  if (chance(rand, 0.15)) return randomCondition(rand, depth);
  return Array.from({ length: Math.floor(rand() * 4) }, () => randomCondition(rand, depth));
}

function randomFilter(rand: Rand, depth: number): Filter {
  const f: Filter = {};
  if (chance(rand, 0.7)) f.must = randomClause(rand, depth);
  if (chance(rand, 0.35)) f.should = randomClause(rand, depth);
  if (chance(rand, 0.35)) f.must_not = randomClause(rand, depth);
  if (chance(rand, 0.1)) {
    const conditions = Array.from({ length: Math.floor(rand() * 4) }, () => randomCondition(rand, depth));
    f.min_should = { conditions, min_count: Math.floor(rand() * 4) };
  }
  return f;
}

// The reference: plain code for Qdrant's rules, one case at a time.

function refValues(metadata: unknown, path: readonly (string | number)[]): unknown[] {
  if (path.length === 0) return metadata === undefined ? [] : [metadata];
  const [head, ...rest] = path;
  if (head === '[]') return Array.isArray(metadata) ? metadata.flatMap((v: unknown) => refValues(v, rest)) : [];
  if (typeof head === 'number') return Array.isArray(metadata) && head < metadata.length ? refValues(metadata[head], rest) : [];
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return [];
  const object = metadata as Record<string, unknown>;
  return Object.prototype.hasOwnProperty.call(object, head as string) ? refValues(object[head as string], rest) : [];
}

const pathOf = (key: string): (string | number)[] => {
  const entry = KEYS.find((k) => k.key === key);
  assert.ok(entry !== undefined, key);
  return entry.path;
};
const isInteger = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v);

function refOne(c: Extract<Condition, { key: string }>, v: unknown): boolean {
  const m = c.match;
  if (c.range !== undefined) {
    if (typeof v !== 'number') return false;
    const { gt, gte, lt, lte } = c.range;
    if (gt !== undefined && !(v > gt)) return false;
    if (gte !== undefined && !(v >= gte)) return false;
    if (lt !== undefined && !(v < lt)) return false;
    if (lte !== undefined && !(v <= lte)) return false;
    return true;
  }
  if (m === undefined) return false;
  if ('value' in m) {
    if (typeof m.value === 'string') return typeof v === 'string' && v === m.value;
    if (typeof m.value === 'boolean') return typeof v === 'boolean' && v === m.value;
    return isInteger(v) && v === m.value;
  }
  if ('text' in m) return typeof v === 'string' && v.indexOf(m.text) !== -1;
  if ('any' in m) {
    const list: (string | number)[] = m.any;
    const ints = list.length > 0 && typeof list[0] === 'number';
    if (ints) return isInteger(v) && list.includes(v as number);
    return typeof v === 'string' && list.includes(v);
  }
  const list: (string | number)[] = m.except;
  const ints = list.length > 0 && typeof list[0] === 'number';
  if (v === null) return false;
  if (ints && typeof v === 'number') return !isInteger(v) || !list.includes(v);
  if (!ints && typeof v === 'string') return !list.includes(v);
  return true;
}

function refCondition(c: Condition, r: StoredRecord): boolean {
  if ('key' in c) {
    for (const v of refValues(r.metadata, pathOf(c.key))) {
      if (Array.isArray(v)) {
        for (const element of v) if (refOne(c, element)) return true;
      } else if (refOne(c, v)) {
        return true;
      }
    }
    return false;
  }
  if ('has_id' in c) return c.has_id.some((id) => String(id) === r.id || String(id) === r.parent);
  if ('is_empty' in c) {
    for (const v of refValues(r.metadata, pathOf(c.is_empty.key))) {
      if (v !== null && !(Array.isArray(v) && v.length === 0)) return false;
    }
    return true;
  }
  if ('is_null' in c) return refValues(r.metadata, pathOf(c.is_null.key)).includes(null);
  return refFilter(c, r);
}

function refFilter(f: Filter, r: StoredRecord): boolean {
  const list = (clause: Condition[] | Condition | undefined): Condition[] => (clause === undefined ? [] : Array.isArray(clause) ? clause : [clause]);
  for (const c of list(f.must)) if (!refCondition(c, r)) return false;
  if (f.should !== undefined) {
    let any = false;
    for (const c of list(f.should)) if (refCondition(c, r)) any = true;
    if (!any) return false;
  }
  for (const c of list(f.must_not)) if (refCondition(c, r)) return false;
  if (f.min_should !== undefined) {
    let count = 0;
    for (const c of f.min_should.conditions) if (refCondition(c, r)) count += 1;
    if (count < f.min_should.min_count) return false;
  }
  return true;
}

function refTerm(term: IndexableTerm, r: StoredRecord): boolean {
  if (term.kind === 'range') {
    const { gt, gte, lt, lte } = term;
    return refCondition({ key: term.key, range: { gt, gte, lt, lte } }, r);
  }
  return refValues(r.metadata, pathOf(term.key)).some((v) =>
    (Array.isArray(v) ? v : [v]).some((x) => term.values.some((want) => (typeof want === 'number' ? isInteger(x) && x === want : x === want))),
  );
}

describe('property: matchesFilter agrees with a reference evaluator', () => {
  const rand = seededRandom(20240611);
  const records = Array.from({ length: 150 }, (_, i) => randomRecord(rand, i));
  const filters = Array.from({ length: 600 }, () => randomFilter(rand, 2));

  it(`on ${filters.length} random filters x ${records.length} random records`, () => {
    let matched = 0;
    let total = 0;
    for (const filter of filters) {
      const parsed = parseFilter(filter);
      const viaJson = parseFilter(JSON.parse(JSON.stringify(filter)));
      assert.deepEqual(viaJson, parsed);
      for (const record of records) {
        const expected = refFilter(filter, record);
        const got = matchesFilter(parsed, record);
        if (got !== expected) assert.fail(`filter ${JSON.stringify(filter)}\nrecord ${JSON.stringify(record)}\nexpected ${expected}`);
        assert.equal(matchesFilter(filter, record), expected, 'the un-normalized filter means the same');
        if (got) matched += 1;
        total += 1;
      }
    }
    // The generator must exercise both outcomes in earnest.
    assert.ok(matched > total * 0.1 && matched < total * 0.9, `matched ${matched} of ${total}`);
  });

  it('every single condition kind agrees too (one-condition filters, many records)', () => {
    const many = Array.from({ length: 400 }, (_, i) => randomRecord(rand, i));
    for (let i = 0; i < 400; i += 1) {
      const c = randomCondition(rand, 0);
      const f = { must: [c] };
      for (const record of many) assert.equal(matchesFilter(f, record), refFilter(f, record), `${JSON.stringify(c)} on ${JSON.stringify(record)}`);
    }
  });

  it('indexableTerms is sound: every matching record satisfies every term', () => {
    let withTerms = 0;
    let checked = 0;
    for (const filter of filters) {
      const terms = indexableTerms(filter);
      if (terms === null) continue;
      withTerms += 1;
      assert.ok(terms.length > 0);
      for (const record of records) {
        for (const term of terms) assert.equal(matchesTerm(term, record), refTerm(term, record), `${JSON.stringify(term)} on ${JSON.stringify(record)}`);
        if (!refFilter(filter, record)) continue;
        for (const term of terms) {
          checked += 1;
          if (!refTerm(term, record)) assert.fail(`term ${JSON.stringify(term)} fails on matching record ${JSON.stringify(record)} of ${JSON.stringify(filter)}`);
        }
      }
    }
    assert.ok(withTerms > filters.length * 0.2, `only ${withTerms} filters had terms`);
    assert.ok(checked > 200, `only ${checked} term checks`);
  });

  it('indexableTerms is sound on conjunctions too (must-only filters, where terms are most used)', () => {
    let checked = 0;
    for (let i = 0; i < 600; i += 1) {
      const must = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => randomCondition(rand, 1));
      const filter: Filter = { must };
      const terms = indexableTerms(filter) ?? [];
      for (const record of records) {
        if (!matchesFilter(filter, record)) continue;
        for (const term of terms) {
          checked += 1;
          assert.ok(refTerm(term, record), `term ${JSON.stringify(term)} on ${JSON.stringify(record)}`);
        }
      }
    }
    assert.ok(checked > 500, `only ${checked} term checks`);
  });
});
