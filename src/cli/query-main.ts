/**
 * The entry of dist/query.mjs, the one-file bundle bin/run.js runs for `piramid query` (built by
 * scripts/bundle-query.mjs after tsc). A one-shot query otherwise loads ~220 modules one file at
 * a time (oclif and its dependencies, the engine, LevelDB's JavaScript): ~90 ms of a ~230 ms run
 * here, against ~130 ms for a bare node process that reads the same faiss file and searches once.
 * As one file the CLI answers in ~170-190 ms. The command itself is the same class oclif runs
 * for every other command, with the same flags, errors and exit codes.
 */
import type { Command } from '@oclif/core';
import { prefetchForQuery } from './prefetch-index.js';

/** Runs `piramid query <argv>` for the CLI whose package.json is in `root`, as oclif's execute() would. */
export async function runQueryCommand(argv: string[], root: string): Promise<void> {
  // First, so the index read overlaps the rest of start-up (prefetch-index.ts).
  prefetchForQuery(argv);
  const [{ Config, flush, handle }, { default: Query }] = await Promise.all([import('@oclif/core'), import('../commands/query.js')]);
  try {
    const config = await Config.load(root);
    const listed = config.findCommand('query');
    if (listed === undefined) throw new Error(`the oclif manifest in ${root} lists no query command`);
    // The manifest's entry, loading the class already in this bundle rather than from dist/src.
    const loadable: Command.Loadable = { ...listed, load: () => Promise.resolve(Query as unknown as Command.Class) };
    await config.runCommand('query', argv, loadable);
    await flush();
  } catch (error) {
    await handle(error as Error);
  }
}
