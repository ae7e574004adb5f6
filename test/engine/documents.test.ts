import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Database } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { WordHashEmbedder } from '../helpers/word-embedder.js';

const TOPICS = ['whales and harpoons at sea', 'bread flour yeast and ovens', 'stocks bonds and markets', 'rockets orbits and moons'];

/** A long Markdown document: a heading and paragraphs per topic, ~600 characters each. */
function longDocument(topics: string[]): string {
  return topics
    .map((topic) => `## ${topic}\n\n${Array.from({ length: 12 }, (_, i) => `Sentence ${i} is about ${topic}.`).join(' ')}`)
    .join('\n\n');
}

async function open() {
  const dir = await tempDir();
  const embedder = new WordHashEmbedder(64);
  const db = await Database.open(dir, { embedderFactory: async () => embedder });
  const notes = await db.createCollection('notes');
  return { dir, db, notes, embedder };
}

describe('documents and chunks', () => {
  it('splits a long text into chunks that map back to the source, and skips it when unchanged', async () => {
    const { db, notes } = await open();
    const text = longDocument(TOPICS);
    const first = await notes.upsert([{ id: 'guide', text, metadata: { lang: 'en' } }], { chunking: { size: 700, overlap: 50 } });
    assert.deepEqual([first.added, first.updated, first.unchanged], [1, 0, 0]);
    assert.ok(first.records >= 4, `records ${first.records}`);
    const ids = Array.from({ length: first.records }, (_, i) => `guide#${i}`);
    const chunks = await notes.get(ids);
    for (const chunk of chunks) {
      assert.ok(chunk?.chunk !== undefined);
      assert.equal(chunk.parent, 'guide');
      assert.deepEqual(chunk.metadata, { lang: 'en' });
      assert.equal(text.slice(chunk.chunk.start, chunk.chunk.end), chunk.text);
      assert.ok((chunk.text ?? '').length <= 700);
    }
    const stats = await notes.stats();
    assert.deepEqual([stats.count, stats.documents, stats.deleted], [first.records, 1, 0]);

    const again = await notes.upsert([{ id: 'guide', text, metadata: { lang: 'en' } }], { chunking: { size: 700, overlap: 50 } });
    assert.deepEqual([again.added, again.updated, again.unchanged, again.records], [0, 0, 1, 0]);
    assert.equal((await notes.stats()).deleted, 0);

    // Different chunking is a different set of records: the document is rewritten.
    const rechunked = await notes.upsert([{ id: 'guide', text, metadata: { lang: 'en' } }], { chunking: { size: 1500, overlap: 0 } });
    assert.equal(rechunked.updated, 1);
    assert.ok(rechunked.records < first.records);
    const after = await notes.stats();
    assert.deepEqual([after.count, after.documents], [rechunked.records, 1]);
    await db.close();
  });

  it('replaces every chunk when a document shrinks to one record, and deletes them all with the document', async () => {
    const { db, notes } = await open();
    const long = await notes.upsert([{ id: 'doc', text: longDocument(TOPICS) }], { chunking: { size: 600, overlap: 0 } });
    await notes.upsert([{ id: 'doc', text: 'now a short note about bread' }], { chunking: { size: 600, overlap: 0 } });
    const [whole, oldChunk] = await notes.get(['doc', 'doc#0']);
    assert.equal(whole?.text, 'now a short note about bread');
    assert.equal(oldChunk, undefined);
    assert.deepEqual([(await notes.stats()).count, (await notes.stats()).deleted], [1, long.records]);
    const hits = (await notes.search('whales harpoons sea', { k: 10 })).hits;
    assert.deepEqual(hits.map((h) => h.id), ['doc']);

    assert.deepEqual(await notes.delete(['doc']), { deleted: 1, notFound: [] });
    assert.equal(await notes.count(), 0);
    assert.deepEqual((await notes.search('bread', { k: 5 })).hits, []);
    await db.close();
  });

  it('deletes a single chunk, and writes its document again in full on the next upsert', async () => {
    const { db, notes } = await open();
    const text = longDocument(TOPICS);
    const first = await notes.upsert([{ id: 'doc', text }], { chunking: { size: 700, overlap: 0 } });
    assert.deepEqual(await notes.delete(['doc#1']), { deleted: 1, notFound: [] });
    assert.equal(await notes.count(), first.records - 1);
    const again = await notes.upsert([{ id: 'doc', text }], { chunking: { size: 700, overlap: 0 } });
    assert.equal(again.updated, 1);
    assert.equal(await notes.count(), first.records);
    assert.equal((await notes.get(['doc#1']))[0]?.parent, 'doc');
    await db.close();
  });

  it('groups hits by document: k distinct documents, each with its best chunk', async () => {
    const { db, notes } = await open();
    await notes.upsert(
      TOPICS.map((topic, i) => ({ id: `d${i}`, text: longDocument([topic, topic, topic]) })),
      { chunking: { size: 500, overlap: 0 } },
    );
    const chunky = await notes.search('whales and harpoons at sea', { k: 4 });
    assert.ok(new Set(chunky.hits.map((h) => h.parent)).size < 4, 'ungrouped: several chunks of one document');
    const grouped = await notes.search('whales and harpoons at sea', { k: 4, groupByDocument: true });
    assert.deepEqual(new Set(grouped.hits.map((h) => h.parent)), new Set(['d0', 'd1', 'd2', 'd3']));
    assert.equal(grouped.hits[0]?.parent, 'd0');
    assert.equal(grouped.hits[0]?.id, chunky.hits[0]?.id);
    await db.close();
  });

  it('derives ids from content, refuses chunk-like ids, and keeps vectors documents whole', async () => {
    const { db, notes } = await open();
    const a = await notes.upsert([{ text: 'same words' }]);
    const b = await notes.upsert([{ text: 'same words' }]);
    assert.equal(a.ids[0], b.ids[0]);
    assert.equal(b.unchanged, 1);
    await assert.rejects(notes.upsert([{ id: 'x#3', text: 'clash' }]), { code: 'INVALID_INPUT' });
    const vector = Array.from({ length: 64 }, (_, i) => (i === 3 ? 1 : 0));
    const withVector = await notes.upsert([{ id: 'v', text: 'x'.repeat(5000), vector }], { chunking: { size: 100, overlap: 0 } });
    assert.equal(withVector.records, 1);
    await db.close();
  });

  it('never embeds the same text twice: the cache answers, and counts hits and misses', async () => {
    const { dir, db, notes, embedder } = await open();
    await notes.upsert([{ id: 'a', text: 'alpha beta' }, { id: 'b', text: 'gamma delta' }, { id: 'c', text: 'alpha beta' }]);
    const callsAfterFirst = embedder.calls;
    // New ids, same texts: no model call at all.
    await notes.upsert([{ id: 'a2', text: 'alpha beta' }, { id: 'b2', text: 'gamma delta' }]);
    assert.equal(embedder.calls, callsAfterFirst);
    const stats = (await notes.stats()).embeddingCache;
    assert.deepEqual(stats && [stats.entries, stats.hits, stats.misses], [2, 3, 2]);
    await db.close();

    // Another process (here: another open) and another collection of the same model share it.
    const embedder2 = new WordHashEmbedder(64);
    const db2 = await Database.open(dir, { embedderFactory: async () => embedder2 });
    const other = await db2.createCollection('other');
    await other.upsert([{ id: 'z', text: 'gamma delta' }]);
    assert.equal(embedder2.calls, 0);
    assert.equal(await db2.embeddingCache.clear(), 2);
    await other.upsert([{ id: 'y', text: 'gamma delta' }]);
    assert.equal(embedder2.calls, 1);
    await db2.close();
  });
  it('keeps the keyword index exact when texts are replaced by other texts, by vectors alone, and vectors by texts', async () => {
    const { db, notes, embedder } = await open();
    try {
      const ids = async (text: string) => (await notes.search(text, { mode: 'keyword', k: 10 })).hits.map((hit) => hit.id).sort();
      await notes.upsert([
        { id: 'a', text: 'alpha bravo' },
        { id: 'b', text: 'alpha charlie' },
        { id: 'v', vector: (await embedder.embed(['delta']))[0] },
      ]);
      assert.deepEqual(await ids('alpha'), ['a', 'b']);
      // a: other text; b: a vector alone (its old terms must go); v: a vector gains a text.
      await notes.upsert([
        { id: 'a', text: 'echo foxtrot' },
        { id: 'b', vector: (await embedder.embed(['golf']))[0] },
        { id: 'v', text: 'alpha hotel' },
      ]);
      assert.deepEqual(await ids('alpha'), ['v']);
      assert.deepEqual(await ids('charlie'), []);
      assert.deepEqual(await ids('echo'), ['a']);
      // A bulk load of new vector-only documents writes nothing to the keyword index.
      await notes.upsert(await Promise.all(['india', 'juliet'].map(async (word) => ({ id: word, vector: (await embedder.embed([word]))[0] }))));
      assert.deepEqual(await ids('alpha'), ['v']);
      const report = await db.verify();
      assert.equal(report.ok, true, JSON.stringify(report.collections.flatMap((c) => c.problems)));
    } finally {
      await db.close();
    }
  });
});
