import { Text } from 'ink';
import { isPiramidError } from '../engine/errors.js';
import { oneLine, truncate } from './format.js';
import { tint, type Theme } from './theme.js';

export interface ErrorLineProps {
  error: Error;
  width: number;
  theme: Theme;
}

/** An error on one line: its message (first line) and code, cut to the width. */
export function ErrorLine({ error, width, theme }: ErrorLineProps) {
  // The code first: a long message is cut at the width, the code never.
  const code = isPiramidError(error) ? ` [${error.code}]` : '';
  const message = oneLine(error.message.split('\n')[0]);
  return <Text color={tint(theme, 'red')}>{truncate(`  Error${code}: ${message}`, width)}</Text>;
}
