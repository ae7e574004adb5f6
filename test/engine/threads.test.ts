import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Database } from '../../src/index.js';
import { buildThreads, setBuildThreads } from '../../src/engine/index/faiss-index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { randomVectors } from '../helpers/vectors.js';

describe('OpenMP threads for builds', () => {
  it('Database.open({threads: {build}}) fixes the build threads, and an IVF trained with it answers like one trained on the default', async () => {
    const vectors = randomVectors(6000, 16, 51);
    const docs = vectors.map((v, i) => ({ id: `v${i}`, vector: Array.from(v) }));
    const answers: string[][] = [];
    for (const threads of [1, undefined]) {
      setBuildThreads(undefined);
      const db = await Database.open(await tempDir(), threads === undefined ? {} : { threads: { build: threads } });
      if (threads !== undefined) assert.equal(buildThreads(), threads);
      const collection = await db.createCollection('c', { embedder: 'none', dimension: 16, index: { kind: 'ivf', nlist: 16, nprobe: 16 } });
      await collection.upsert(docs);
      answers.push((await collection.search(vectors[7] as Float32Array, { k: 5 })).hits.map((h) => h.id));
      await db.close();
    }
    setBuildThreads(undefined);
    // nprobe = nlist: exhaustive, so the answer cannot depend on how training was threaded.
    assert.deepEqual(answers[0], answers[1]);
    assert.equal(answers[0]?.[0], 'v7');
  });
});
