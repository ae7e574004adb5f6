import { Box, Text } from 'ink';
import { fit } from './format.js';
import { KEYS, type ViewKind } from './keys.js';
import type { Theme } from './theme.js';

export interface StatusBarProps {
  view: ViewKind | 'help';
  width: number;
  /** Unused for now: the bar is drawn in reverse video, which NO_COLOR allows. */
  theme?: Theme;
  /** Something to say for the moment (an error, "loading…"), shown before the key hints. */
  message?: string;
}

/** What q/Esc do in each view. */
const BACK: Record<ViewKind | 'help', string> = {
  collections: 'q quit',
  collection: 'q back',
  record: 'q back',
  search: 'Esc back',
  help: 'q close',
};

/** The bottom line: the main keys of the view on the left, help and back/quit always on the right. */
export function StatusBar({ view, width, message }: StatusBarProps) {
  const hints = view === 'help' ? [] : KEYS[view].keys.flatMap((k) => (k.hint === undefined ? [] : [k.hint]));
  const right = `${view === 'help' ? '' : '? help  '}${BACK[view]} `;
  const left = ` ${[...(message === undefined ? [] : [message]), ...hints].join('  ')}`;
  const room = Math.max(0, width - right.length);
  return (
    <Box width={width} height={1}>
      <Text inverse wrap="truncate-end">
        {fit(left, room)}
        <Text bold>{right.length > width ? right.slice(0, width) : right}</Text>
      </Text>
    </Box>
  );
}

