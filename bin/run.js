#!/usr/bin/env node
// oclif checks its own Node engine range with semver on every start (~13 ms); package.json's
// engines field already says what Piramid supports, so one-shot commands skip that check.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';

const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
