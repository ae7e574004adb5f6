import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPiramidError } from '../../src/engine/errors.js';
import { matchesFilter, parseFilter, type Condition, type Filter } from '../../src/engine/query/filter.js';
import { formatWhere, parseWhere } from '../../src/engine/query/where.js';
import { seededRandom } from '../../src/engine/random.js';
import type { StoredRecord } from '../../src/engine/types.js';

const eq = (key: string, value: string | number | boolean): Condition => ({ key, match: { value } });

// ---------------------------------------------------------------------------------------------
// Expressions to Qdrant JSON.

describe('parseWhere: expressions', () => {
  const cases: [string, Filter][] = [
    ['lang = "en"', { must: [eq('lang', 'en')] }],
    ['lang == "en"', { must: [eq('lang', 'en')] }],
    [
      'lang = "en" and year >= 2020 and tag in ("a", "b")',
      { must: [eq('lang', 'en'), { key: 'year', range: { gte: 2020 } }, { key: 'tag', match: { any: ['a', 'b'] } }] },
    ],
    ['not (source = "sotu" or year < 1900)', { must_not: [eq('source', 'sotu'), { key: 'year', range: { lt: 1900 } }] }],
    ['title != "x"', { must_not: [eq('title', 'x')] }],
    ['title <> "x"', { must_not: [eq('title', 'x')] }],
    ['tag not in ("a")', { must: [{ key: 'tag', match: { except: ['a'] } }] }],
    ['not tag in ("a")', { must_not: [{ key: 'tag', match: { any: ['a'] } }] }],
    ['n in (1, 2, 3,)', { must: [{ key: 'n', match: { any: [1, 2, 3] } }] }],
    ['n in ()', { must: [{ key: 'n', match: { any: [] } }] }],
    ['note is empty', { must: [{ is_empty: { key: 'note' } }] }],
    ['note is not empty', { must_not: [{ is_empty: { key: 'note' } }] }],
    ['author is null', { must: [{ is_null: { key: 'author' } }] }],
    ['author is not null', { must_not: [{ is_null: { key: 'author' } }] }],
    ['id in ("doc-1", "doc-2")', { must: [{ has_id: ['doc-1', 'doc-2'] }] }],
    ['id = "doc-1"', { must: [{ has_id: ['doc-1'] }] }],
    ['ID != 7', { must_not: [{ has_id: [7] }] }],
    ['id not in ("a", 3)', { must_not: [{ has_id: ['a', 3] }] }],
    ['`id` = "x"', { must: [eq('id', 'x')] }],
    ['title contains "whale"', { must: [{ key: 'title', match: { text: 'whale' } }] }],
    ['title not contains "whale"', { must_not: [{ key: 'title', match: { text: 'whale' } }] }],
    ['meta.lang = "en"', { must: [eq('meta.lang', 'en')] }],
    ['authors[].name = "Ann"', { must: [eq('authors[].name', 'Ann')] }],
    ['authors[0].tags[] = "x"', { must: [eq('authors[0].tags[]', 'x')] }],
    ['a.1st.x-y = 1', { must: [eq('a.1st.x-y', 1)] }],
    ['`my key` = 1', { must: [eq('"my key"', 1)] }],
    ['`a.b`.c = 1', { must: [eq('"a.b".c', 1)] }],
    ['meta.`odd key`[] = 1', { must: [eq('meta."odd key"[]', 1)] }],
    ['`null` = 1 and `and` = 2', { must: [eq('null', 1), eq('and', 2)] }],
    ['café = "ok"', { must: [eq('café', 'ok')] }],
    ['flag = true', { must: [eq('flag', true)] }],
    ['flag = FALSE', { must: [eq('flag', false)] }],
    ['x = 0.5', { must: [{ key: 'x', range: { gte: 0.5, lte: 0.5 } }] }],
    ['x != 0.5', { must_not: [{ key: 'x', range: { gte: 0.5, lte: 0.5 } }] }],
    ['x = 12345678901234567890', { must: [{ key: 'x', range: { gte: Number('12345678901234567890'), lte: Number('12345678901234567890') } }] }],
    ['x > -5', { must: [{ key: 'x', range: { gt: -5 } }] }],
    ['x <= 1.5e3', { must: [{ key: 'x', range: { lte: 1500 } }] }],
    ['x < -2.5E-2', { must: [{ key: 'x', range: { lt: -0.025 } }] }],
    ['x = 1e3', { must: [eq('x', 1000)] }],
    ['2020 <= year < 2030', { must: [{ key: 'year', range: { gte: 2020, lt: 2030 } }] }],
    ['10 > x >= -1', { must: [{ key: 'x', range: { lt: 10, gte: -1 } }] }],
    ['2020 < year', { must: [{ key: 'year', range: { gt: 2020 } }] }],
    ['year >= 2020 and year < 2030', { must: [{ key: 'year', range: { gte: 2020 } }, { key: 'year', range: { lt: 2030 } }] }],
    ['a = 1 and not b = 2', { must: [eq('a', 1)], must_not: [eq('b', 2)] }],
    ['not not a = 1', { must: [eq('a', 1)] }],
    ['not (a != 1 and b != 2)', { should: [eq('a', 1), eq('b', 2)] }],
    ['a = 1 or b = 2 or c = 3', { should: [eq('a', 1), eq('b', 2), eq('c', 3)] }],
    ['(a = 1 or b = 2) or c = 3', { should: [eq('a', 1), eq('b', 2), eq('c', 3)] }],
    ['((a = 1))', { must: [eq('a', 1)] }],
    ['(a = 1 and b = 2) and (c = 3 and not d = 4)', { must: [eq('a', 1), eq('b', 2), eq('c', 3)], must_not: [eq('d', 4)] }],
    ['not (a = 1 and b = 2)', { must_not: [{ must: [eq('a', 1), eq('b', 2)] }] }],
    ['a is empty or b is null', { should: [{ is_empty: { key: 'a' } }, { is_null: { key: 'b' } }] }],
    ['  lang\t=\n"en"  ', { must: [eq('lang', 'en')] }],
  ];
  for (const [text, expected] of cases) {
    it(text.replace(/\s+/g, ' ').trim(), () => {
      const filter = parseWhere(text);
      assert.deepEqual(filter, expected);
      assert.deepEqual(parseFilter(filter), filter, 'the output is a valid filter in normal form');
    });
  }
});

describe('parseWhere: precedence', () => {
  it('"and" binds tighter than "or"', () => {
    const expected = { should: [eq('a', 1), { must: [eq('b', 2), eq('c', 3)] }] };
    assert.deepEqual(parseWhere('a = 1 or b = 2 and c = 3'), expected);
    assert.deepEqual(parseWhere('a = 1 or (b = 2 and c = 3)'), expected);
    assert.deepEqual(parseWhere('a = 1 and b = 2 or c = 3'), { should: [{ must: [eq('a', 1), eq('b', 2)] }, eq('c', 3)] });
    assert.deepEqual(parseWhere('a = 1 and (b = 2 or c = 3)'), { must: [eq('a', 1), { should: [eq('b', 2), eq('c', 3)] }] });
  });

  it('"not" binds tighter than "and" and "or"', () => {
    assert.deepEqual(parseWhere('not a = 1 and b = 2'), { must: [eq('b', 2)], must_not: [eq('a', 1)] });
    assert.deepEqual(parseWhere('not a = 1 or b = 2'), { should: [{ must_not: [eq('a', 1)] }, eq('b', 2)] });
    assert.deepEqual(parseWhere('not (a = 1 or b = 2)'), { must_not: [eq('a', 1), eq('b', 2)] });
  });

  it('keywords are case-insensitive', () => {
    assert.deepEqual(parseWhere('a = 1 AND b IN (1) Or NOT c Is NoT NuLL And d CONTAINS "x"'), parseWhere('a = 1 and b in (1) or not c is not null and d contains "x"'));
  });

  it('precedence holds on records: same matches as the explicit parenthesisation', () => {
    const records: StoredRecord[] = [];
    for (let i = 0; i < 8; i += 1) records.push({ id: String(i), metadata: { a: i & 1, b: (i >> 1) & 1, c: (i >> 2) & 1 } });
    const pairs: [string, string][] = [
      ['a = 1 or b = 1 and c = 1', 'a = 1 or (b = 1 and c = 1)'],
      ['a = 1 and b = 1 or c = 1', '(a = 1 and b = 1) or c = 1'],
      ['not a = 1 and b = 1', '(not a = 1) and b = 1'],
      ['not a = 1 or b = 1 and not c = 1', '(not a = 1) or (b = 1 and (not c = 1))'],
    ];
    for (const [left, right] of pairs) {
      for (const r of records) assert.equal(matchesFilter(parseWhere(left), r), matchesFilter(parseWhere(right), r), `${left} on ${JSON.stringify(r.metadata)}`);
    }
  });
});

describe('parseWhere: strings, escapes, numbers', () => {
  const value = (text: string): unknown => {
    const c = (parseWhere(text).must as Condition[])[0] as { match: { value: unknown } };
    return c.match.value;
  };
  it('double and single quotes with backslash escapes', () => {
    assert.equal(value(String.raw`s = "a \"b\" c"`), 'a "b" c');
    assert.equal(value(String.raw`s = 'it\'s'`), "it's");
    assert.equal(value(`s = 'say "hi"'`), 'say "hi"');
    assert.equal(value(`s = "it's"`), "it's");
    assert.equal(value(String.raw`s = "back\\slash"`), 'back\\slash');
    assert.equal(value(String.raw`s = "t\tn\nr\rb\bf\f\/"`), 't\tn\nr\rb\bf\f/');
    assert.equal(value(String.raw`s = "caf\u00e9 \ud83d\ude00"`), 'café 😀');
    assert.equal(value('s = ""'), '');
    assert.equal(value('s = "日本語 and or not"'), '日本語 and or not');
  });
  it('backquoted keys escape ` and \\', () => {
    assert.deepEqual(parseWhere('`a\\`b` = 1'), { must: [eq('"a`b"', 1)] });
    assert.deepEqual(parseWhere('`a b`.`c.d` = 1'), { must: [eq('"a b"."c.d"', 1)] });
    assert.throws(() => parseWhere('`a\\\\b` = 1'), /cannot contain/, 'Qdrant keys have no escapes');
  });
  it('numbers: integers, decimals, negatives, exponents', () => {
    assert.equal(value('n = 0'), 0);
    assert.equal(value('n = -0'), -0);
    assert.equal(value('n = 42'), 42);
    assert.equal(value('n = -7'), -7);
    assert.equal(value('n = 2e2'), 200);
    assert.equal(value('n = 2E+2'), 200);
    assert.deepEqual(parseWhere('n = 2.5e-1'), { must: [{ key: 'n', range: { gte: 0.25, lte: 0.25 } }] });
  });
});

// ---------------------------------------------------------------------------------------------
// Errors name the column.

describe('parseWhere: errors', () => {
  const errors: [string, number, RegExp][] = [
    ['lang = "en" and year >=', 24, /expected a value after ">="/],
    ['year >= and x = 1', 9, /expected a value after ">="/],
    ['lang = "en', 8, /unterminated string/],
    ["lang = 'en", 8, /unterminated string/],
    ['lang = "a\\qb"', 10, /unknown escape "\\q"/],
    ['lang = "\\u12"', 9, /four hex digits/],
    ['(lang = "en"', 13, /expected "\)"/],
    ['(a = 1 or (b = 2)', 18, /expected "\)"/],
    ['lang = "en")', 12, /unexpected "\)"/],
    ['lang "en"', 6, /expected an operator after the key lang/],
    ['lang', 5, /expected an operator/],
    ['tag in ("a", 1)', 14, /mixes strings and numbers/],
    ['tag in (1, "a")', 12, /mixes strings and numbers/],
    ['tag in (1, 2.5)', 12, /strings or integers/],
    ['tag in (true)', 9, /strings or integers/],
    ['tag in "a"', 8, /expected "\(" after "in"/],
    ['tag in ("a" "b")', 13, /expected "," or "\)"/],
    ['tag in ("a",', 13, /expected a value after ","/],
    ['tag not like "a"', 9, /expected "in" or "contains" after "not"/],
    ['year >= "2020"', 9, /">=" compares numbers/],
    ['flag < true', 8, /"<" compares numbers/],
    ['x = 1.', 5, /malformed number "1\."/],
    ['x = 12abc', 5, /malformed number/],
    ['x = .5', 5, /unexpected character "\."/],
    ['x ! 1', 3, /unexpected "!"/],
    ['x @ 1', 3, /unexpected character "@"/],
    ['x = 1 y = 2', 7, /expected "and", "or" or the end/],
    ['x = 1 and', 10, /expected a condition/],
    ['x = 1 or or y = 2', 10, /expected a condition/],
    ['and = 1', 1, /expected a condition/],
    ['', 1, /expected a condition/],
    ['   ', 4, /expected a condition/],
    ['()', 2, /expected a condition inside/],
    ['"x" = 1', 1, /expected a condition/],
    ['`abc = 1', 1, /unterminated key/],
    ['`` = 1', 1, /empty key name/],
    ['`a\\b` = 1', 3, /escapes only/],
    ['a. = 1', 3, /expected a key name after "\."/],
    ['a[x] = 1', 2, /expected "\[\]"/],
    ['x is maybe', 6, /expected "empty" or "null" after "is"/],
    ['x is not 1', 10, /expected "empty" or "null" after "is not"/],
    ['x = null', 5, /null is not a value/],
    ['x contains 3', 12, /expected a string after "contains"/],
    ['id > 3', 4, /record id takes =, !=, in and not in/],
    ['id contains "a"', 1, /record id/],
    ['id is null', 1, /record id is never null/],
    ['id = 1.5', 6, /record id is a string or a non-negative integer/],
    ['id in ("a", -1)', 13, /record id is a string/],
    ['1 < x > 5', 7, /goes one way/],
    ['1 = x', 3, /a condition starts with a key/],
    ['1 < 2', 5, /expected a key after "<"/],
    ['1 < x < "z"', 9, /expected a number after "<"/],
    ['1 < id', 5, /record id/],
    ['`a"b` = 1', 1, /cannot contain/],
    ['café = "x" and 日本 ! 1', 19, /unexpected "!"/],
    ['😀 = 1', 1, /unexpected character "😀"/],
    ['a = "😀" and', 12, /expected a condition/],
  ];
  for (const [text, column, message] of errors) {
    it(`${JSON.stringify(text)} -> column ${column}`, () => {
      assert.throws(
        () => parseWhere(text),
        (e: unknown) => {
          assert.ok(isPiramidError(e, 'INVALID_ARGUMENT'), String(e));
          const [first, shown, caret] = e.message.split('\n');
          assert.match(first as string, message);
          assert.ok(first?.startsWith('--where: '), first);
          assert.ok(first?.endsWith(` at column ${column}`), first);
          assert.equal(shown, `  ${text.replace(/\s/g, ' ')}`);
          assert.equal(caret, `  ${' '.repeat(column - 1)}^`);
          assert.deepEqual(e.location, { field: '--where', column });
          assert.ok(e.hint !== undefined);
          return true;
        },
      );
    });
  }

  it('refuses absurd nesting with an error, not a stack overflow', () => {
    assert.throws(() => parseWhere(`${'('.repeat(500)}a = 1${')'.repeat(500)}`), /nest at most/);
    assert.throws(() => parseWhere(`${'not '.repeat(500)}a = 1`), /nest at most/);
  });
});

// ---------------------------------------------------------------------------------------------
// Round trip: random filters -> --where text -> parsed back -> the same matches.

const KEYS = ['a', 'n', 'meta.lang', 'tags', 'tags[]', 'items[].k', 'items[0].k', '"odd key"', 'id', 'and', 'NULL', '"a.b".c', 'x-y', 'ñame', '1st', '"sp ace"[]'];
const STRINGS = ['en', 'fr', '', 'it\'s', 'say "hi"', 'back\\slash', 'tab\there', 'new\nline', 'ünï', '😀', 'and', 'or not'];
const INTS = [-3, -1, 0, 1, 2, 7, 2020];
const NUMBERS = [...INTS, 0.5, -2.25, 1e21, 1.5e-7, 2020.5];

type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
const chance = (rand: Rand, p: number): boolean => rand() < p;

function scalar(rand: Rand): unknown {
  const r = rand();
  if (r < 0.45) return pick(rand, STRINGS);
  if (r < 0.8) return pick(rand, NUMBERS);
  if (r < 0.9) return chance(rand, 0.5);
  return null;
}
function value(rand: Rand): unknown {
  const r = rand();
  if (r < 0.6) return scalar(rand);
  if (r < 0.7) return [];
  return Array.from({ length: 1 + Math.floor(rand() * 3) }, () => scalar(rand));
}
function randomRecord(rand: Rand, i: number): StoredRecord {
  const m: Record<string, unknown> = {};
  const set = (k: string, make: () => unknown): void => {
    if (chance(rand, 0.8)) m[k] = make();
  };
  for (const k of ['a', 'n', 'tags', 'odd key', 'id', 'and', 'NULL', 'x-y', 'ñame', '1st', 'sp ace']) set(k, () => value(rand));
  set('meta', () => ({ lang: value(rand) }));
  set('items', () => Array.from({ length: Math.floor(rand() * 3) }, () => ({ k: value(rand) })));
  set('a.b', () => ({ c: value(rand) }));
  const id = chance(rand, 0.3) ? `d${i % 4}#${i % 3}` : pick(rand, ['d1', 'd2', '7', 'x']);
  return { id, ...(id.includes('#') ? { parent: id.split('#')[0] as string } : {}), metadata: m };
}

function randomCondition(rand: Rand, depth: number): Condition {
  const key = pick(rand, KEYS);
  const r = rand();
  if (r < 0.2) return { key, match: { value: pick(rand, [...STRINGS, ...INTS, true, false]) } };
  if (r < 0.3) return { key, match: { any: chance(rand, 0.5) ? STRINGS.filter(() => chance(rand, 0.3)) : INTS.filter(() => chance(rand, 0.3)) } };
  if (r < 0.4) return { key, match: { except: chance(rand, 0.5) ? STRINGS.filter(() => chance(rand, 0.3)) : INTS.filter(() => chance(rand, 0.3)) } };
  if (r < 0.47) return { key, match: { text: pick(rand, ['e', 'n', '', '"', '\\', 'or']) } };
  if (r < 0.62) {
    const bounds = ['gt', 'gte', 'lt', 'lte'].filter(() => chance(rand, 0.45));
    if (bounds.length === 0) bounds.push(pick(rand, ['gt', 'gte', 'lt', 'lte']));
    return { key, range: Object.fromEntries(bounds.map((b) => [b, pick(rand, NUMBERS)])) };
  }
  if (r < 0.68) return { is_empty: { key } };
  if (r < 0.74) return { is_null: { key } };
  if (r < 0.8) return { has_id: Array.from({ length: Math.floor(rand() * 3) }, () => pick(rand, ['d1', 'd2#1', '7', 7, 'x', 'it"s'])) };
  return depth > 0 ? randomFilter(rand, depth - 1) : { key, match: { value: pick(rand, STRINGS) } };
}

/** Filters the short form can say: no min_should, no empty should, nothing empty. */
function randomFilter(rand: Rand, depth: number): Filter {
  const list = (min: number): Condition[] => Array.from({ length: min + Math.floor(rand() * 3) }, () => randomCondition(rand, depth));
  const f: Filter = {};
  if (chance(rand, 0.7)) f.must = list(0);
  if (chance(rand, 0.4)) f.should = list(1);
  if (chance(rand, 0.4)) f.must_not = list(0);
  const must = f.must as Condition[] | undefined;
  if (must === undefined || must.length === 0) {
    if (f.should === undefined && (f.must_not === undefined || (f.must_not as Condition[]).length === 0)) f.must = [randomCondition(rand, depth)];
  }
  return f;
}

describe('formatWhere and round trips', () => {
  it('formatWhere refuses what the short form cannot say', () => {
    assert.throws(() => formatWhere({}), TypeError);
    assert.throws(() => formatWhere({ must: [eq('a', 1)], should: [] }), TypeError);
    assert.throws(() => formatWhere({ min_should: { conditions: [eq('a', 1)], min_count: 1 } }), TypeError);
    assert.equal(formatWhere({ must: [eq('a', 1)], must_not: [eq('b', 'x'), { is_empty: { key: 'c' } }] }), 'a = 1 and b != "x" and c is not empty');
  });

  const rand = seededRandom(7_2024);
  const records = Array.from({ length: 120 }, (_, i) => randomRecord(rand, i));
  const filters = Array.from({ length: 800 }, () => randomFilter(rand, 2));

  it(`${filters.length} random filters print as --where text that parses back to the same matches on ${records.length} records`, () => {
    let matched = 0;
    let total = 0;
    for (const filter of filters) {
      const text = formatWhere(filter);
      let parsed: Filter;
      try {
        parsed = parseWhere(text);
      } catch (e) {
        assert.fail(`${JSON.stringify(filter)}\nprinted ${text}\nfailed: ${(e as Error).message}`);
      }
      assert.deepEqual(parseFilter(parsed), parsed);
      for (const record of records) {
        const expected = matchesFilter(filter, record);
        if (matchesFilter(parsed, record) !== expected) assert.fail(`${JSON.stringify(filter)}\nprinted ${text}\nparsed ${JSON.stringify(parsed)}\nrecord ${JSON.stringify(record)}`);
        if (expected) matched += 1;
        total += 1;
      }
      // Printing what was parsed and parsing it again changes nothing more.
      const again = parseWhere(formatWhere(parsed));
      assert.deepEqual(parseWhere(formatWhere(again)), again, text);
    }
    assert.ok(matched > total * 0.05 && matched < total * 0.95, `matched ${matched} of ${total}`);
  });

  it('mangled expressions either parse to a valid filter or fail with a column inside the text', () => {
    const pieces = ['a', 'b.c', '`k k`', 'id', '=', '!=', '<', '>=', 'in', 'not', 'and', 'or', 'is', 'empty', 'null', 'contains', '(', ')', ',', '"s"', "'t'", '1', '-2.5', 'true', '"', '!', '.', '[]', '[1]', '`', '\\', '😀'];
    const atoms = ['a = 1', 'b.c != "x"', 'n >= -2.5', '`k k` in ("a", "b")', 'id in ("d1")', 't not in (1, 2)', 's contains \'x\'', 'e is not empty', 'f is null', '1 <= g < 2'];
    let parsed = 0;
    for (let i = 0; i < 4000; i += 1) {
      const parts = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => `${chance(rand, 0.2) ? 'not ' : ''}${pick(rand, atoms)}`);
      let text = parts.map((p, j) => (j === 0 ? p : `${pick(rand, [' and ', ' or ', ' and (', ') or '])}${p}`)).join('');
      for (let m = Math.floor(rand() * 3); m > 0; m -= 1) {
        const at = Math.floor(rand() * (text.length + 1));
        const cut = chance(rand, 0.5) ? Math.floor(rand() * 4) : 0;
        text = text.slice(0, at) + (chance(rand, 0.6) ? ` ${pick(rand, pieces)}` : '') + text.slice(at + cut);
      }
      try {
        const filter = parseWhere(text);
        assert.deepEqual(parseFilter(filter), filter, text);
        parsed += 1;
      } catch (e) {
        if (!isPiramidError(e, 'INVALID_ARGUMENT')) assert.fail(`${JSON.stringify(text)} threw ${String(e)}`);
        const column = e.location?.column ?? 0;
        assert.ok(column >= 1 && column <= [...text].length + 1, `${JSON.stringify(text)}: column ${column}`);
        assert.ok(e.message.endsWith(`${' '.repeat(column - 1)}^`), e.message);
      }
    }
    assert.ok(parsed > 400 && parsed < 3600, `${parsed} of 4000 parsed`);
  });
});
