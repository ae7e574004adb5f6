import { Args, Flags } from '@oclif/core';
import { BaseCommand, embedConnection, embedFlags, serverFlags } from '../base-command.js';
import { PiramidError } from '../engine/errors.js';
import { PAYLOAD_INDEX_KINDS, type PayloadIndexKind } from '../engine/store/payload-index.js';
import { INDEX_KINDS, IVF_DATATYPES, METRICS, type IndexSettings, type IvfDatatype } from '../engine/types.js';
import { statsJson, type StatsJson } from '../ui/stats.js';
import { info } from '../ui/output.js';

export default class Create extends BaseCommand<typeof Create> {
  static override description = 'Create a collection.';

  static override examples = [
    '<%= config.bin %> <%= command.id %> notes',
    '<%= config.bin %> <%= command.id %> images --embedder none --dim 512 --metric dot --index hnsw',
  ];

  static override args = {
    collection: Args.string({ ignoreStdin: true, description: 'Name of the new collection.', required: true }),
  };

  static override flags = {
    dim: Flags.integer({ description: 'Vector dimension (required with --embedder none; otherwise the model decides).', min: 1 }),
    metric: Flags.string({ description: 'Similarity metric.', options: [...METRICS], default: 'cosine' }),
    index: Flags.string({
      description: 'Index kind: auto (exact while small, then IVF tuned for recall >= 0.95), flat (always exact), hnsw or ivf (approximate).',
      options: [...INDEX_KINDS],
      default: 'auto',
    }),
    embedder: Flags.string({
      description: 'Embedder for text: "use" (built-in, offline), "openai:<model>" (any OpenAI-compatible server), "ollama:<model>", or "none" (you supply vectors).',
      default: 'use',
    }),
    m: Flags.integer({ description: 'HNSW: links per node.', min: 4, max: 128 }),
    'ef-search': Flags.integer({ description: 'HNSW: default search candidate list size.', min: 1 }),
    'ef-construction': Flags.integer({ description: 'HNSW: candidate list size while inserting (higher: better graph, slower adds).', min: 1, max: 4096 }),
    nlist: Flags.integer({ description: 'IVF: number of lists (default: chosen from the size when trained).', min: 1 }),
    nprobe: Flags.integer({ description: 'IVF/auto: default lists probed per query (default: calibrated for recall when the lists are trained).', min: 1 }),
    datatype: Flags.string({
      description: 'IVF/auto: how the lists store vectors. float16 (default): half the memory, ~1.6x faster scans, scores rounded to ~1e-4; float32: exact scores.',
      options: [...IVF_DATATYPES],
    }),
    'index-field': Flags.string({ description: 'Metadata key to index for filters, as key:keyword|integer|float (repeatable).', multiple: true }),
    'keyword-index': Flags.boolean({ description: 'Index texts for keyword (BM25) and hybrid search.', default: true, allowNo: true }),
    ...embedFlags,
    ...serverFlags,
  };

  async run(): Promise<StatsJson> {
    const { flags } = this;
    const index: IndexSettings = { kind: flags.index as IndexSettings['kind'] };
    if (flags.m !== undefined) index.m = flags.m;
    if (flags['ef-search'] !== undefined) index.efSearch = flags['ef-search'];
    if (flags['ef-construction'] !== undefined) index.efConstruction = flags['ef-construction'];
    if (flags.nlist !== undefined) index.nlist = flags.nlist;
    if (flags.nprobe !== undefined) index.nprobe = flags.nprobe;
    if (flags.datatype !== undefined) index.datatype = flags.datatype as IvfDatatype;
    const payloadIndexes: Record<string, PayloadIndexKind> = {};
    for (const spec of flags['index-field'] ?? []) {
      const colon = spec.lastIndexOf(':');
      const kind = spec.slice(colon + 1);
      if (colon < 1 || !(PAYLOAD_INDEX_KINDS as readonly string[]).includes(kind)) {
        throw new PiramidError('INVALID_ARGUMENT', `--index-field "${spec}" is not key:${PAYLOAD_INDEX_KINDS.join('|')}.`);
      }
      payloadIndexes[spec.slice(0, colon)] = kind as PayloadIndexKind;
    }
    const backend = await this.backend({ embed: embedConnection(flags) });
    const stats = await backend.createCollection(this.args.collection, {
      keywordIndex: flags['keyword-index'],
      payloadIndexes,
      ...(flags.dim === undefined ? {} : { dimension: flags.dim }),
      metric: flags.metric as (typeof METRICS)[number],
      index,
      embedder: flags.embedder,
    });
    if (!this.jsonEnabled()) {
      info(`Created collection ${stats.name}: ${stats.dimension} dims, ${stats.metric}, ${stats.index} index, embedder ${stats.embedder}.`);
    }
    return statsJson(stats); // the same shape as `info --json`
  }
}
