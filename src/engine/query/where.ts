/**
 * The CLI's short filter form (`--where`), compiled to Qdrant's filter JSON (filter.ts). A
 * tokenizer and a recursive-descent parser; errors name the column and show it with a caret.
 *
 *   where      = or-expr END ;
 *   or-expr    = and-expr { "or" and-expr } ;
 *   and-expr   = unary { "and" unary } ;                       (* "and" binds tighter than "or" *)
 *   unary      = "not" unary | "(" or-expr ")" | condition ;
 *   condition  = key compare value
 *              | key [ "not" ] "in" "(" [ value { "," value } [ "," ] ] ")"
 *              | key [ "not" ] "contains" string
 *              | key "is" [ "not" ] ( "empty" | "null" )
 *              | number less key [ less number ]               (* 2020 <= year < 2030 *)
 *              | number more key [ more number ] ;             (* 10 > x >= 1 *)
 *   compare    = "=" | "==" | "!=" | "<>" | less | more ;
 *   less       = "<" | "<=" ;    more = ">" | ">=" ;
 *   value      = string | number | "true" | "false" ;
 *   key        = part { "." part | "[]" | "[" digits "]" } ;
 *   part       = name | "`" { any character but "`" and "\", or "\`", "\\" } "`" ;
 *   name       = ( letter | "_" ) { letter | digit | "_" | "-" } ;   (* after a ".", may start with a digit or "-" *)
 *   string     = '"' ... '"' | "'" ... "'" ;    (* escapes \" \' \\ \/ \b \f \n \r \t \uXXXX *)
 *   number     = [ "-" ] digits [ "." digits ] [ ( "e" | "E" ) [ "+" | "-" ] digits ] ;
 *
 * Keywords (and or not in is empty null contains true false) are case-insensitive; a key named
 * like one, or with other characters, goes in backquotes: `` `my key` = 1 ``, `` `null` = 1 ``.
 * The bare key `id` (any case) is the record id: `id = "a"`, `id in ("a", "b")` become has_id
 * (matching a document's chunks too); `` `id` `` is the metadata key "id".
 *
 * Compilation (Qdrant JSON):
 *   k = v        match.value (strings, integers, booleans); a decimal: range {gte: v, lte: v}
 *   k != v       must_not [k = v]: also true when k is missing
 *   k < v ...    range (numbers only); `a <= k < b` is ONE range, which one value must satisfy;
 *                `k >= a and k < b` is two, which different elements of an array may satisfy
 *   k in (...)   match.any (all strings or all integers)
 *   k not in (...)  match.except, Qdrant's "NOT IN": k must exist, and one of its values (an
 *                element, for an array) be outside the list. `not (k in (...))` is the other
 *                reading (must_not any: no element in the list, or k missing).
 *   k contains s match.text (substring, case-sensitive)
 *   k is empty   is_empty (missing, null or []); k is null: is_null; "is not": must_not of those
 *   a and b      must [a, b]; a or b: should [a, b]; not a: must_not [a]
 * Nested and/or/not are flattened where that keeps the meaning: `a and not b` is
 * {must: [a], must_not: [b]}, `not (a or b)` is {must_not: [a, b]}, `not not a` is a.
 */
import { PiramidError } from '../errors.js';
import { formatFilterAsWhere, formatKeyPath, isFilterCondition, type Condition, type Filter, type KeyPathItem, type MatchScalar } from './filter.js';

const KEYWORDS = ['and', 'or', 'not', 'in', 'is', 'empty', 'null', 'contains', 'true', 'false'] as const;
type Keyword = (typeof KEYWORDS)[number];
type Op = '=' | '!=' | '<' | '<=' | '>' | '>=';

type KeyPart = { kind: 'key'; name: string; quoted: boolean } | { kind: 'index'; index: number } | { kind: 'wildcard' };

type Token = { start: number; end: number } & (
  | { type: 'key'; parts: KeyPart[] }
  | { type: 'keyword'; word: Keyword }
  | { type: 'string'; value: string }
  | { type: 'number'; value: number }
  | { type: 'op'; op: Op; text: string }
  | { type: '(' | ')' | ',' | 'end' }
);

const MAX_DEPTH = 100;
const IdHint = 'The bare key id is the record id (has_id); write `id` in backquotes for a metadata key named id.';
const HINT = `Example: --where 'lang = "en" and year >= 2020 and tag in ("a", "b")'; keys with other characters go in backquotes: \`my key\` = 1.`;

/** 1-based column of a UTF-16 offset, counted in characters (code points). */
function columnOf(text: string, index: number): number {
  let column = 1;
  for (const _ of text.slice(0, index)) column += 1;
  return column;
}

function fail(text: string, index: number, message: string, hint = HINT): never {
  const column = columnOf(text, index);
  const shown = text.replace(/[\t\n\r\v\f]/g, ' ');
  throw new PiramidError('INVALID_ARGUMENT', `--where: ${message} at column ${column}\n  ${shown}\n  ${' '.repeat(column - 1)}^`, {
    location: { field: '--where', column },
    hint,
  });
}

// ---------------------------------------------------------------------------------------------
// Tokenizer.

const NAME_FIRST = /[\p{L}_][\p{L}\p{N}_-]*/uy;
const NAME_NEXT = /[\p{L}\p{N}_-]+/uy;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const AFTER_NUMBER = /[\p{L}\p{N}_.]/u;
const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', "'": "'", '\\': '\\', '/': '/', '`': '`', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function sticky(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  const m = re.exec(text);
  return m === null ? undefined : m[0];
}

function readString(text: string, start: number): { value: string; end: number } {
  const quote = text[start] as string;
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === quote) return { value, end: i + 1 };
    if (ch !== '\\') {
      value += ch;
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next === undefined) break;
    if (next === 'u') {
      const hex = text.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail(text, i, 'expected four hex digits after "\\u"');
      value += String.fromCharCode(parseInt(hex, 16));
      i += 6;
      continue;
    }
    const simple = SIMPLE_ESCAPES[next];
    if (simple === undefined) fail(text, i, `unknown escape "\\${next}" in a string (write "\\\\" for a backslash)`);
    value += simple;
    i += 2;
  }
  return fail(text, start, `unterminated string: no closing ${quote}`);
}

function readBackquoted(text: string, start: number): { name: string; end: number } {
  let name = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '`') {
      if (name === '') fail(text, start, 'empty key name in backquotes');
      return { name, end: i + 1 };
    }
    if (ch === '\\') {
      const next = text[i + 1];
      if (next !== '`' && next !== '\\') fail(text, i, 'in a backquoted key, "\\" escapes only "`" and "\\"');
      name += next;
      i += 2;
      continue;
    }
    name += ch;
    i += 1;
  }
  return fail(text, start, 'unterminated key: no closing `');
}

function readKey(text: string, start: number): { parts: KeyPart[]; end: number } {
  const parts: KeyPart[] = [];
  let at = start;
  const part = (first: boolean): void => {
    if (text[at] === '`') {
      const { name, end } = readBackquoted(text, at);
      parts.push({ kind: 'key', name, quoted: true });
      at = end;
      return;
    }
    const name = sticky(first ? NAME_FIRST : NAME_NEXT, text, at);
    if (name === undefined) fail(text, at, 'expected a key name after "."');
    parts.push({ kind: 'key', name, quoted: false });
    at += name.length;
  };
  part(true);
  for (;;) {
    const ch = text[at];
    if (ch === '.') {
      at += 1;
      part(false);
    } else if (ch === '[') {
      const m = /\[(\d*)\]/y;
      m.lastIndex = at;
      const found = m.exec(text);
      if (found === null) fail(text, at, 'expected "[]" (every element) or "[N]" (one element) in a key');
      const digits = found[1] as string;
      parts.push(digits === '' ? { kind: 'wildcard' } : { kind: 'index', index: Number(digits) });
      at = m.lastIndex;
    } else {
      return { parts, end: at };
    }
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (token: Token): void => {
    tokens.push(token);
    i = token.end;
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (ch === '(' || ch === ')' || ch === ',') push({ type: ch, start: i, end: i + 1 });
    else if (two === '==' || two === '!=' || two === '<>' || two === '<=' || two === '>=') {
      const op: Op = two === '==' ? '=' : two === '<>' ? '!=' : (two as Op);
      push({ type: 'op', op, text: two, start: i, end: i + 2 });
    } else if (ch === '=' || ch === '<' || ch === '>') push({ type: 'op', op: ch, text: ch, start: i, end: i + 1 });
    else if (ch === '!') fail(text, i, 'unexpected "!" (did you mean "!="?)');
    else if (ch === '"' || ch === "'") {
      const { value, end } = readString(text, i);
      push({ type: 'string', value, start: i, end });
    } else if (/\d/.test(ch) || (ch === '-' && /\d/.test(text[i + 1] ?? ''))) {
      const raw = sticky(NUMBER, text, i) as string;
      const end = i + raw.length;
      if (AFTER_NUMBER.test(text[end] ?? '')) fail(text, i, `malformed number "${text.slice(i, end + 1)}"`);
      push({ type: 'number', value: Number(raw), start: i, end });
    } else if (ch === '`' || sticky(NAME_FIRST, text, i) !== undefined) {
      const { parts, end } = readKey(text, i);
      const only = parts.length === 1 ? parts[0] : undefined;
      const word = only?.kind === 'key' && !only.quoted ? only.name.toLowerCase() : undefined;
      if (word !== undefined && (KEYWORDS as readonly string[]).includes(word)) push({ type: 'keyword', word: word as Keyword, start: i, end });
      else push({ type: 'key', parts, start: i, end });
    } else {
      fail(text, i, `unexpected character ${JSON.stringify(String.fromCodePoint(text.codePointAt(i) as number))}`);
    }
  }
  tokens.push({ type: 'end', start: text.length, end: text.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Compilation helpers: build conditions, flattening nested and/or/not where the meaning is kept.

type FilterCondition = Filter & { must?: Condition[]; should?: Condition[]; must_not?: Condition[] };

const only = (c: Condition, ...clauses: ('must' | 'should' | 'must_not')[]): c is FilterCondition =>
  isFilterCondition(c) && c.min_should === undefined && Object.keys(c).every((k) => (clauses as string[]).includes(k));

function and(items: Condition[]): Condition {
  const must: Condition[] = [];
  const mustNot: Condition[] = [];
  for (const c of items) {
    if (only(c, 'must', 'must_not')) {
      must.push(...(c.must ?? []));
      mustNot.push(...(c.must_not ?? []));
    } else {
      must.push(c);
    }
  }
  return { ...(must.length > 0 ? { must } : {}), ...(mustNot.length > 0 ? { must_not: mustNot } : {}) };
}

function or(items: Condition[]): Condition {
  return { should: items.flatMap((c) => (only(c, 'should') && (c.should ?? []).length > 0 ? (c.should as Condition[]) : [c])) };
}

function not(c: Condition): Condition {
  if (only(c, 'must_not')) {
    const inner = c.must_not ?? [];
    if (inner.length === 1) return inner[0] as Condition; // not not a = a
    if (inner.length > 1) return { should: inner }; // not (not a and not b) = a or b
  }
  if (only(c, 'should') && (c.should ?? []).length > 0) return { must_not: c.should as Condition[] }; // De Morgan
  return { must_not: [c] };
}

// ---------------------------------------------------------------------------------------------
// Parser.

const describeToken = (t: Token): string => {
  switch (t.type) {
    case 'end':
      return 'the end';
    case 'keyword':
      return `"${t.word}"`;
    case 'op':
      return `"${t.text}"`;
    case 'string':
      return `the string ${JSON.stringify(t.value)}`;
    case 'number':
      return `the number ${t.value}`;
    case 'key':
      return `the key ${formatWhereParts(t.parts)}`;
    default:
      return `"${t.type}"`;
  }
};

function formatWhereParts(parts: readonly KeyPart[]): string {
  return parts.map((p, i) => (p.kind === 'key' ? `${i === 0 ? '' : '.'}${p.quoted ? `\`${p.name}\`` : p.name}` : p.kind === 'index' ? `[${p.index}]` : '[]')).join('');
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  private peek(): Token {
    return this.tokens[this.pos] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.type !== 'end') this.pos += 1;
    return token;
  }

  private isKeyword(word: Keyword, token = this.peek()): boolean {
    return token.type === 'keyword' && token.word === word;
  }

  private failAt(token: Token, message: string, hint?: string): never {
    return fail(this.text, token.start, message, hint);
  }

  parse(): Filter {
    if (this.peek().type === 'end') this.failAt(this.peek(), 'expected a condition such as lang = "en"');
    const root = this.orExpr();
    const rest = this.peek();
    if (rest.type !== 'end') {
      this.failAt(rest, rest.type === ')' ? 'unexpected ")" with no "(" to close' : `expected "and", "or" or the end, got ${describeToken(rest)}`);
    }
    return isFilterCondition(root) ? root : { must: [root] };
  }

  private orExpr(): Condition {
    const items = [this.andExpr()];
    while (this.isKeyword('or')) {
      this.next();
      items.push(this.andExpr());
    }
    return items.length === 1 ? (items[0] as Condition) : or(items);
  }

  private andExpr(): Condition {
    const items = [this.unary()];
    while (this.isKeyword('and')) {
      this.next();
      items.push(this.unary());
    }
    return items.length === 1 ? (items[0] as Condition) : and(items);
  }

  private unary(): Condition {
    const token = this.peek();
    this.depth += 1;
    if (this.depth > MAX_DEPTH) this.failAt(token, `expressions nest at most ${MAX_DEPTH} levels deep`);
    try {
      if (this.isKeyword('not')) {
        this.next();
        return not(this.unary());
      }
      if (token.type === '(') {
        this.next();
        if (this.peek().type === ')') this.failAt(this.peek(), 'expected a condition inside "( )"');
        const inner = this.orExpr();
        const close = this.peek();
        if (close.type !== ')') this.failAt(close, `expected ")" to match the "(" before, got ${describeToken(close)}`);
        this.next();
        return inner;
      }
      if (token.type === 'key') return this.condition(token);
      if (token.type === 'number') return this.reversedRange(token);
      return this.failAt(token, `expected a condition (a key such as lang, "not" or "("), got ${describeToken(token)}`);
    } finally {
      this.depth -= 1;
    }
  }

  /** The Qdrant key of a --where key; `undefined` for the bare `id`. */
  private qdrantKey(token: Token & { type: 'key' }): string | undefined {
    const first = token.parts[0];
    if (token.parts.length === 1 && first?.kind === 'key' && !first.quoted && first.name.toLowerCase() === 'id') return undefined;
    for (const part of token.parts) {
      if (part.kind === 'key' && /["\\]/.test(part.name)) {
        this.failAt(token, `a key part cannot contain '"' or '\\' (Qdrant's key syntax has no escapes)`);
      }
    }
    const items: KeyPathItem[] = token.parts.map((p) => (p.kind === 'key' ? { kind: 'key', name: p.name } : p));
    return formatKeyPath(items);
  }

  private value(after: Token): { token: Token; value: MatchScalar } {
    const token = this.next();
    if (token.type === 'string' || token.type === 'number') return { token, value: token.value };
    if (token.type === 'keyword' && (token.word === 'true' || token.word === 'false')) return { token, value: token.word === 'true' };
    if (token.type === 'keyword' && token.word === 'null') {
      this.failAt(token, 'null is not a value to compare with', 'Use "key is null" (or "key is not null"; "key is empty" also covers missing keys and []).');
    }
    const what = after.type === 'op' ? `"${after.text}"` : describeToken(after);
    return this.failAt(token, `expected a value after ${what}, got ${describeToken(token)}`);
  }

  private condition(keyToken: Token & { type: 'key' }): Condition {
    this.next();
    const key = this.qdrantKey(keyToken);
    const op = this.peek();
    if (op.type === 'op') {
      this.next();
      const { token, value } = this.value(op);
      return this.compare(key, op, token, value);
    }
    if (op.type === 'keyword') {
      if (op.word === 'in') {
        this.next();
        return this.inList(key, false);
      }
      if (op.word === 'contains') {
        this.next();
        return this.contains(key, keyToken, false);
      }
      if (op.word === 'not') {
        this.next();
        const after = this.peek();
        if (this.isKeyword('in')) {
          this.next();
          return this.inList(key, true);
        }
        if (this.isKeyword('contains')) {
          this.next();
          return this.contains(key, keyToken, true);
        }
        this.failAt(after, `expected "in" or "contains" after "not", got ${describeToken(after)}`);
      }
      if (op.word === 'is') {
        this.next();
        const negate = this.isKeyword('not');
        if (negate) this.next();
        const what = this.next();
        if (what.type !== 'keyword' || (what.word !== 'empty' && what.word !== 'null')) {
          this.failAt(what, `expected "empty" or "null" after "is${negate ? ' not' : ''}", got ${describeToken(what)}`);
        }
        if (key === undefined) this.failAt(keyToken, `the record id is never ${what.word}`, IdHint);
        const c: Condition = what.word === 'empty' ? { is_empty: { key } } : { is_null: { key } };
        return negate ? not(c) : c;
      }
    }
    return this.failAt(op, `expected an operator after the key ${formatWhereParts(keyToken.parts)} (=, !=, <, <=, >, >=, in, not in, contains, is), got ${describeToken(op)}`);
  }

  private compare(key: string | undefined, op: Token & { type: 'op' }, token: Token, value: MatchScalar): Condition {
    if (key === undefined) {
      if (op.op !== '=' && op.op !== '!=') this.failAt(op, `the record id takes =, !=, in and not in, not "${op.text}"`, IdHint);
      const c: Condition = { has_id: [this.idValue(token, value)] };
      return op.op === '=' ? c : not(c);
    }
    if (op.op === '=' || op.op === '!=') {
      let c: Condition;
      if (typeof value === 'number' && !Number.isSafeInteger(value)) c = { key, range: { gte: value, lte: value } };
      else c = { key, match: { value } };
      return op.op === '=' ? c : not(c);
    }
    if (typeof value !== 'number') {
      this.failAt(token, `"${op.text}" compares numbers; got ${describeToken(token)}`, typeof value === 'string' ? 'Write the number without quotes; date-time ranges are not supported (store dates as numbers).' : HINT);
    }
    const bound = { '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' }[op.op];
    return { key, range: { [bound]: value } };
  }

  private idValue(token: Token, value: MatchScalar): string | number {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    return this.failAt(token, `a record id is a string or a non-negative integer, got ${describeToken(token)}`, IdHint);
  }

  private inList(key: string | undefined, negate: boolean): Condition {
    const open = this.next();
    if (open.type !== '(') this.failAt(open, `expected "(" after ${negate ? '"not in"' : '"in"'}, got ${describeToken(open)}`, 'Write a list in parentheses: tag in ("a", "b").');
    const values: { token: Token; value: MatchScalar }[] = [];
    while (this.peek().type !== ')') {
      values.push(this.value(this.tokens[this.pos - 1] as Token));
      const sep = this.peek();
      if (sep.type === ',') this.next();
      else if (sep.type !== ')') this.failAt(sep, `expected "," or ")" in the list, got ${describeToken(sep)}`);
    }
    this.next();
    if (key === undefined) {
      const c: Condition = { has_id: values.map(({ token, value }) => this.idValue(token, value)) };
      return negate ? not(c) : c;
    }
    const strings = typeof values[0]?.value !== 'number';
    for (const { token, value } of values) {
      if (typeof value === 'boolean') this.failAt(token, `a list takes strings or integers, got ${describeToken(token)}`, 'For a boolean write key = true.');
      if (typeof value === 'number' && !Number.isSafeInteger(value)) {
        this.failAt(token, `a list takes strings or integers, got ${describeToken(token)}`, 'For decimals write a range (1.5 <= x <= 2.5) or ors (x = 1.5 or x = 2.5).');
      }
      if ((typeof value === 'string') !== strings) this.failAt(token, 'a list mixes strings and numbers', 'Give all strings or all integers (as Qdrant); combine two lists with "or".');
    }
    const list = strings ? values.map((v) => v.value as string) : values.map((v) => v.value as number);
    return negate ? { key, match: { except: list } } : { key, match: { any: list } };
  }

  private contains(key: string | undefined, keyToken: Token, negate: boolean): Condition {
    if (key === undefined) this.failAt(keyToken, 'the record id takes =, !=, in and not in, not "contains"', IdHint);
    const token = this.next();
    if (token.type !== 'string') this.failAt(token, `expected a string after "contains", got ${describeToken(token)}`);
    const c: Condition = { key, match: { text: token.value } };
    return negate ? not(c) : c;
  }

  /** `2020 <= year`, `2020 <= year < 2030`, `10 > x >= 1`: one range. */
  private reversedRange(first: Token & { type: 'number' }): Condition {
    this.next();
    const op1 = this.next();
    if (op1.type !== 'op' || op1.op === '=' || op1.op === '!=') {
      this.failAt(op1, `a condition starts with a key; after a number only <, <=, > or >= and a key may follow (as in 2020 <= year < 2030), got ${describeToken(op1)}`);
    }
    const keyToken = this.next();
    if (keyToken.type !== 'key') this.failAt(keyToken, `expected a key after "${op1.text}", got ${describeToken(keyToken)}`);
    const key = this.qdrantKey(keyToken);
    if (key === undefined) this.failAt(keyToken, 'the record id takes =, !=, in and not in, not a range', IdHint);
    // `a < k` is `k > a`: flip the first operator to read it from the key's side.
    const flipped = { '<': 'gt', '<=': 'gte', '>': 'lt', '>=': 'lte' } as const;
    const range: Record<string, number> = { [flipped[op1.op]]: first.value };
    const op2 = this.peek();
    if (op2.type === 'op' && op2.op !== '=' && op2.op !== '!=') {
      const ascending = op1.op === '<' || op1.op === '<=';
      if (ascending !== (op2.op === '<' || op2.op === '<=')) this.failAt(op2, `a chained comparison goes one way (a < x < b or a > x > b), got "${op1.text}" then "${op2.text}"`);
      this.next();
      const bound = this.next();
      if (bound.type !== 'number') this.failAt(bound, `expected a number after "${op2.text}", got ${describeToken(bound)}`);
      range[{ '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' }[op2.op]] = bound.value;
    }
    return { key, range };
  }
}

/**
 * Parses --where text into a filter (Qdrant's JSON, in parseFilter's normal form). Throws
 * INVALID_ARGUMENT with the column (in the message, with a caret line, and in `location.column`).
 */
export function parseWhere(text: string): Filter {
  return new Parser(text, tokenize(text)).parse();
}

/**
 * A filter as --where text that parseWhere reads back to an equivalent filter. Throws TypeError for
 * what the short form cannot say (min_should, an empty should, an empty filter).
 */
export function formatWhere(filter: Filter): string {
  return formatFilterAsWhere(filter);
}
