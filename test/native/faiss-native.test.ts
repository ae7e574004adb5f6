// The patched faiss-node binding (native/faiss-node.patch) through src/engine/index/faiss-native.ts.
// Needs the addon built: node scripts/install-native.mjs (npm install runs it).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { MetricType, NativeAddonError, loadFaissNative, type Index, type SearchResult } from '../../src/engine/index/faiss-native.js';
import { seededRandom } from '../../src/engine/random.js';

const faiss = loadFaissNative();

/** Deterministic uniform floats in [-1, 1). */
function rng(seed: number): () => number {
  const random = seededRandom(seed);
  return () => random() * 2 - 1;
}

function randomVectors(n: number, d: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = next();
  return out;
}

/** Points around `clusters` random centres: the shape of real embeddings, where IVF/HNSW shine. */
function clusteredVectors(n: number, d: number, clusters: number, seed: number): Float32Array {
  const next = rng(seed);
  const centres = randomVectors(clusters, d, seed + 1);
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = i % clusters;
    for (let j = 0; j < d; j++) out[i * d + j] = (centres[c * d + j] ?? 0) + 0.25 * next();
  }
  return out;
}

/** Exact k nearest by brute force in JS: labels and scores (squared L2 ascending, or IP descending). */
function bruteForce(base: Float32Array, queries: Float32Array, d: number, k: number, metric: 'l2' | 'ip'): { labels: number[][]; scores: number[][] } {
  const n = base.length / d;
  const labels: number[][] = [];
  const scores: number[][] = [];
  for (let q = 0; q < queries.length / d; q++) {
    const all: { label: number; score: number }[] = [];
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const a = queries[q * d + j] ?? 0;
        const b = base[i * d + j] ?? 0;
        s += metric === 'l2' ? (a - b) * (a - b) : a * b;
      }
      all.push({ label: i, score: s });
    }
    all.sort((x, y) => (metric === 'l2' ? x.score - y.score : y.score - x.score));
    labels.push(all.slice(0, k).map((h) => h.label));
    scores.push(all.slice(0, k).map((h) => h.score));
  }
  return { labels, scores };
}

function rows(result: SearchResult, k: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < result.labels.length / k; i++) out.push(Array.from(result.labels.subarray(i * k, (i + 1) * k)));
  return out;
}

function recall(found: number[][], truth: number[][]): number {
  let hit = 0;
  let total = 0;
  for (const [i, want] of truth.entries()) {
    const got = new Set(found[i]);
    for (const label of want) if (got.has(label)) hit++;
    total += want.length;
  }
  return hit / total;
}

const scratch = mkdtempSync(join(tmpdir(), 'piramid-faiss-native-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('loading', () => {
  test('the binding is the patched one, with its build info', () => {
    assert.equal(typeof faiss.Index.fromFactory, 'function');
    assert.equal(typeof faiss.Index.prototype.setParam, 'function');
    assert.ok(faiss.buildInfo, 'build-info.json beside the addon');
    assert.ok(faiss.buildInfo.route === 'A' || faiss.buildInfo.route === 'B');
    assert.equal(loadFaissNative(), faiss, 'loaded once per path');
  });

  test('MetricType values follow faiss/MetricType.h', () => {
    assert.equal(MetricType.METRIC_INNER_PRODUCT, 0);
    assert.equal(MetricType.METRIC_L2, 1);
    assert.equal(faiss.MetricType, MetricType);
  });

  test('a missing addon names the install command', () => {
    assert.throws(
      () => loadFaissNative(join(scratch, 'nowhere', 'faiss-node.node')),
      (err: unknown) =>
        err instanceof NativeAddonError && err.code === 'NATIVE_ADDON_MISSING' && err.message.includes('node scripts/install-native.mjs'),
    );
  });
});

describe('flat indexes against brute force', () => {
  const d = 24;
  const k = 7;
  const base = randomVectors(600, d, 1);
  const queries = randomVectors(5, d, 2);

  for (const metric of ['l2', 'ip'] as const) {
    test(`Flat ${metric}: batched Float32Array search gives n*k exact results`, () => {
      const index = faiss.Index.fromFactory(d, 'Flat', metric === 'l2' ? MetricType.METRIC_L2 : MetricType.METRIC_INNER_PRODUCT);
      index.add(base);
      assert.equal(index.ntotal(), 600);
      assert.equal(index.getDimension(), d);
      assert.equal(index.isTrained(), true);

      const result = index.search(queries, k);
      assert.ok(result.distances instanceof Float32Array);
      assert.ok(result.labels instanceof Float64Array);
      assert.equal(result.labels.length, 5 * k);
      assert.equal(result.distances.length, 5 * k);

      const truth = bruteForce(base, queries, d, k, metric);
      assert.deepEqual(rows(result, k), truth.labels);
      for (let i = 0; i < 5 * k; i++) {
        const want = truth.scores[Math.floor(i / k)]?.[i % k] ?? NaN;
        assert.ok(Math.abs((result.distances[i] ?? NaN) - want) <= 1e-4 * Math.max(1, Math.abs(want)), `score ${i}: ${result.distances[i]} vs ${want}`);
      }
    });
  }

  test('IndexFlatIP / IndexFlatL2 constructors and number[] input still work', () => {
    const ip = new faiss.IndexFlatIP(d);
    ip.add(Array.from(base));
    const viaArray = ip.search(Array.from(queries), k);
    const viaTyped = ip.search(queries, k);
    assert.deepEqual(viaArray.labels, viaTyped.labels);
    assert.deepEqual(rows(viaTyped, k), bruteForce(base, queries, d, k, 'ip').labels);
    const l2 = new faiss.IndexFlatL2(d);
    l2.add(base);
    assert.deepEqual(rows(l2.search(queries, k), k), bruteForce(base, queries, d, k, 'l2').labels);
  });

  test('a subarray (non-zero byteOffset) is read at its offset', () => {
    const index = faiss.Index.fromFactory(d, 'Flat', MetricType.METRIC_L2);
    index.add(base.subarray(100 * d, 200 * d));
    assert.equal(index.ntotal(), 100);
    const q = queries.subarray(2 * d, 3 * d);
    const got = index.search(q, k);
    const truth = bruteForce(base.slice(100 * d, 200 * d), queries.slice(2 * d, 3 * d), d, k, 'l2');
    assert.deepEqual(rows(got, k), truth.labels);
    // the vector at base[150] is its own nearest neighbour, label 50
    assert.equal(index.search(base.subarray(150 * d, 151 * d), 1).labels[0], 50);
  });

  test('removeIds renumbers, reset empties', () => {
    const index = faiss.Index.fromFactory(d, 'Flat', MetricType.METRIC_L2);
    index.add(base.subarray(0, 10 * d));
    assert.equal(index.removeIds([3]), 1);
    assert.equal(index.ntotal(), 9);
    // the old label 4 is now 3
    assert.equal(index.search(base.subarray(4 * d, 5 * d), 1).labels[0], 3);
    index.reset();
    assert.equal(index.ntotal(), 0);
  });

  test('bad input throws JS errors instead of crashing', () => {
    const index = faiss.Index.fromFactory(d, 'Flat', MetricType.METRIC_L2);
    index.add(base.subarray(0, 10 * d));
    assert.throws(() => index.add(new Float32Array(d + 1)), /array length/);
    assert.throws(() => index.search(new Float32Array(d), 11), /greater than `ntotal`/);
    assert.throws(() => index.search(new Float64Array(d) as unknown as Float32Array, 1), TypeError);
    assert.throws(() => index.setParam('efSearch', 10), /unknown parameter|efSearch/);
    assert.throws(() => index.write(join(scratch, 'no', 'such', 'dir', 'x.faiss')), Error);
    const hnsw = faiss.Index.fromFactory(d, 'HNSW8', MetricType.METRIC_L2);
    hnsw.add(base.subarray(0, 10 * d));
    assert.throws(() => hnsw.removeIds([1]), Error);
    const ivf = faiss.Index.fromFactory(d, 'IVF4,Flat', MetricType.METRIC_L2);
    assert.throws(() => ivf.add(base), /trained/);
    assert.throws(() => faiss.Index.fromFactory(d, 'NoSuchIndex', MetricType.METRIC_L2), Error);
    assert.throws(() => faiss.Index.fromBuffer(Buffer.from('not an index')), Error);
  });
});

describe('approximate indexes', () => {
  const d = 32;
  const k = 10;
  const base = clusteredVectors(4000, d, 40, 11);
  const queries = randomVectors(40, d, 12).map((x, i) => x * 0.3 + (base[(i % d) + Math.floor(i / d) * 97 * d] ?? 0));
  const truth = bruteForce(base, queries, d, k, 'l2').labels;

  test('HNSW: efSearch via setParam changes results and recall', () => {
    const index = faiss.Index.fromFactory(d, 'HNSW4', MetricType.METRIC_L2);
    index.add(base);
    index.setParam('efSearch', 1); // the graph walk stops early: poor recall
    const low = index.search(queries, k);
    index.setParam('efSearch', 400);
    const high = index.search(queries, k);
    const lowRecall = recall(rows(low, k), truth);
    const highRecall = recall(rows(high, k), truth);
    assert.notDeepEqual(low.labels, high.labels);
    assert.ok(highRecall >= 0.98, `recall at efSearch 400: ${highRecall}`);
    assert.ok(highRecall > lowRecall, `recall ${lowRecall} -> ${highRecall}`);
  });

  test('IVF: train, then nprobe via setParam trades recall', () => {
    const index = faiss.Index.fromFactory(d, 'IVF32,Flat', MetricType.METRIC_L2);
    assert.equal(index.isTrained(), false);
    index.train(base);
    assert.equal(index.isTrained(), true);
    index.add(base);
    index.setParam('nprobe', 1);
    const one = recall(rows(index.search(queries, k), k), truth);
    index.setParam('nprobe', 32); // every list: exact
    const all = recall(rows(index.search(queries, k), k), truth);
    assert.equal(all, 1);
    assert.ok(one < all, `recall at nprobe 1: ${one}`);
  });

  test('toBuffer/fromBuffer and write/read round trips answer identically (search params included)', () => {
    const cases: [string, (ix: Index) => void][] = [
      ['HNSW8', (ix) => ix.setParam('efSearch', 24)],
      ['IVF16,Flat', (ix) => ix.setParam('nprobe', 3)],
      ['Flat', () => undefined],
    ];
    for (const [description, tune] of cases) {
      const index = faiss.Index.fromFactory(d, description, MetricType.METRIC_L2);
      if (!index.isTrained()) index.train(base);
      index.add(base);
      tune(index);
      const want = index.search(queries, k);

      const buffer = index.toBuffer();
      assert.ok(Buffer.isBuffer(buffer) && buffer.length > base.byteLength / 2);
      const fromBuffer = faiss.Index.fromBuffer(buffer);
      const file = join(scratch, `${description.replace(/\W/g, '_')}.faiss`);
      index.write(file);
      const fromFile = faiss.Index.read(file);

      for (const copy of [fromBuffer, fromFile]) {
        assert.equal(copy.ntotal(), index.ntotal());
        assert.equal(copy.getDimension(), d);
        const got = copy.search(queries, k);
        assert.deepEqual(got.labels, want.labels, description);
        assert.deepEqual(got.distances, want.distances, description);
      }
      // a buffer that is a view into a larger ArrayBuffer reads from its own offset
      const padded = Buffer.alloc(buffer.length + 16);
      buffer.copy(padded, 8);
      assert.deepEqual(faiss.Index.fromBuffer(padded.subarray(8, 8 + buffer.length)).search(queries, k).labels, want.labels);
    }
  });
});

describe('OpenMP threads', () => {
  test('setOmpThreads / getOmpThreads, module-level and static on Index', () => {
    const before = faiss.getOmpThreads();
    assert.ok(Number.isInteger(before) && before >= 1);
    try {
      faiss.setOmpThreads(1);
      assert.equal(faiss.getOmpThreads(), 1);
      faiss.Index.setOmpThreads(2);
      assert.equal(faiss.Index.getOmpThreads(), 2);
      assert.throws(() => faiss.setOmpThreads(0), TypeError);
      // results do not depend on the thread count
      const d = 16;
      const base = randomVectors(3000, d, 21);
      const queries = randomVectors(64, d, 22);
      const index = faiss.Index.fromFactory(d, 'Flat', MetricType.METRIC_INNER_PRODUCT);
      index.add(base);
      faiss.setOmpThreads(1);
      const one = index.search(queries, 5);
      faiss.setOmpThreads(2);
      const two = index.search(queries, 5);
      assert.deepEqual(one.labels, two.labels);
    } finally {
      faiss.setOmpThreads(before);
    }
  });
});
