import { Args, Flags } from '@oclif/core';
import { BaseCommand, serverFlags } from '../base-command.js';
import type { IndexTuningPatch } from '../engine/types.js';
import { renderTable } from '../ui/table.js';
import type { TuningJson } from '../ui/tuning.js';

export default class IndexConfig extends BaseCommand<typeof IndexConfig> {
  static override description = `Show or change a collection's index tuning without rebuilding it.
--ef-search and --nprobe are the defaults of every query (a query's own --ef/--nprobe still wins);
--ef-construction applies to HNSW vectors added from now on. --reset puts the given knobs (or, alone,
all of them) back to their defaults. Measure first with: piramid bench <collection> --ef 32,64,128.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> docs',
    '<%= config.bin %> <%= command.id %> images --ef-search 128',
    '<%= config.bin %> <%= command.id %> big --nprobe 48',
    '<%= config.bin %> <%= command.id %> big --reset',
  ];

  static override args = {
    collection: Args.string({ ignoreStdin: true, description: 'Collection.', required: true }),
  };

  static override flags = {
    'ef-search': Flags.integer({ description: 'HNSW: default candidate list of a query (higher: better recall, slower).', min: 1, max: 10_000 }),
    'ef-construction': Flags.integer({ description: 'HNSW: candidate list while inserting, for vectors added from now on.', min: 1, max: 4096 }),
    nprobe: Flags.integer({ description: 'IVF/auto: default lists probed by a query (replaces the calibrated value).', min: 1, max: 65_536 }),
    reset: Flags.boolean({ description: 'Restore defaults: of the knobs named with it (their values are ignored), or of all.', default: false }),
    ...serverFlags,
  };

  async run(): Promise<TuningJson> {
    const { flags } = this;
    const given: IndexTuningPatch = {};
    if (flags['ef-search'] !== undefined) given.efSearch = flags['ef-search'];
    if (flags['ef-construction'] !== undefined) given.efConstruction = flags['ef-construction'];
    if (flags.nprobe !== undefined) given.nprobe = flags.nprobe;
    let patch: IndexTuningPatch | undefined = Object.keys(given).length === 0 ? undefined : given;
    if (flags.reset) {
      const backend = await this.backend({ createIfMissing: false });
      const current = await backend.indexTuning(this.args.collection);
      const kind = current.kind;
      const all: IndexTuningPatch = kind === 'hnsw' ? { efSearch: null, efConstruction: null } : kind === 'flat' ? {} : { nprobe: null };
      patch = Object.fromEntries(Object.keys(patch ?? all).map((key) => [key, null])) as IndexTuningPatch;
    }
    const backend = await this.backend({ createIfMissing: false });
    const result = await backend.indexTuning(this.args.collection, patch);
    if (!this.jsonEnabled()) this.log(tuningTable(result));
    return result;
  }
}

function tuningTable(tuning: TuningJson): string {
  const source = (key: keyof TuningJson['effective']): string => {
    if (tuning.settings[key] !== undefined) return 'set';
    if (key === 'nprobe' && tuning.settings.calibrated !== undefined && tuning.settings.calibrated.nlist === tuning.effective.nlist) return 'calibrated';
    return 'default';
  };
  const keys = ['m', 'ef_search', 'ef_construction', 'nlist', 'nprobe', 'datatype'] as const;
  const rows = keys
    .filter((key) => tuning.settings[key] !== undefined || tuning.effective[key] !== undefined)
    .map((key) => [key, String(tuning.effective[key] ?? tuning.settings[key] ?? '-'), source(key)]);
  const calibrated = tuning.settings.calibrated;
  const note =
    calibrated === undefined
      ? ''
      : `\nnprobe ${calibrated.nprobe} was calibrated when the ${calibrated.nlist} lists were trained (${calibrated.count} vectors): recall@10 ${calibrated.recall} on a sample.`;
  return `${tuning.collection}: index ${tuning.kind} (${tuning.index_state})\n${renderTable(['knob', 'value', 'source'], rows)}${note}`;
}
