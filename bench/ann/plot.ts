/**
 * Plots of the run, drawn with Vega-Lite and rendered headless to SVG by Vega (no canvas):
 * recall@10 against single-thread queries/second for the libraries a user would choose between,
 * the same for Piramid's IVF and HNSW indexes searched by Piramid, raw faiss-node (route B), route A
 * and faiss-node as shipped, and the build times.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { View, parse } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { isPeerView, type RunResult } from './results.js';
import type { SeriesResult } from './types.js';

interface Datum {
  series: string;
  recall: number;
  qps: number;
  setting: string;
}

const points = (series: readonly SeriesResult[]): Datum[] =>
  series.flatMap((s) => s.points.map((p) => ({ series: s.id, recall: p.recall, qps: p.single.qps, setting: p.value === null ? 'exact' : `${p.param} ${p.value}` })));

function recallQps(title: string, data: Datum[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 640,
    height: 420,
    background: 'white',
    data: { values: data },
    encoding: {
      x: { field: 'recall', type: 'quantitative', title: 'recall@10', scale: { zero: false } },
      y: { field: 'qps', type: 'quantitative', title: 'queries/second, one query at a time (log)', scale: { type: 'log' } },
      color: { field: 'series', type: 'nominal', scale: { scheme: 'category20' }, legend: { orient: 'bottom', columns: 3, labelLimit: 260 } },
      tooltip: [{ field: 'series' }, { field: 'setting' }, { field: 'recall' }, { field: 'qps' }],
    },
    layer: [{ mark: { type: 'line', point: false } }, { mark: { type: 'point', filled: true, size: 50 }, encoding: { shape: { field: 'series', type: 'nominal' } } }],
  };
}

function builds(run: RunResult): TopLevelSpec {
  const values = run.series.filter((s) => s.build !== undefined).map((s) => ({ series: `${s.id} (n=${s.n})`, seconds: s.build?.seconds ?? 0 }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Build time, seconds (${run.machine.cores} cores)`,
    width: 560,
    background: 'white',
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'series', type: 'nominal', sort: '-x', title: null, axis: { labelLimit: 320 } },
      x: { field: 'seconds', type: 'quantitative', title: 'seconds' },
    },
  };
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Writes the plots into `dir`; returns their file names. */
export async function writePlots(run: RunResult, dir: string): Promise<string[]> {
  const title = `${run.dataset.name}, n=${run.dataset.n}, k=10${run.quick ? ' (quick smoke run)' : ''}`;
  // Piramid's IVF and HNSW indexes searched by Piramid and by raw faiss-node in its three builds.
  const sameIndex = run.series.filter((s) => /^piramid (ivf|hnsw)$/.test(s.id) || /@(ivf|hnsw)$/.test(s.id));
  // What a developer picks between: no same-index variants, no route A builds.
  const peers = run.series.filter((s) => isPeerView(s) && s.sameIndexAs === undefined && !s.id.startsWith('faiss-node route A'));
  const plots: [string, TopLevelSpec][] = [
    ['bench-recall-qps.svg', recallQps(`Recall vs speed: ${title}`, points(peers))],
    ['bench-same-index.svg', recallQps("Piramid's own indexes: piramid, faiss-node route B, route A, as shipped", points(sameIndex))],
    ['bench-build.svg', builds(run)],
  ];
  for (const [file, spec] of plots) writeFileSync(join(dir, file), await renderSvg(spec));
  return plots.map(([file]) => file);
}
