import chalk from 'chalk';
import { describeLocation, type PiramidError } from '../engine/errors.js';

/** Info, warnings and progress go to stderr so that stdout holds only results. */
export function info(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function warning(message: string): void {
  process.stderr.write(`${chalk.yellow('Warning:')} ${message}\n`);
}

/** "Error: docs.jsonl, line 3, field "vector": vector has 3 dimensions..." plus the hint. */
export function formatError(err: PiramidError): string {
  // A message that already names its field (the --where parser's, with a caret line) needs no prefix.
  const named = err.location?.field !== undefined && err.message.startsWith(`${err.location.field}:`);
  const where = err.location === undefined || named ? '' : describeLocation(err.location);
  // The code goes at the end of the first line; a multi-line message (a caret under a column) follows.
  const [first = '', ...rest] = err.message.split('\n');
  const head = [`${chalk.red('Error:')} ${where === '' ? '' : `${where}: `}${first} ${chalk.dim(`[${err.code}]`)}`, ...rest].join('\n');
  return err.hint === undefined ? head : `${head}\n${chalk.dim('Hint:')} ${err.hint}`;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
