import { Args, Flags } from '@oclif/core';
import { BaseCommand, collectionFlag, embedConnection, embedFlags } from '../base-command.js';
import { DEFAULT_K } from '../engine/collection.js';
import { PiramidError } from '../engine/errors.js';
import type { SearchHit, SearchOptions } from '../engine/types.js';
import { renderTable, snippet } from '../ui/table.js';

export interface QueryJson {
  collection: string;
  k: number;
  took_ms: number;
  hits: SearchHit[];
}

export default class Query extends BaseCommand<typeof Query> {
  static override description = 'Search a collection by text (embedded with its model) or by vector.';

  static override examples = [
    '<%= config.bin %> <%= command.id %> "how do whales breathe" -k 5',
    '<%= config.bin %> <%= command.id %> --vector "[0.1, 0.2, 0.3, 0.4]" -c vectors --json',
  ];

  static override args = {
    text: Args.string({ description: 'Query text.' }),
  };

  static override flags = {
    collection: collectionFlag,
    k: Flags.integer({ char: 'k', description: 'Number of hits.', default: DEFAULT_K, min: 1, max: 10_000 }),
    vector: Flags.string({ description: 'Query vector as a JSON array, instead of text.' }),
    ef: Flags.integer({ description: 'HNSW: candidate list size for this query (higher: better recall, slower).', min: 1 }),
    nprobe: Flags.integer({ description: 'IVF: lists probed for this query (higher: better recall, slower).', min: 1 }),
    'with-vector': Flags.boolean({ description: 'Include each hit\'s vector.', default: false }),
    'group-by-doc': Flags.boolean({ description: 'One hit per document (its best chunk): k distinct documents.', default: false }),
    ...embedFlags,
  };

  async run(): Promise<QueryJson> {
    const { flags } = this;
    const query = this.queryInput();
    const db = await this.openDatabase({ createIfMissing: false, embed: embedConnection(flags) });
    const collection = await db.collection(flags.collection);
    const options: SearchOptions = { k: flags.k, withVector: flags['with-vector'], groupByDocument: flags['group-by-doc'] };
    if (flags.ef !== undefined) options.efSearch = flags.ef;
    if (flags.nprobe !== undefined) options.nprobe = flags.nprobe;
    const started = process.hrtime.bigint();
    const result = await collection.search(query, options);
    const tookMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (!this.jsonEnabled()) {
      if (result.hits.length === 0) this.log('No hits.');
      else {
        this.log(
          renderTable(
            ['rank', 'id', 'score', 'text'],
            result.hits.map((hit, i) => [String(i + 1), hit.id, hit.score.toFixed(4), snippet(hit.text)]),
            { align: ['right', 'left', 'right'] },
          ),
        );
      }
      process.stderr.write(`${result.hits.length} hits in ${tookMs.toFixed(1)} ms\n`);
    }
    return { collection: collection.name, k: flags.k, took_ms: Math.round(tookMs * 1000) / 1000, hits: result.hits };
  }

  private queryInput(): string | number[] {
    const { vector } = this.flags;
    const { text } = this.args;
    if (vector !== undefined && text !== undefined) {
      throw new PiramidError('INVALID_ARGUMENT', 'Give either a query text or --vector, not both.');
    }
    if (vector !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(vector);
      } catch {
        throw new PiramidError('INVALID_ARGUMENT', '--vector is not valid JSON.', { hint: 'Example: --vector "[0.1, 0.2, 0.3]"' });
      }
      if (!Array.isArray(parsed)) throw new PiramidError('INVALID_ARGUMENT', '--vector must be a JSON array of numbers.');
      return parsed as number[];
    }
    if (text === undefined) {
      throw new PiramidError('INVALID_ARGUMENT', 'Nothing to search for.', { hint: 'Pass a query text, or --vector "[...]".' });
    }
    return text;
  }
}
