import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecallBenchJson } from '../../src/engine/bench/recall.js';
import type { TuningJson } from '../../src/ui/tuning.js';
import { parseJson, runCli, type CliResult } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp-dir.js';
import { clusteredVectors } from '../helpers/vectors.js';

/** The CLI with no server configured from the environment. */
const cli = (args: string[], dataDir: string, stdin?: string): Promise<CliResult> =>
  runCli(args, { dataDir, env: { PIRAMID_URL: '', PIRAMID_API_KEY: '' }, ...(stdin === undefined ? {} : { stdin }) });

function ok(result: CliResult): CliResult {
  assert.equal(result.code, 0, `exit ${String(result.code)}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  return result;
}

const jsonl = clusteredVectors(800, 8, 8, 21)
  .map((vector, i) => JSON.stringify({ id: `v${i}`, vector: Array.from(vector) }))
  .join('\n');

describe('piramid bench and index-config', () => {
  it('create defaults to auto; --ef-construction is stored; bench measures recall and latency with an --ef sweep', async () => {
    const dir = await tempDir();
    const created = parseJson<{ index: string }>(ok(await cli(['create', 'small', '--embedder', 'none', '--dim', '4', '--json'], dir)));
    assert.equal(created.index, 'auto');

    ok(await cli(['create', 'v', '--embedder', 'none', '--dim', '8', '--index', 'hnsw', '--m', '16', '--ef-construction', '100', '--json'], dir));
    ok(await cli(['ingest', '-', '-c', 'v', '--json'], dir, jsonl));
    const config = parseJson<TuningJson>(ok(await cli(['index-config', 'v', '--json'], dir)));
    assert.deepEqual(config.settings, { m: 16, ef_construction: 100 });
    assert.deepEqual(config.effective, { m: 16, ef_construction: 100, ef_search: 128 });

    const result = ok(await cli(['bench', 'v', '--queries', '60', '--ef', '4,64', '--seed', '5', '--json'], dir));
    assert.equal(result.stderr, '', 'no progress without a terminal');
    const bench = parseJson<RecallBenchJson>(result);
    assert.equal(bench.collection, 'v');
    assert.equal(bench.index_state, 'HNSW16,Flat');
    assert.equal(bench.count, 800);
    assert.deepEqual([bench.queries, bench.k, bench.seed], [60, 10, 5]);
    assert.deepEqual(bench.runs.map((run) => run.setting), ['default', 'ef_search=4', 'ef_search=64']);
    assert.ok((bench.runs[2]?.recall ?? 0) >= 0.95);
    assert.ok(bench.exact.latency.qps > 0);

    const table = ok(await cli(['bench', 'v', '--queries', '20'], dir));
    assert.match(table.stdout, /recall@10/);
    assert.match(table.stdout, /exact \(Flat\)/);
    assert.match(table.stdout, /^default\s+\d\.\d{4}/m);

    const refused = await cli(['bench', 'v', '--nprobe', '8', '--json'], dir);
    assert.equal(refused.code, 2);
    assert.equal(parseJson<{ error: { code: string } }>(refused).error.code, 'INVALID_ARGUMENT');
    assert.equal((await cli(['bench', 'v', '--ef', '8,x'], dir)).code, 2);
    assert.equal((await cli(['bench', 'missing'], dir)).code, 3);
  });

  it('index-config changes and resets knobs; query --exact scans every record', async () => {
    const dir = await tempDir();
    ok(await cli(['create', 'v', '--embedder', 'none', '--dim', '8', '--index', 'hnsw', '--json'], dir));
    ok(await cli(['ingest', '-', '-c', 'v', '--json'], dir, jsonl));
    const set = parseJson<TuningJson>(ok(await cli(['index-config', 'v', '--ef-search', '48', '--ef-construction', '64', '--json'], dir)));
    assert.deepEqual(set.settings, { ef_search: 48, ef_construction: 64 });
    const shown = ok(await cli(['index-config', 'v'], dir));
    assert.match(shown.stdout, /ef_search\s+48\s+set/);
    assert.match(shown.stdout, /m\s+32\s+default/);
    const partial = parseJson<TuningJson>(ok(await cli(['index-config', 'v', '--reset', '--ef-search', '1', '--json'], dir)));
    assert.deepEqual(partial.settings, { ef_construction: 64 });
    const all = parseJson<TuningJson>(ok(await cli(['index-config', 'v', '--reset', '--json'], dir)));
    assert.deepEqual(all.settings, {});
    assert.equal((await cli(['index-config', 'v', '--nprobe', '4'], dir)).code, 2);

    const exact = parseJson<{ hits: { id: string }[]; plan: { strategy: string; scored: number } }>(
      ok(await cli(['query', '--vector', JSON.stringify(Array.from(clusteredVectors(1, 8, 8, 21)[0] as Float32Array)), '-c', 'v', '--exact', '-k', '3', '--json'], dir)),
    );
    assert.equal(exact.plan.strategy, 'exact-scan');
    assert.equal(exact.plan.scored, 800);
    assert.equal(exact.hits[0]?.id, 'v0');
  });

  it('bench, index-config and query --exact run through a server holding the folder', async () => {
    const dir = await tempDir();
    ok(await cli(['create', 'v', '--embedder', 'none', '--dim', '8', '--index', 'hnsw', '--json'], dir));
    ok(await cli(['ingest', '-', '-c', 'v', '--json'], dir, jsonl));
    const server = await startServe(dir);
    try {
      const result = ok(await cli(['bench', 'v', '--queries', '30', '--ef', '64', '--json'], dir));
      assert.match(result.stderr, /is served by .*; using it/);
      assert.match(result.stderr, /measured inside the server process/);
      const bench = parseJson<RecallBenchJson>(result);
      assert.deepEqual(bench.runs.map((run) => run.setting), ['default', 'ef_search=64']);
      const tuned = parseJson<TuningJson>(ok(await cli(['index-config', 'v', '--ef-search', '32', '--json'], dir)));
      assert.equal(tuned.effective.ef_search, 32);
      // --exact goes to the server as "exact": every record scored, the same answer as embedded.
      const exact = parseJson<{ hits: { id: string }[]; plan: { strategy: string; scored: number } }>(
        ok(await cli(['query', '--vector', JSON.stringify(Array.from(clusteredVectors(1, 8, 8, 21)[0] as Float32Array)), '-c', 'v', '--exact', '-k', '3', '--json'], dir)),
      );
      assert.equal(exact.plan.strategy, 'exact-scan');
      assert.equal(exact.plan.scored, 800);
      assert.equal(exact.hits[0]?.id, 'v0');
    } finally {
      await server.stop();
    }
  });
});
