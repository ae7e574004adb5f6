#!/usr/bin/env node
// oclif checks its own Node engine range with semver on every start (~13 ms); package.json's
// engines field already says what Piramid supports, so one-shot commands skip that check.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';

// A query starts reading its collection's faiss index on a worker thread before oclif loads, so
// the read overlaps the CLI's start-up (src/cli/prefetch-index.ts; the engine checks what it gets).
if (process.argv[2] === 'query') {
  const { prefetchForQuery } = await import('../dist/src/cli/prefetch-index.js');
  prefetchForQuery(process.argv.slice(3));
}

const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
