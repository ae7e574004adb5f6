// `npm run bench -- --quick` as a real child process writing into a temp folder: every peer is
// there, recalls are sane, exact searches are exact, the report keeps hand-written text around its
// marked section, and the plots are SVG. Never timings: CI machines are too noisy for that.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import type { RunResult } from '../../bench/ann/results.js';

const HAND_WRITTEN = '# Benchmarks\n\n## A hand-written section\n\nKeep me.\n\n<!-- bench:ann:start -->\nold generated text\n<!-- bench:ann:end -->\n\n## Another hand-written section after it\n';
const ROUTE_A = existsSync(join(PROJECT_ROOT, 'native', 'build-A', 'faiss-node.node'));
const EXPECTED = [
  'piramid default',
  'piramid flat',
  'faiss-node@flat',
  'piramid ivf',
  'piramid hnsw',
  'faiss-node@default',
  'faiss-node@ivf',
  'faiss-node@hnsw',
  'faiss-node flat',
  'faiss-node ivf',
  'faiss-node hnsw',
  'hnswlib-node',
  'usearch',
  'lancedb flat',
  'lancedb ivf_pq',
  'lancedb hnsw_sq',
  'vectra',
  ...(ROUTE_A ? ['faiss-node route A@ivf', 'faiss-node as shipped@ivf', 'faiss-node route A flat', 'faiss-node route A ivf'] : []),
];
const EXACT = ['piramid flat', 'faiss-node@flat', 'faiss-node flat', 'lancedb flat', 'vectra'];
const PLOTS = ['bench-recall-qps.svg', 'bench-same-index.svg', 'bench-build.svg'];

/** A small XML well-formedness check: one root <svg>, every tag closed in order. */
function assertSvg(text: string, file: string): void {
  const body = text.replace(/<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '').trim();
  assert.match(body, /^<svg[\s>]/, `${file} starts with <svg`);
  assert.match(body, /xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, `${file} declares the SVG namespace`);
  const stack: string[] = [];
  for (const match of body.matchAll(/<(\/?)([A-Za-z][\w:.-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (closing === '/') assert.equal(stack.pop(), name, `${file}: </${name}> closes the open element`);
    else if (selfClosing !== '/') stack.push(name as string);
  }
  assert.deepEqual(stack, [], `${file}: every element is closed`);
  assert.ok(body.endsWith('</svg>'), `${file} ends with </svg>`);
}

describe('npm run bench -- --quick', { timeout: 240_000 }, () => {
  let dir: string;
  let run: RunResult;
  let markdown: string;
  let code: number | null;
  let stderr = '';
  const svgs = new Map<string, string>();

  before(async () => {
    dir = await tempDir('piramid-bench-quick-');
    writeFileSync(join(dir, 'benchmarks.md'), HAND_WRITTEN);
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist/bench/ann/run.js'), '--quick', '--out-dir', dir, '--json', join(dir, 'result.json')], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    code = await new Promise((resolve) => child.on('close', resolve));
    if (code === 0) {
      run = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as RunResult;
      markdown = readFileSync(join(dir, 'benchmarks.md'), 'utf8');
      for (const plot of PLOTS) if (existsSync(join(dir, plot))) svgs.set(plot, readFileSync(join(dir, plot), 'utf8'));
    }
  });

  test('exits 0 without failures', () => {
    assert.equal(code, 0, stderr.slice(-3000));
    assert.deepEqual(run.errors, []);
  });

  test('every peer and variant is measured, with sane recalls', () => {
    const ids = run.series.map((s) => s.id);
    for (const id of EXPECTED) assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`);
    for (const s of run.series) {
      assert.ok(s.points.length > 0, `${s.id} has sweep points`);
      for (const p of s.points) {
        assert.ok(p.recall >= 0 && p.recall <= 1, `${s.id} recall ${p.recall} in [0, 1]`);
        assert.ok(Number.isFinite(p.single.p50Ms) && p.single.p50Ms > 0, `${s.id} has a latency`);
        assert.equal(p.p50Runs.length, run.plan.reps);
      }
    }
    for (const id of EXACT) {
      for (const p of run.series.find((s) => s.id === id)?.points ?? []) assert.equal(p.recall, 1, `${id} is exact`);
    }
  });

  test('piramid and raw faiss-node searching the same index find the same neighbours', () => {
    for (const kind of ['default', 'auto', 'flat', 'ivf', 'hnsw']) {
      const ours = run.series.find((s) => s.id === `piramid ${kind}`);
      const raw = run.series.find((s) => s.id === `faiss-node@${kind}`);
      if (kind === 'auto' && ours === undefined) continue; // the engine has no auto index yet
      for (const p of raw?.points ?? []) {
        const same = ours?.points.find((q) => q.param === p.param && q.value === p.value);
        assert.equal(same?.recall, p.recall, `${kind} ${p.param} ${p.value ?? ''}`);
      }
      assert.ok((raw?.points.length ?? 0) > 0, kind);
    }
  });

  test('the CLI, HTTP and RAG stages ran', () => {
    assert.ok(run.oneShot !== undefined && run.oneShot.cliMs > 0 && run.oneShot.bareMs > 0);
    assert.ok(run.http !== undefined);
    assert.ok(run.http.sequential.recall >= 0 && run.http.sequential.recall <= 1);
    const http = run.http;
    for (const client of ['node:http', 'undici'] as const) {
      assert.ok(http.sequential.clients[client].p50Ms > 0, `${client} one request at a time`);
      assert.ok(http.floor[client].p50Ms > 0, `${client}: the bare-server floor is measured beside the HTTP pass`);
      assert.ok((http.busyPoll?.clients[client].p50Ms ?? 0) > 0, `${client}: the --busy-poll server is measured beside the default one`);
    }
    assert.ok(http.inProcess.p50Ms > 0 && http.inProcess.qps > 0, 'in-process is measured beside the HTTP passes');
    assert.deepEqual(http.load.map((l) => l.connections), [1, 16]);
    for (const l of http.load) {
      assert.equal(l.errors, 0);
      assert.ok(l.inProcessQps > 0 && l.ratio > 0 && Number.isFinite(l.ratio), 'a ratio against in-process slots of the same rounds');
    }
    assert.ok(run.rag !== undefined && run.rag.chunks >= run.rag.passages);
  });

  test('the markdown replaces only its marked section and has the tables', () => {
    assert.ok(markdown.startsWith('# Benchmarks\n\n## A hand-written section\n\nKeep me.\n'));
    assert.ok(markdown.includes('## Another hand-written section after it'));
    assert.ok(!markdown.includes('old generated text'));
    assert.equal(markdown.split('<!-- bench:ann:start -->').length, 2);
    assert.equal(markdown.split('<!-- bench:ann:end -->').length, 2);
    for (const heading of ['### Targets', '### Fastest setting reaching recall@10', '### Builds', '### Piramid, raw faiss-node and route A on the same index', '### Through the CLI and over HTTP', '### End-to-end RAG path', '### Every sweep point']) {
      assert.ok(markdown.includes(heading), heading);
    }
    assert.match(markdown, /\| series \| index \| n \| setting \| recall@10 \| p50 µs/);
    for (const id of EXPECTED) assert.ok(markdown.includes(`| ${id} |`), `${id} has a row`);
    for (const plot of PLOTS) assert.ok(markdown.includes(`](${plot})`), `${plot} linked`);
  });

  test('the plots are SVG', () => {
    for (const plot of PLOTS) assertSvg(svgs.get(plot) ?? '', plot);
  });
});
