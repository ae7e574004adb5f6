import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reciprocalRankFusion, weightedFusion, type FusedHit } from '../../src/engine/query/fusion.js';

const EPSILON = 1e-12;

function assertScores(actual: FusedHit[], expected: [string, number][]): void {
  assert.deepEqual(actual.map((h) => h.id), expected.map(([id]) => id));
  actual.forEach((hit, i) => {
    const want = expected[i]?.[1] ?? NaN;
    assert.ok(Math.abs(hit.score - want) < EPSILON, `${hit.id}: expected ${want}, got ${hit.score}`);
  });
}

describe('reciprocalRankFusion', () => {
  it('sums 1/(k + rank) over lists, ranks from 1', () => {
    const vector = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
    const keyword = [{ id: 'c' }, { id: 'a' }, { id: 'd' }];
    assertScores(reciprocalRankFusion([vector, keyword]), [
      ['a', 1 / 61 + 1 / 62],
      ['c', 1 / 63 + 1 / 61],
      ['b', 1 / 62],
      ['d', 1 / 63],
    ]);
  });

  it('takes k and per-list weights', () => {
    const vector = [{ id: 'a' }, { id: 'b' }];
    const keyword = [{ id: 'b' }, { id: 'a' }];
    assertScores(reciprocalRankFusion([vector, keyword], { k: 0 }), [
      ['a', 1 + 1 / 2],
      ['b', 1 / 2 + 1],
    ]);
    assertScores(reciprocalRankFusion([vector, keyword], { k: 1, weights: [1, 3] }), [
      ['b', 1 / 3 + 3 / 2],
      ['a', 1 / 2 + 3 / 3],
    ]);
    assert.throws(() => reciprocalRankFusion([vector, keyword], { weights: [1] }), TypeError);
    assert.throws(() => reciprocalRankFusion([vector], { k: -1 }), TypeError);
    assert.throws(() => reciprocalRankFusion([vector], { weights: [Number.NaN] }), TypeError);
  });

  it('ignores scores, counts a repeated id once at its best rank, breaks ties by id', () => {
    const list = [
      { id: 'x', score: 0.1 },
      { id: 'y', score: 99 },
      { id: 'x', score: 5 },
    ];
    assertScores(reciprocalRankFusion([list]), [
      ['x', 1 / 61],
      ['y', 1 / 62],
    ]);
    // "b" first in one list, "a" first in the other: equal scores, id order.
    assert.deepEqual(reciprocalRankFusion([[{ id: 'b' }], [{ id: 'a' }]]).map((h) => h.id), ['a', 'b']);
    assert.deepEqual(reciprocalRankFusion([]), []);
    assert.deepEqual(reciprocalRankFusion([[], []]), []);
  });
});

describe('weightedFusion', () => {
  const vector = [
    { id: 'a', score: 0.9 },
    { id: 'b', score: 0.7 },
    { id: 'c', score: 0.5 },
  ];
  const keyword = [
    { id: 'c', score: 12 },
    { id: 'd', score: 8 },
    { id: 'a', score: 2 },
  ];

  it('min-max normalises each list and combines alpha*vector + (1-alpha)*keyword', () => {
    // vector normalised: a 1, b 0.5, c 0; keyword: c 1, d 0.6, a 0.
    assertScores(weightedFusion(vector, keyword, 0.5), [
      ['a', 0.5],
      ['c', 0.5],
      ['d', 0.3],
      ['b', 0.25],
    ]);
    assertScores(weightedFusion(vector, keyword, 0.75), [
      ['a', 0.75],
      ['b', 0.375],
      ['c', 0.25],
      ['d', 0.15],
    ]);
  });

  it('alpha 1 and 0 give one list’s order, the other list’s ids scoring 0', () => {
    assert.deepEqual(weightedFusion(vector, keyword, 1).map((h) => h.id), ['a', 'b', 'c', 'd']);
    assert.deepEqual(weightedFusion(vector, keyword, 0).map((h) => h.id), ['c', 'd', 'a', 'b']);
    assert.equal(weightedFusion(vector, keyword, 0).find((h) => h.id === 'b')?.score, 0);
  });

  it('normalises a list of equal scores (or one hit) to 1, and handles empty lists', () => {
    assertScores(weightedFusion([{ id: 'a', score: 0.3 }], [{ id: 'b', score: 4 }, { id: 'c', score: 4 }], 0.5), [
      ['a', 0.5],
      ['b', 0.5],
      ['c', 0.5],
    ]);
    assertScores(weightedFusion([], keyword, 0.4), [
      ['c', 0.6],
      ['d', 0.36],
      ['a', 0],
    ]);
    assert.deepEqual(weightedFusion([], [], 0.5), []);
  });

  it('works with negative scores (negated l2 distances) and rejects bad input', () => {
    const distances = [
      { id: 'near', score: -0.5 },
      { id: 'far', score: -2.5 },
    ];
    assertScores(weightedFusion(distances, [], 1), [
      ['near', 1],
      ['far', 0],
    ]);
    assert.throws(() => weightedFusion(vector, keyword, 1.5), TypeError);
    assert.throws(() => weightedFusion(vector, keyword, Number.NaN), TypeError);
    assert.throws(() => weightedFusion([{ id: 'a', score: Number.POSITIVE_INFINITY }], [], 0.5), TypeError);
  });
});
