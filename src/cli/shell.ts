import { appendFile, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { isPiramidError } from '../engine/errors.js';
import { parseWhere } from '../engine/query/where.js';
import { SEARCH_MODES, type SearchMode } from '../engine/types.js';
import { formatError } from '../ui/output.js';
import { renderHits } from '../ui/hits.js';
import type { QueryJson, QuerySpec } from './query-runner.js';

export interface ShellOptions {
  input: Readable;
  output: Writable;
  /** Where typed lines are remembered between sessions (one per line). */
  historyFile?: string;
  terminal: boolean;
  /** The query state the shell starts with (collection, k, filter, mode...). */
  initial: QuerySpec;
  run: (spec: QuerySpec) => Promise<QueryJson>;
  /** Checks that a collection exists before `:use` switches to it. */
  useCollection: (name: string) => Promise<void>;
}

const HELP = `Type a query to search. Commands:
  :k N              number of hits
  :where EXPR       filter, e.g. :where year >= 1950 and source = "sotu"  (":where" alone clears it)
  :mode MODE        vector, keyword or hybrid
  :json             toggle JSON output
  :explain          toggle showing the query plan
  :use NAME         switch collection
  :help             this text
  :quit             leave (also Ctrl-D)`;

/**
 * The interactive query shell: the collection and its index stay loaded between queries, so each
 * answer costs only the search. State (k, filter, mode, output) changes with `:` commands.
 */
export async function runShell(options: ShellOptions): Promise<void> {
  const { output } = options;
  const print = (text: string): void => void output.write(`${text}\n`);
  const spec: QuerySpec = { ...options.initial };
  let json = false;
  let explain = false;
  const history = options.historyFile === undefined ? [] : await readHistory(options.historyFile);
  const lines = createInterface({
    input: options.input,
    output,
    terminal: options.terminal,
    history: history.slice(-500).reverse(),
    historySize: 500,
  });
  const prompt = (): void => {
    if (!options.terminal) return; // a script piped in needs answers, not prompts
    lines.setPrompt(`piramid(${spec.collection})> `);
    lines.prompt();
  };
  if (options.terminal) print(`Connected to ${spec.collection}. :help for commands, :quit to leave.`);
  prompt();
  for await (const raw of lines) {
    const line = raw.trim();
    if (line.length > 0 && options.historyFile !== undefined) await appendFile(options.historyFile, `${line}\n`).catch(() => undefined);
    try {
      if (line.length === 0) {
        // nothing
      } else if (line.startsWith(':')) {
        const [command = '', ...rest] = line.slice(1).split(/\s+/);
        const argument = line.slice(1 + command.length).trim();
        switch (command) {
          case 'q':
          case 'quit':
          case 'exit':
            lines.close();
            return;
          case 'help':
            print(HELP);
            break;
          case 'k': {
            const k = Number(rest[0]);
            if (!Number.isInteger(k) || k < 1) print('Usage: :k N (a positive integer)');
            else print(`k = ${(spec.k = k)}`);
            break;
          }
          case 'where':
            if (argument.length === 0) {
              delete spec.filter;
              print('filter cleared');
            } else {
              spec.filter = parseWhere(argument);
              print(`filter: ${argument}`);
            }
            break;
          case 'mode':
            if (!(SEARCH_MODES as readonly string[]).includes(argument)) print(`Usage: :mode ${SEARCH_MODES.join('|')}`);
            else print(`mode = ${(spec.mode = argument as SearchMode)}`);
            break;
          case 'json':
            json = !json;
            print(`json output ${json ? 'on' : 'off'}`);
            break;
          case 'explain':
            explain = !explain;
            print(`explain ${explain ? 'on' : 'off'}`);
            break;
          case 'use':
            await options.useCollection(argument);
            spec.collection = argument;
            print(`using ${argument}`);
            break;
          default:
            print(`Unknown command :${command}. :help lists them.`);
        }
      } else {
        const result = await options.run({ ...spec, text: line });
        if (json) print(JSON.stringify(result));
        else {
          print(result.hits.length === 0 ? 'No hits.' : renderHits(result.hits));
          print(`${result.hits.length} hits in ${result.took_ms.toFixed(1)} ms`);
          if (explain) print(`plan: ${JSON.stringify(result.plan)}`);
        }
      }
    } catch (err) {
      if (!isPiramidError(err)) throw err;
      print(formatError(err));
    }
    prompt();
  }
}

async function readHistory(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n').filter((line) => line.length > 0);
  } catch {
    return [];
  }
}
