#!/usr/bin/env node
// After tsc: bundles `piramid query` (dist/src/cli/query-main.js, oclif, the engine) into one file,
// dist/query.mjs, which bin/run.js loads for one-shot queries (why: src/cli/query-main.ts).
// Left outside: native addons and what locates files next to its own package (LevelDB's binding,
// TensorFlow.js and its WebAssembly), the interactive shell's Ink/React (loaded only by the
// shell), and TypeScript (oclif loads it only to run commands from .ts sources).
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(root, 'dist/src/cli/query-main.js')],
  outfile: join(root, 'dist/query.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  external: ['level', 'classic-level', 'abstract-level', '@tensorflow/*', 'ink', 'react', 'react/*', 'typescript', '*.node'],
  // oclif and other CommonJS code call require(): give the ES module bundle one.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
});
