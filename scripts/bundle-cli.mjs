#!/usr/bin/env node
// After tsc: bundles the CLI's commands (dist/src/cli/bundled-main.js, oclif, the engine) into
// dist/cli/, which bin/run.js runs commands from (why: src/cli/bundled-main.ts). Code splitting
// gives each command its own chunk, so `piramid list` does not load the server or the TUI.
// Left outside: native addons and what locates files next to its own package (LevelDB's binding,
// TensorFlow.js and its WebAssembly, pino's transports, which run in worker threads from their
// own files), Ink/React (loaded by the TUI and the interactive shell only), and TypeScript (oclif
// loads it only to run commands from .ts sources).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/cli');
rmSync(outdir, { recursive: true, force: true });
rmSync(join(root, 'dist/query.mjs'), { force: true }); // the earlier one-command bundle
await build({
  entryPoints: { main: join(root, 'dist/src/cli/bundled-main.js') },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  external: ['level', 'classic-level', 'abstract-level', '@tensorflow/*', 'ink', 'react', 'react/*', 'typescript', '*.node', 'pino', 'pino-pretty', 'thread-stream'],
  // oclif and other CommonJS code call require(): give every ES module chunk one.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
});
