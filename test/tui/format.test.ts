import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bar, fit, formatBytes, metadataTree, oneLine, scoreFractions, sparkline, truncate, wrapText } from '../../src/tui/format.js';
import { themeFromEnv } from '../../src/tui/theme.js';
import { splitKeys } from '../../src/tui/use-keys.js';

const unicode = { unicode: true };
const ascii = { unicode: false };

describe('TUI text helpers', () => {
  it('fits cells to a width: cut with an ellipsis, padded left or right, never splitting a character', () => {
    assert.equal(fit('abcdef', 4), 'abc…');
    assert.equal(fit('ab', 4), 'ab  ');
    assert.equal(fit('ab', 4, 'right'), '  ab');
    assert.equal(truncate('😀😀😀', 2), '😀…');
    assert.equal(truncate('abc', 0), '');
    assert.equal(oneLine('a\n\tb\u0007  c '), 'a b c');
  });

  it('wraps text at spaces, keeps paragraphs, and cuts words longer than a line', () => {
    assert.deepEqual(wrapText('one two three four', 9), ['one two', 'three', 'four']);
    assert.deepEqual(wrapText('a\n\nb', 10), ['a', '', 'b']);
    assert.deepEqual(wrapText('abcdefghij', 4), ['abcd', 'efgh', 'ij']);
    for (const line of wrapText('x'.repeat(50) + ' short words here', 20)) assert.ok(line.length <= 20, line);
  });

  it('draws bars and sparklines in Unicode, or ASCII on a dumb terminal', () => {
    assert.equal(bar(1, 4, unicode), '████');
    assert.equal(bar(0.5, 4, unicode), '██  ');
    assert.equal(bar(0.5, 4, ascii), '##..');
    assert.equal(bar(Number.NaN, 3, ascii), '...');
    assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7], unicode), '▁▂▃▄▅▆▇█');
    assert.equal(sparkline([0, 7], ascii), '_#');
    assert.equal(sparkline([2, 2], unicode), '▄▄');
  });

  it('scales score bars to the best hit: the highest score, or the smallest l2 distance', () => {
    assert.deepEqual(scoreFractions([0.8, 0.4, -0.2], false), [1, 0.5, 0]);
    assert.deepEqual(scoreFractions([1, 2, 4], true), [1, 0.5, 0.25]);
    assert.deepEqual(scoreFractions([0, 2], true), [1, 0]);
  });

  it('shows metadata as a tree, nested objects and arrays under their key', () => {
    assert.deepEqual(metadataTree({ title: 'T', tags: ['a', 'b'], nested: { year: 2020 }, empty: {} }, unicode), [
      '├─ title: "T"',
      '├─ tags',
      '│  ├─ [0]: "a"',
      '│  └─ [1]: "b"',
      '├─ nested',
      '│  └─ year: 2020',
      '└─ empty: {}',
    ]);
    assert.deepEqual(metadataTree({ a: null }, ascii), ['`- a: null']);
    assert.deepEqual(metadataTree(undefined, unicode), ['(no metadata)']);
  });

  it('formats sizes', () => {
    assert.equal(formatBytes(812), '812 B');
    assert.equal(formatBytes(4200), '4.1 KB');
    assert.equal(formatBytes(50 * 1024 * 1024), '50 MB');
  });

  it('turns colour off for NO_COLOR and dumb terminals, and Unicode off for dumb ones', () => {
    assert.deepEqual(themeFromEnv({ TERM: 'xterm-256color' }), { color: true, unicode: true });
    assert.deepEqual(themeFromEnv({ TERM: 'xterm', NO_COLOR: '1' }), { color: false, unicode: true });
    assert.deepEqual(themeFromEnv({ TERM: 'xterm', NO_COLOR: '' }), { color: true, unicode: true });
    assert.deepEqual(themeFromEnv({ TERM: 'dumb' }), { color: false, unicode: false });
  });
});

describe('keys read together', () => {
  it('are split into one key each: characters, Enter, Tab, Backspace and Ctrl letters', () => {
    const none = splitKeys('x', { ctrl: false, meta: false } as Parameters<typeof splitKeys>[1]);
    assert.equal(none.length, 1);
    const keys = splitKeys('jJ\r\t\u007f\u0015', { ctrl: false, meta: false } as Parameters<typeof splitKeys>[1]);
    assert.deepEqual(
      keys.map(([input, key]) => [input, key.return, key.tab, key.backspace, key.ctrl, key.shift]),
      [
        ['j', false, false, false, false, false],
        ['J', false, false, false, false, true],
        ['', true, false, false, false, false],
        ['', false, true, false, false, false],
        ['', false, false, true, false, false],
        ['u', false, false, false, true, false],
      ],
    );
  });
});
