import type { IndexSettings, IndexTuning, IvfDatatype } from '../engine/types.js';

interface TuningValuesJson {
  m?: number;
  ef_search?: number;
  ef_construction?: number;
  nlist?: number;
  nprobe?: number;
  datatype?: IvfDatatype;
}

/** `piramid index-config --json`, and the answer of GET/PATCH /v1/collections/:name/index. */
export interface TuningJson {
  collection: string;
  kind: string;
  index_state: string;
  settings: TuningValuesJson & { calibrated?: { nlist: number; nprobe: number; recall: number; count: number } };
  effective: TuningValuesJson;
}

function values(source: Pick<IndexSettings, 'm' | 'efSearch' | 'efConstruction' | 'nlist' | 'nprobe' | 'datatype'>): TuningValuesJson {
  const out: TuningValuesJson = {};
  if (source.m !== undefined) out.m = source.m;
  if (source.efSearch !== undefined) out.ef_search = source.efSearch;
  if (source.efConstruction !== undefined) out.ef_construction = source.efConstruction;
  if (source.nlist !== undefined) out.nlist = source.nlist;
  if (source.nprobe !== undefined) out.nprobe = source.nprobe;
  if (source.datatype !== undefined) out.datatype = source.datatype;
  return out;
}

export function tuningJson(tuning: IndexTuning): TuningJson {
  const settings: TuningJson['settings'] = values(tuning.settings);
  if (tuning.settings.calibrated !== undefined) settings.calibrated = { ...tuning.settings.calibrated };
  return { collection: tuning.collection, kind: tuning.settings.kind, index_state: tuning.indexState, settings, effective: values(tuning.effective) };
}
