#!/usr/bin/env node
// oclif checks its own Node engine range with semver on every start (~13 ms); package.json's
// engines field already says what Piramid supports, so one-shot commands skip that check.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Commands run from the bundle in dist/cli when it is built (src/cli/bundled-main.ts: loading
// ~220 modules one file at a time is most of a short command's run). `piramid query` starts
// reading the collection's faiss index on a worker thread first, so the read overlaps the rest
// (src/cli/prefetch-index.ts). Help, unknown commands and an unbuilt bundle go through oclif.
const argv = process.argv.slice(2);
const bundle = new URL('../dist/cli/main.mjs', import.meta.url);
const help = argv.includes('--help') || argv.includes('-h');
let ran = false;
if (!help && existsSync(bundle)) {
  const { runBundledCommand } = await import(bundle.href);
  ran = await runBundledCommand(argv, fileURLToPath(new URL('..', import.meta.url)));
}
if (!ran) {
  if (argv[0] === 'query' && !help) {
    const { prefetchForQuery } = await import('../dist/src/cli/prefetch-index.js');
    prefetchForQuery(argv.slice(1));
  }
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
