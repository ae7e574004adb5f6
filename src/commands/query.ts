import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, collectionFlag, embedConnection, embedFlags, serverFlags } from '../base-command.js';
import type { Backend } from '../client/backend.js';
import { filterFrom, vectorFrom, type QueryJson, type QuerySpec } from '../cli/query-runner.js';
import { DEFAULT_K } from '../engine/collection.js';
import { PiramidError } from '../engine/errors.js';
import { parseFilter } from '../engine/query/filter.js';
import { parseWhere } from '../engine/query/where.js';
import { SEARCH_MODES, type SearchMode } from '../engine/types.js';
import { renderContext, renderHits } from '../ui/hits.js';
import { info } from '../ui/output.js';

const FORMATS = ['table', 'json', 'jsonl', 'context'] as const;
type Format = (typeof FORMATS)[number];

export default class Query extends BaseCommand<typeof Query> {
  static override description = `Search a collection by text or vector, with filters, keyword and hybrid modes.
With a text or --vector: one query. With --queries FILE: one query per JSONL line, JSONL results.
With neither: an interactive shell on a terminal (:help lists its commands), or one query text per
line of stdin with JSONL results in a pipe.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> "how do whales breathe" -k 5',
    '<%= config.bin %> <%= command.id %> "moon landing" --where \'source = "sotu" and year >= 1950\' --explain',
    '<%= config.bin %> <%= command.id %> "Rayburn" --mode hybrid --format context --max-chars 2000',
    '<%= config.bin %> <%= command.id %> --vector "[0.1, 0.2, 0.3, 0.4]" -c vectors --json',
    '<%= config.bin %> <%= command.id %> --queries questions.jsonl -c docs > answers.jsonl',
    '<%= config.bin %> <%= command.id %> -c docs          # interactive shell',
  ];

  static override args = {
    text: Args.string({ ignoreStdin: true, description: 'Query text.' }),
  };

  static override flags = {
    collection: collectionFlag,
    k: Flags.integer({ char: 'k', description: 'Number of hits.', default: DEFAULT_K, min: 1, max: 10_000 }),
    vector: Flags.string({ description: 'Query vector as a JSON array, or base64 of little-endian float32 values; instead of (or, in hybrid mode, beside) text.' }),
    where: Flags.string({ char: 'w', description: 'Metadata filter, e.g. \'lang = "en" and year >= 2020 and tag in ("a","b")\'.' }),
    filter: Flags.string({ description: 'Metadata filter as Qdrant filter JSON ({"must": [...]}).' }),
    mode: Flags.string({ char: 'm', description: 'vector, keyword (BM25) or hybrid (both, fused).', options: [...SEARCH_MODES], default: 'vector' }),
    alpha: Flags.string({ description: 'Hybrid: weight 0..1 of the vector side in a weighted fusion (default: reciprocal rank fusion).' }),
    offset: Flags.integer({ description: 'Skip this many hits (paging).', default: 0, min: 0 }),
    'score-threshold': Flags.string({ description: 'Drop hits scoring below it (cosine/dot), or farther than it (l2).' }),
    ef: Flags.integer({ description: 'HNSW: candidate list size for this query (higher: better recall, slower).', min: 1 }),
    nprobe: Flags.integer({ description: 'IVF: lists probed for this query (higher: better recall, slower).', min: 1 }),
    exact: Flags.boolean({ description: 'Score every record exactly instead of using the approximate index (slow on large collections).', default: false }),
    'with-vector': Flags.boolean({ description: "Include each hit's vector.", default: false }),
    'group-by-doc': Flags.boolean({ description: 'One hit per document (its best chunk): k distinct documents.', default: false }),
    format: Flags.string({ char: 'f', description: 'Output: table, json, jsonl (one hit a line), context (passages for a prompt).', options: [...FORMATS], default: 'table' }),
    'max-chars': Flags.integer({ description: 'Context format: most characters to print.', min: 1 }),
    explain: Flags.boolean({ description: 'Show how the query was answered (also in JSON as "plan").', default: false }),
    queries: Flags.string({ description: 'JSONL file of queries ({"text"|"vector", "k"?, "where"?, "filter"?, "mode"?, "id"?}); JSONL results.' }),
    shell: Flags.boolean({ description: 'Start the interactive shell even when stdin is not a terminal.', default: false, hidden: true }),
    ...embedFlags,
    ...serverFlags,
  };

  /** Returns the result for one query; undefined for batches and the shell, which print as they go. */
  async run(): Promise<QueryJson | undefined> {
    const { flags } = this;
    const spec = this.baseSpec();
    const backend = await this.backend({ createIfMissing: false, embed: embedConnection(flags) });
    await backend.assertCollection(spec.collection); // fail early, and with the right code, on a wrong name
    if (flags.queries !== undefined) {
      await this.batch(backend, spec, createReadStream(flags.queries), flags.queries);
      return undefined;
    }
    if (spec.text === undefined && spec.vector === undefined) {
      if (process.stdin.isTTY === true || flags.shell) {
        const { runShell } = await import('../cli/shell.js');
        await runShell({
          input: process.stdin,
          output: process.stdout,
          terminal: process.stdin.isTTY === true,
          ...(backend.localFolder === undefined ? {} : { historyFile: join(backend.localFolder, 'query_history') }),
          initial: spec,
          run: (s) => backend.query(s),
          useCollection: (name) => backend.assertCollection(name),
        });
        return undefined;
      }
      await this.batch(backend, spec, process.stdin, '<stdin>');
      return undefined;
    }
    const result = await backend.query(spec);
    this.present(result);
    return result;
  }

  private baseSpec(): QuerySpec {
    const { flags } = this;
    const spec: QuerySpec = { collection: flags.collection, k: flags.k, offset: flags.offset, mode: flags.mode as SearchMode };
    if (this.args.text !== undefined) spec.text = this.args.text;
    if (flags.vector !== undefined) spec.vector = vectorFrom(flags.vector);
    const filter = filterFrom(flags.where, flags.filter);
    if (filter !== undefined) spec.filter = filter;
    if (flags.alpha !== undefined) spec.alpha = numberFlag('--alpha', flags.alpha, 0, 1);
    if (flags['score-threshold'] !== undefined) spec.scoreThreshold = numberFlag('--score-threshold', flags['score-threshold']);
    if (flags.ef !== undefined) spec.ef = flags.ef;
    if (flags.nprobe !== undefined) spec.nprobe = flags.nprobe;
    if (flags.exact) spec.exact = true;
    if (flags['with-vector']) spec.withVector = true;
    if (flags['group-by-doc']) spec.groupByDocument = true;
    return spec;
  }

  private present(result: QueryJson): void {
    if (this.jsonEnabled()) return; // oclif prints the returned result
    const format = this.flags.format as Format;
    if (format === 'json') this.logJson(result);
    else if (format === 'jsonl') for (const hit of result.hits) process.stdout.write(`${JSON.stringify(hit)}\n`);
    else if (format === 'context') this.log(renderContext(result.hits, this.flags['max-chars']));
    else this.log(result.hits.length === 0 ? 'No hits.' : renderHits(result.hits, 1 + (this.flags.offset ?? 0)));
    if (format === 'table') process.stderr.write(`${result.hits.length} hits in ${result.took_ms.toFixed(1)} ms\n`);
    if (this.flags.explain) info(`plan: ${JSON.stringify(result.plan)}`);
  }

  /** One query per input line (a JSON object, or plain text), one JSON result per output line. */
  private async batch(backend: Backend, base: QuerySpec, input: NodeJS.ReadableStream, name: string): Promise<void> {
    const started = Date.now();
    let count = 0;
    let line = 0;
    for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
      line += 1;
      const text = raw.trim();
      if (text.length === 0) continue;
      const { spec, id } = lineSpec(base, text, { file: name, line });
      const result = await backend.query(spec);
      process.stdout.write(`${JSON.stringify({ ...(id === undefined ? {} : { id }), query: spec.text ?? null, ...result })}\n`);
      count += 1;
    }
    const tookMs = Date.now() - started;
    info(`${count} queries in ${(tookMs / 1000).toFixed(2)} s`);
  }
}

/** A batch line: plain text, or {"text"|"vector", "k"?, "where"?, "filter"?, "mode"?, "id"?}. */
function lineSpec(base: QuerySpec, text: string, where: { file: string; line: number }): { spec: QuerySpec; id?: unknown } {
  if (!text.startsWith('{')) return { spec: { ...base, text } };
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new PiramidError('INVALID_INPUT', `not valid JSON (${(err as Error).message}).`, { location: where });
  }
  const spec: QuerySpec = { ...base };
  delete spec.text;
  delete spec.vector;
  if (typeof value.text === 'string') spec.text = value.text;
  if (value.vector !== undefined) {
    spec.vector = vectorFrom(typeof value.vector === 'string' ? value.vector : JSON.stringify(value.vector), `${where.file} line ${where.line} vector`);
  }
  if (typeof value.k === 'number') spec.k = value.k;
  if (typeof value.mode === 'string') spec.mode = value.mode as SearchMode;
  if (typeof value.where === 'string') spec.filter = parseWhere(value.where);
  if (value.filter !== undefined) spec.filter = parseFilter(value.filter);
  return { spec, id: value.id };
}

function numberFlag(name: string, text: string, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new PiramidError('INVALID_ARGUMENT', `${name} must be a number${Number.isFinite(min) ? ` from ${min} to ${max}` : ''}; got "${text}".`);
  }
  return value;
}
