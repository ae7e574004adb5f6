/** vectra: a local JSON-file index, exhaustive cosine scan in JavaScript (exact). Its own smaller base. */
import { join } from 'node:path';
import { LocalIndex } from 'vectra';
import { packageVersion } from '../env.js';
import { sweep, timedBuild } from '../measure.js';
import { EXACT } from '../plan.js';
import { emptyOutput, errorText, type PeerContext } from '../peer.js';
import type { WorkerOutput } from '../types.js';

export async function runVectra(ctx: PeerContext): Promise<WorkerOutput> {
  const out = emptyOutput();
  const { data } = ctx;
  try {
    ctx.log(`vectra: insert ${data.n} items`);
    const built = await timedBuild(async () => {
      const index = new LocalIndex(join(ctx.workDir, 'vectra'));
      await index.createIndex({ version: 1, deleteIfExists: true });
      await index.beginUpdate();
      for (let i = 0; i < data.n; i++) await index.insertItem({ id: String(i), vector: Array.from(data.base.subarray(i * data.dim, (i + 1) * data.dim)), metadata: {} });
      await index.endUpdate();
      return index;
    });
    const index = built.value;
    const id = 'vectra';
    const results = await sweep(
      {
        [id]: {
          set: () => undefined,
          one: async (query, k) => (await index.queryItems(Array.from(query), '', k)).map((hit) => Number(hit.item.id)),
        },
      },
      EXACT,
      data,
      ctx.measure('slow'),
      ctx.log,
    );
    out.series.push({
      id,
      library: 'vectra',
      version: packageVersion('vectra'),
      index: 'exhaustive scan (JS), cosine',
      n: data.n,
      build: { seconds: built.seconds, memoryMb: built.memoryMb, note: 'insertItem in one beginUpdate/endUpdate (writes index.json)' },
      points: results[id] ?? [],
      notes: [`its own base of ${data.n} vectors (a prefix of the full base; ground truth recomputed for it)`],
    });
  } catch (err) {
    out.errors.push(`vectra: ${errorText(err)}`);
  }
  return out;
}
