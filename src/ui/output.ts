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
  const where = err.location === undefined ? '' : describeLocation(err.location);
  const head = `${chalk.red('Error:')} ${where === '' ? '' : `${where}: `}${err.message} ${chalk.dim(`[${err.code}]`)}`;
  return err.hint === undefined ? head : `${head}\n${chalk.dim('Hint:')} ${err.hint}`;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
