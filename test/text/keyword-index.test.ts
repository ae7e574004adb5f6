import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Level } from 'level';
import { seededRandom } from '../../src/engine/random.js';
import { bm25Idf, bm25Score } from '../../src/engine/text/bm25.js';
import { KeywordIndex, type KeywordHit } from '../../src/engine/text/keyword-index.js';
import { tokenize } from '../../src/engine/text/tokenizer.js';
import { tempDir } from '../helpers/temp-dir.js';

const EPSILON = 1e-9;

function assertClose(actual: number | undefined, expected: number, message?: string): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < EPSILON, `${message ?? ''} expected ${expected}, got ${actual}`);
}

async function openDb(): Promise<Level<string, string>> {
  const db = new Level<string, string>(await tempDir('piramid-kw-'));
  await db.open();
  after(() => db.close());
  return db;
}

async function index(kw: KeywordIndex, db: Level<string, string>, docs: Record<string, string>, deletes: string[] = []): Promise<void> {
  const batch = db.batch();
  await kw.stage(batch, { upserts: Object.entries(docs).map(([id, text]) => ({ id, text })), deletes });
  await batch.write();
}

/** Every key of the keyword index, with its value, straight from the root. */
async function keywordKeys(db: Level<string, string>, name: string): Promise<[string, string][]> {
  const prefix = `!c~${name}~kw!`;
  return db.iterator({ gte: prefix, lt: `${prefix.slice(0, -1)}"` }).all();
}

// -------------------------------------------------------------------------------------------------
// The hand-checked example. Four documents, as the tokenizer sees them:
//   d1 "The white whale."                      -> white whale                 dl = 2
//   d2 "Whale, whale! And a ship."             -> whale whale ship            dl = 3
//   d3 "A ship at sea"                         -> ship sea                    dl = 2
//   d4 "The captain of the ship, captain Ahab" -> captain ship captain ahab   dl = 4
// N = 4, total length 11, avgdl = 11/4 = 2.75; k1 = 1.2, b = 0.75.
// norm(dl) = 1 - b + b*dl/avgdl = 0.25 + 0.75*dl/2.75:
//   norm(2) = 0.25 + 6/11 = 35/44, norm(3) = 0.25 + 9/11 = 47/44, norm(4) = 0.25 + 12/11 = 59/44
// tf part = tf*(k1+1) / (tf + k1*norm) = tf*2.2 / (tf + 1.2*norm):
//   tf=1, dl=2: 2.2 / (1 + 42/44)   = 96.8/86    = 1.1255813953488372
//   tf=1, dl=3: 2.2 / (1 + 56.4/44) = 96.8/100.4 = 0.9641434262948206
//   tf=1, dl=4: 2.2 / (1 + 70.8/44) = 96.8/114.8 = 0.8432055749128919
//   tf=2, dl=3: 4.4 / (2 + 56.4/44) = 193.6/144.4 = 1.3407202216066483
//   tf=2, dl=4: 4.4 / (2 + 70.8/44) = 193.6/158.8 = 1.2191435768261965
// idf = ln(1 + (N - df + 0.5)/(df + 0.5)):
//   whale   df=2: ln(1 + 2.5/2.5) = ln 2     = 0.6931471805599453
//   ship    df=3: ln(1 + 1.5/3.5) = ln(10/7) = 0.3566749439387324
//   captain df=1: ln(1 + 3.5/1.5) = ln(10/3) = 1.2039728043259361
// Query "whale":        d2 = ln2 * 1.3407202216066483 = 0.9293164415263533
//                       d1 = ln2 * 1.1255813953488372 = 0.7801935706767756
// Query "ship captain": d4 = ln(10/7)*0.8432055749128919 + ln(10/3)*1.2191435768261965 = 1.7685660122282703
//                       d3 = ln(10/7)*1.1255813953488372 = 0.4014666810845267
//                       d2 = ln(10/7)*0.9641434262948206 = 0.34388580252260254
const HAND = {
  d1: 'The white whale.',
  d2: 'Whale, whale! And a ship.',
  d3: 'A ship at sea',
  d4: 'The captain of the ship, captain Ahab',
};

describe('bm25Score', () => {
  it('matches the hand-checked values', () => {
    const base = { avgDocLength: 2.75, totalDocs: 4 };
    assertClose(bm25Idf(2, 4), 0.6931471805599453);
    assertClose(bm25Idf(3, 4), 0.3566749439387324);
    assertClose(bm25Idf(1, 4), 1.2039728043259361);
    assertClose(bm25Score({ ...base, tf: 2, df: 2, docLength: 3 }), 0.9293164415263533);
    assertClose(bm25Score({ ...base, tf: 1, df: 2, docLength: 2 }), 0.7801935706767756);
    assertClose(bm25Score({ ...base, tf: 1, df: 3, docLength: 2 }), 0.4014666810845267);
    assertClose(
      bm25Score({ ...base, tf: 1, df: 3, docLength: 4 }) + bm25Score({ ...base, tf: 2, df: 1, docLength: 4 }),
      1.7685660122282703,
    );
  });

  it('honours k1 and b, and behaves at the edges', () => {
    // b = 0: no length normalisation; k1 = 0: tf does not matter.
    const counts = { tf: 3, df: 1, docLength: 100, avgDocLength: 10, totalDocs: 10 };
    const idf = Math.log(1 + 9.5 / 1.5);
    assertClose(bm25Score(counts, { b: 0 }), (idf * 3 * 2.2) / (3 + 1.2));
    assertClose(bm25Score(counts, { k1: 0 }), idf);
    assert.equal(bm25Score({ ...counts, tf: 0 }), 0);
    // A term in every document still scores a little (Lucene's IDF is never negative).
    assert.ok(bm25Idf(10, 10) > 0);
    // More occurrences score more, with diminishing returns; longer documents score less.
    const s = (tf: number, docLength = 10): number => bm25Score({ ...counts, tf, docLength });
    assert.ok(s(2) > s(1) && s(3) - s(2) < s(2) - s(1));
    assert.ok(s(1, 20) < s(1, 10));
  });
});

// One database for the file (opened at the top level, so that it closes when the file ends); each
// test uses its own collection name.
const db = await openDb();

describe('KeywordIndex', () => {
  it('scores the hand-checked example exactly', async () => {
    const kw = new KeywordIndex(db, 'hand');
    await index(kw, db, HAND);
    assert.deepEqual(await kw.stats(), { docs: 4, totalLength: 11 });
    const whale = await kw.search('whale', 10);
    assert.deepEqual(whale.map((h) => h.id), ['d2', 'd1']);
    assertClose(whale[0]?.score, 0.9293164415263533);
    assertClose(whale[1]?.score, 0.7801935706767756);
    const ship = await kw.search('Ship? Captain!', 10);
    assert.deepEqual(ship.map((h) => h.id), ['d4', 'd3', 'd2']);
    assertClose(ship[0]?.score, 1.7685660122282703);
    assertClose(ship[1]?.score, 0.4014666810845267);
    assertClose(ship[2]?.score, 0.34388580252260254);
    // Repeating a query term does not count it twice; k cuts the list.
    assert.deepEqual(await kw.search('ship captain captain ship', 1), ship.slice(0, 1));
    assert.deepEqual(await kw.search('the and of', 10), []);
    assert.deepEqual(await kw.search('narwhal', 10), []);
    assert.deepEqual(await kw.search('whale', 0), []);
    await assert.rejects(kw.search('whale', -1), TypeError);
    await assert.rejects(kw.search('whale', 1.5), TypeError);
  });

  it('stores postings, per-record entries and stats under c~<name>~kw', async () => {
    const kw = new KeywordIndex(db, 'layout');
    await index(kw, db, { r1: 'whale whale ship' });
    assert.deepEqual(await keywordKeys(db, 'layout'), [
      ['!c~layout~kw!d!r1', JSON.stringify({ length: 3, terms: ['whale', 'ship'] })],
      ['!c~layout~kw!s', JSON.stringify({ docs: 1, totalLength: 3 })],
      ['!c~layout~kw!t!ship!r1', '1:3'],
      ['!c~layout~kw!t!whale!r1', '2:3'],
    ]);
  });

  it('adds, updates (remove + add) and removes, keeping stats consistent', async () => {
    const kw = new KeywordIndex(db, 'crud');
    await index(kw, db, { a: 'harpoon and rope', b: 'rope ladder rope' });
    assert.deepEqual(await kw.stats(), { docs: 2, totalLength: 5 });
    assert.deepEqual((await kw.search('rope', 5)).map((h) => h.id), ['b', 'a']);

    // Update: "b" loses "rope", gains "compass".
    await index(kw, db, { b: 'compass' });
    assert.deepEqual(await kw.stats(), { docs: 2, totalLength: 3 });
    assert.deepEqual((await kw.search('rope', 5)).map((h) => h.id), ['a']);
    assert.deepEqual((await kw.search('ladder', 5)).map((h) => h.id), []);
    assert.deepEqual((await kw.search('compass', 5)).map((h) => h.id), ['b']);

    // Update to text without terms: the record leaves the index.
    await index(kw, db, { b: 'to be or not to be' });
    assert.deepEqual(await kw.stats(), { docs: 1, totalLength: 2 });
    assert.deepEqual(await kw.search('compass', 5), []);

    // Remove, and remove an id that was never indexed (a no-op).
    await index(kw, db, {}, ['a', 'never-indexed']);
    assert.deepEqual(await kw.stats(), { docs: 0, totalLength: 0 });
    assert.deepEqual(await kw.search('rope', 5), []);
    assert.deepEqual(await keywordKeys(db, 'crud'), [['!c~crud~kw!s', JSON.stringify({ docs: 0, totalLength: 0 })]]);
  });

  it('ranks first a document whose only match is a rare keyword', async () => {
    const kw = new KeywordIndex(db, 'rare');
    const docs: Record<string, string> = {};
    for (let i = 0; i < 50; i++) docs[`common-${String(i).padStart(2, '0')}`] = 'the whale swam in the ocean, whale and ocean and whale';
    docs.rare = 'a narwhal was seen near the ice floe today';
    await index(kw, db, docs);
    const hits = await kw.search('whale ocean narwhal', 5);
    assert.equal(hits[0]?.id, 'rare');
    assert.ok((hits[0]?.score ?? 0) > 3 * (hits[1]?.score ?? Infinity));
  });

  it('breaks ties by id and skips records the filter rejects, without changing scores', async () => {
    const kw = new KeywordIndex(db, 'ties');
    await index(kw, db, { c: 'white whale', a: 'white whale', b: 'white whale', z: 'whale', y: 'ship' });
    const all = await kw.search('white whale', 10);
    assert.deepEqual(all.map((h) => h.id), ['a', 'b', 'c', 'z']);
    const asked: string[] = [];
    const filtered = await kw.search('white whale', 2, {
      accept: (id) => {
        asked.push(id);
        return id !== 'a';
      },
    });
    assert.deepEqual(filtered, all.filter((h) => h.id !== 'a').slice(0, 2));
    assert.ok(!asked.includes('y'), 'the filter is asked only about matching records');
    assert.deepEqual(await kw.search('white whale', 10, { accept: () => false }), []);
  });

  it('keeps terms apart when one is a prefix of another, and takes any record id', async () => {
    const kw = new KeywordIndex(db, 'ids');
    const ids = ['doc!1#0', 'doc"2', 'é', '文書#3', '\u{1F40B}', ''];
    await index(kw, db, Object.fromEntries(ids.map((id) => [id, 'abc ab'])));
    await index(kw, db, { only: 'abcd' });
    const hits = await kw.search('ab', 10);
    assert.deepEqual(hits.map((h) => h.id).sort(), [...ids].sort());
    assert.deepEqual((await kw.search('abcd', 10)).map((h) => h.id), ['only']);
    await index(kw, db, {}, ids);
    assert.deepEqual(await kw.search('ab', 10), []);
    assert.deepEqual(await kw.stats(), { docs: 1, totalLength: 1 });
  });

  it('reads long posting lists in chunks', async () => {
    const kw = new KeywordIndex(db, 'chunks', { chunkSize: 7 });
    const docs: Record<string, string> = {};
    for (let i = 0; i < 100; i++) docs[`r${String(i).padStart(3, '0')}`] = `whale ${'ship '.repeat(i % 5)}`;
    await index(kw, db, docs);
    const hits = await kw.search('whale', 1000);
    assert.equal(hits.length, 100);
    // The shortest documents ("whale" alone, i % 5 == 0) come first, in id order.
    assert.deepEqual(hits.slice(0, 3).map((h) => h.id), ['r000', 'r005', 'r010']);
  });

  it('writes atomically inside the caller’s batch, with the caller’s own keys', async () => {
    const kw = new KeywordIndex(db, 'atomic');
    const records = db.sublevel<string, string>('c~atomic~rec', {});

    // A batch that is never written leaves nothing behind.
    const abandoned = db.batch();
    abandoned.put(`${records.prefix}r1`, '{"text":"white whale"}');
    const planned = await kw.stage(abandoned, { upserts: [{ id: 'r1', text: 'white whale' }] });
    assert.deepEqual(planned, { docs: 1, totalLength: 2 });
    await abandoned.close();
    assert.deepEqual(await kw.stats(), { docs: 0, totalLength: 0 });
    assert.deepEqual(await kw.search('whale', 5), []);
    assert.equal(await records.get('r1'), undefined);

    // The recipe in parts: stats, removals, additions, apply; then one write for everything.
    const batch = db.batch();
    batch.put(`${records.prefix}r1`, '{"text":"white whale"}');
    batch.put(`${records.prefix}r2`, '{"text":"grey ship"}');
    const statsBefore = await kw.stats();
    const removals = await kw.operationsToRemoveMany(['r1', 'r2']);
    const additions = [kw.operationsToAdd('r1', 'white whale'), kw.operationsToAdd('r2', 'grey ship')];
    const statsAfter = kw.apply(batch, [...removals, ...additions], statsBefore);
    assert.deepEqual(statsAfter, { docs: 2, totalLength: 4 });
    await batch.write();
    assert.deepEqual(await kw.stats(), statsAfter);
    assert.equal(await records.get('r2'), '{"text":"grey ship"}');
    assert.deepEqual((await kw.search('whale', 5)).map((h) => h.id), ['r1']);

    // Every operation's key is inside the collection's range, so its size and clear cover it.
    const ops = await kw.operationsToRemove('r1');
    assert.ok(ops.dels.length > 0 && ops.dels.every((key) => key.startsWith('!c~atomic~')));
    // apply puts removals before additions, whatever the order it is given them in.
    const reorder = db.batch();
    const after = kw.apply(reorder, [kw.operationsToAdd('r1', 'black whale'), ops], await kw.stats());
    await reorder.write();
    assert.deepEqual(after, { docs: 2, totalLength: 4 });
    assert.deepEqual((await kw.search('black', 5)).map((h) => h.id), ['r1']);
    assert.deepEqual(await kw.search('white', 5), []);

    const twice = db.batch();
    await assert.rejects(kw.stage(twice, { upserts: [{ id: 'x', text: 'a' }], deletes: ['x'] }), TypeError);
    await twice.close();
  });

  it('clears only its own collection', async () => {
    const one = new KeywordIndex(db, 'one');
    const two = new KeywordIndex(db, 'one2');
    await index(one, db, { a: 'whale' });
    await index(two, db, { a: 'whale' });
    await db.put('!c~one~rec!x', 'kept');
    await one.clear();
    assert.deepEqual(await one.stats(), { docs: 0, totalLength: 0 });
    assert.deepEqual(await one.search('whale', 5), []);
    assert.deepEqual((await two.search('whale', 5)).map((h) => h.id), ['a']);
    assert.equal(await db.get('!c~one~rec!x'), 'kept');
  });

  it('takes an analyzer and BM25 parameters', async () => {
    const stemmed = new KeywordIndex(db, 'stem', { analyze: (text) => tokenize(text, { stem: true }), b: 0 });
    await index(stemmed, db, { a: 'Whales and queries', b: 'one whale, one query, many ships and other long words' });
    // b = 0: length does not matter, so both score the same and tie on id.
    assert.deepEqual((await stemmed.search('whale', 5)).map((h) => h.id), ['a', 'b']);
    const bad = new KeywordIndex(db, 'bad', { analyze: (text) => text.split(' ') });
    assert.throws(() => bad.operationsToAdd('x', 'fine not!fine'), TypeError);
    assert.throws(() => new KeywordIndex(db, 'x', { b: 2 }), TypeError);
  });

  it('agrees with a brute-force BM25 after random adds, updates and removes', async () => {
    const kw = new KeywordIndex(db, 'model');
    const random = seededRandom(42);
    const vocabulary = ['whale', 'ship', 'sea', 'harpoon', 'captain', 'ahab', 'ishmael', 'rope', 'sail', 'storm', 'ocean', 'island'];
    const word = (): string => vocabulary[Math.floor(random() ** 2 * vocabulary.length)] as string;
    const live = new Map<string, string[]>();
    for (let round = 0; round < 30; round++) {
      const upserts: { id: string; text: string }[] = [];
      const deletes: string[] = [];
      const used = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const id = `r${Math.floor(random() * 40)}`;
        if (used.has(id)) continue;
        used.add(id);
        if (random() < 0.25) {
          deletes.push(id);
          live.delete(id);
        } else {
          const words = Array.from({ length: Math.floor(random() * 12) }, word);
          upserts.push({ id, text: words.join(' ') });
          if (words.length > 0) live.set(id, words);
          else live.delete(id);
        }
      }
      const batch = db.batch();
      const stats = await kw.stage(batch, { upserts, deletes });
      await batch.write();
      const totalLength = [...live.values()].reduce((sum, words) => sum + words.length, 0);
      assert.deepEqual(stats, { docs: live.size, totalLength });
      assert.deepEqual(await kw.stats(), stats);
    }
    // Postings and entries on disk are exactly those of the live records.
    const keys = (await keywordKeys(db, 'model')).map(([key]) => key);
    const expectedPostings = [...live].flatMap(([id, words]) => [...new Set(words)].map((term) => `!c~model~kw!t!${term}!${id}`));
    assert.deepEqual(keys.filter((key) => key.includes('~kw!t!')).sort(), expectedPostings.sort());
    assert.deepEqual(keys.filter((key) => key.includes('~kw!d!')).sort(), [...live.keys()].map((id) => `!c~model~kw!d!${id}`).sort());

    // Scores equal a brute-force BM25 over the live texts.
    const n = live.size;
    const avg = [...live.values()].reduce((sum, words) => sum + words.length, 0) / n;
    for (const query of ['whale', 'ship captain', 'island storm ocean', 'ahab ishmael whale sea']) {
      const terms = [...new Set(tokenize(query))];
      const expected: KeywordHit[] = [];
      for (const [id, words] of live) {
        let score = 0;
        let matched = false;
        for (const term of terms) {
          const tf = words.filter((w) => w === term).length;
          if (tf === 0) continue;
          matched = true;
          const df = [...live.values()].filter((ws) => ws.includes(term)).length;
          score += bm25Score({ tf, df, docLength: words.length, avgDocLength: avg, totalDocs: n });
        }
        if (matched) expected.push({ id, score });
      }
      expected.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
      const actual = await kw.search(query, 10);
      assert.deepEqual(actual.map((h) => h.id), expected.slice(0, 10).map((h) => h.id), query);
      actual.forEach((hit, i) => assertClose(hit.score, expected[i]?.score ?? NaN, query));
    }
  });
});
