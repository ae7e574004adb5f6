import { Args, Flags } from '@oclif/core';
import { BaseCommand, DEFAULT_COLLECTION, serverFlags } from '../base-command.js';
import { DEFAULT_BENCH_K, DEFAULT_BENCH_QUERIES, DEFAULT_BENCH_SEED, type RecallBenchJson, type RecallBenchProgress } from '../engine/bench/recall.js';
import { PiramidError } from '../engine/errors.js';
import { info } from '../ui/output.js';
import { renderTable } from '../ui/table.js';

export default class Bench extends BaseCommand<typeof Bench> {
  static override description = `Measure a collection's index on its own data: recall@k against exact search, and latency.
Stored vectors (a seeded sample) are the queries; each query's own record is left out of both lists. The
exact reference is a faiss Flat over every live vector, built here, independent of the index. With --ef or
--nprobe, each value is measured too, so you can pick one (then: piramid index-config).`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> docs',
    '<%= config.bin %> <%= command.id %> images --ef 16,32,64,128,256',
    '<%= config.bin %> <%= command.id %> big --nprobe 8,16,32,64 --queries 500 --json',
  ];

  static override args = {
    collection: Args.string({ ignoreStdin: true, description: 'Collection to measure.', default: DEFAULT_COLLECTION }),
  };

  static override flags = {
    queries: Flags.integer({ description: 'Stored vectors used as queries.', default: DEFAULT_BENCH_QUERIES, min: 1, max: 10_000 }),
    k: Flags.integer({ char: 'k', description: 'Hits per query (recall@k).', default: DEFAULT_BENCH_K, min: 1, max: 1000 }),
    seed: Flags.integer({ description: 'Seed of the query sample.', default: DEFAULT_BENCH_SEED }),
    ef: Flags.string({ description: 'HNSW: efSearch values to measure, comma-separated (e.g. 16,32,64,128).' }),
    nprobe: Flags.string({ description: 'IVF: nprobe values to measure, comma-separated (e.g. 8,16,32,64).' }),
    ...serverFlags,
  };

  async run(): Promise<RecallBenchJson> {
    const { flags } = this;
    const name = this.args.collection;
    const backend = await this.backend({ createIfMissing: false });
    if (backend.kind === 'remote') info('piramid: measured inside the server process (latencies exclude HTTP)');
    const progress = terminalProgress(name);
    let result: RecallBenchJson;
    try {
      result = await backend.bench(name, {
        queries: flags.queries,
        k: flags.k,
        seed: flags.seed,
        ...(flags.ef === undefined ? {} : { efSearch: integerList('--ef', flags.ef) }),
        ...(flags.nprobe === undefined ? {} : { nprobe: integerList('--nprobe', flags.nprobe) }),
        onProgress: progress.update,
      });
    } finally {
      progress.stop();
    }
    if (!this.jsonEnabled()) this.log(benchTable(result));
    return result;
  }
}

export function integerList(flag: string, text: string): number[] {
  const values = text.split(',').map((part) => part.trim());
  const numbers = values.map(Number);
  if (values.length === 0 || numbers.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new PiramidError('INVALID_ARGUMENT', `${flag} "${text}" is not a comma-separated list of positive integers.`, { hint: `Example: ${flag} 16,32,64` });
  }
  return numbers;
}

function benchTable(result: RecallBenchJson): string {
  const ms = (value: number): string => value.toFixed(3);
  const rows = result.runs.map((run) => [run.setting, run.recall.toFixed(4), run.recall_min.toFixed(2), ms(run.latency.p50_ms), ms(run.latency.p90_ms), ms(run.latency.p99_ms), ms(run.latency.mean_ms), run.latency.qps.toFixed(0)]);
  const exact = result.exact.latency;
  rows.push(['exact (Flat)', '1.0000', '1.00', ms(exact.p50_ms), ms(exact.p90_ms), ms(exact.p99_ms), ms(exact.mean_ms), exact.qps.toFixed(0)]);
  const head =
    `${result.collection}: ${result.count} vectors, ${result.dimension} dims, ${result.metric}, index ${result.index} (${result.index_state}); ` +
    `recall@${result.k} over ${result.queries} stored vectors as queries (seed ${result.seed}), one query at a time`;
  const table = renderTable(['setting', `recall@${result.k}`, 'worst', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms', 'QPS'], rows, {
    align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  });
  return `${head}\n${table}`;
}

/** One self-rewriting status line on stderr when it is a terminal; nothing otherwise. */
function terminalProgress(name: string): { update: (p: RecallBenchProgress) => void; stop: () => void } {
  if (process.stderr.isTTY !== true) return { update: () => undefined, stop: () => undefined };
  let shown = false;
  return {
    update: (p) => {
      const what = p.phase === 'reading' ? 'reading vectors' : p.phase === 'exact' ? 'exact search' : `index ${p.setting ?? ''}`;
      process.stderr.write(`\r\x1b[2Kbench ${name}: ${what} ${p.done}/${p.total}`);
      shown = true;
    },
    stop: () => {
      if (shown) process.stderr.write('\r\x1b[2K');
    },
  };
}
