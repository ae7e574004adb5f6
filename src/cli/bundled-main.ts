/**
 * The entry of dist/cli/, the bundle bin/run.js runs commands from (built by scripts/bundle-cli.mjs
 * after tsc). Loaded the usual way, a command first loads ~220 modules one file at a time (oclif
 * and its dependencies, the engine, LevelDB's JavaScript): ~90 ms of a ~185 ms `piramid list`
 * here, against ~60 ms for node to start. Bundled, each command is one chunk of its own plus the
 * chunks it shares with others (esbuild code splitting), read in a few files. The commands are
 * the same classes oclif runs from dist/src, with the same flags, errors and exit codes; oclif's
 * Config still comes from the manifest.
 */
import { Config, flush, handle, type Command } from '@oclif/core';
import { prefetchForQuery } from './prefetch-index.js';

type CommandModule = Promise<{ default: unknown }>;

/** Every command, by oclif id. test/cli/cli-bundle.test.ts checks it against the manifest. */
export const BUNDLED_COMMANDS: Record<string, () => CommandModule> = {
  backup: () => import('../commands/backup.js'),
  bench: () => import('../commands/bench.js'),
  browse: () => import('../commands/browse.js'),
  'cache:clear': () => import('../commands/cache/clear.js'),
  'cache:list': () => import('../commands/cache/list.js'),
  compact: () => import('../commands/compact.js'),
  create: () => import('../commands/create.js'),
  delete: () => import('../commands/delete.js'),
  drop: () => import('../commands/drop.js'),
  'index-config': () => import('../commands/index-config.js'),
  'index-field': () => import('../commands/index-field.js'),
  info: () => import('../commands/info.js'),
  ingest: () => import('../commands/ingest.js'),
  list: () => import('../commands/list.js'),
  query: () => import('../commands/query.js'),
  restore: () => import('../commands/restore.js'),
  serve: () => import('../commands/serve.js'),
  verify: () => import('../commands/verify.js'),
};

/** The command `argv` names (topics are space-separated: `cache list`), and its own arguments. */
export function bundledCommandOf(argv: readonly string[]): { id: string; args: string[] } | undefined {
  const [first, second] = argv;
  if (first === undefined || first.startsWith('-')) return undefined;
  if (second !== undefined && `${first}:${second}` in BUNDLED_COMMANDS) return { id: `${first}:${second}`, args: argv.slice(2) };
  return first in BUNDLED_COMMANDS ? { id: first, args: argv.slice(1) } : undefined;
}

/**
 * Runs the command `argv` names for the CLI whose package.json is in `root`, as oclif's execute()
 * would. Returns false, having done nothing, when argv names no bundled command (help, a typo):
 * the caller then hands the whole line to oclif.
 */
export async function runBundledCommand(argv: string[], root: string): Promise<boolean> {
  const named = bundledCommandOf(argv);
  if (named === undefined) return false;
  // First, so the index read overlaps the rest of start-up (prefetch-index.ts).
  if (named.id === 'query') prefetchForQuery(named.args);
  const load = BUNDLED_COMMANDS[named.id] as () => CommandModule;
  try {
    const module = await load();
    const config = await Config.load(root);
    const listed = config.findCommand(named.id);
    if (listed === undefined) throw new Error(`the oclif manifest in ${root} lists no ${named.id} command`);
    // The manifest's entry, loading the class already in this bundle rather than from dist/src.
    const loadable: Command.Loadable = { ...listed, load: () => Promise.resolve(module.default as Command.Class) };
    await config.runCommand(named.id, named.args, loadable);
    await flush();
  } catch (error) {
    await handle(error as Error);
  }
  return true;
}
