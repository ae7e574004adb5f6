#!/usr/bin/env node
// oclif checks its own Node engine range with semver on every start (~13 ms); package.json's
// engines field already says what Piramid supports, so one-shot commands skip that check.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `piramid query` runs from one pre-bundled file when it is built (src/cli/query-main.ts: module
// loading is most of a one-shot query's start-up); it starts reading the collection's faiss index
// on a worker thread first, so the read overlaps the rest (src/cli/prefetch-index.ts). Help goes
// through oclif's own path.
const argv = process.argv.slice(2);
const bundle = new URL('../dist/query.mjs', import.meta.url);
if (argv[0] === 'query' && !argv.includes('--help') && !argv.includes('-h') && existsSync(bundle)) {
  const { runQueryCommand } = await import(bundle.href);
  await runQueryCommand(argv.slice(1), fileURLToPath(new URL('..', import.meta.url)));
} else {
  if (argv[0] === 'query') {
    const { prefetchForQuery } = await import('../dist/src/cli/prefetch-index.js');
    prefetchForQuery(argv.slice(1));
  }
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
