import { Box, Text } from 'ink';
import { useState } from 'react';
import { fit } from './format.js';
import { KEYS } from './keys.js';
import { useKeys } from './use-keys.js';
import { tint, type Theme } from './theme.js';

export interface HelpViewProps {
  width: number;
  height: number;
  theme: Theme;
  active: boolean;
  onClose: () => void;
}

type Line = { text: string; title: boolean };

/** Every key, by view, in two columns when the terminal is wide enough (scrollable otherwise). */
export function HelpView({ width, height, theme, active, onClose }: HelpViewProps) {
  const [top, setTop] = useState(0);
  const sections = [KEYS.collections, KEYS.collection, KEYS.record, KEYS.search, KEYS.global];
  const keyWidth = 11;
  const blocks: Line[][] = sections.map((section) => [{ text: section.title, title: true }, ...section.keys.map((k) => ({ text: `  ${fit(k.keys, keyWidth)} ${k.does}`, title: false }))]);
  const twoColumns = width >= 76;
  const columnWidth = twoColumns ? Math.floor((width - 2) / 2) : width - 1;
  // Sections go to the left column until it holds about half of the lines.
  const total = blocks.reduce((n, b) => n + b.length + 1, 0);
  const left: Line[] = [];
  const right: Line[] = [];
  for (const block of blocks) {
    const target = !twoColumns || left.length + block.length / 2 <= total / 2 ? left : right;
    if (target.length > 0) target.push({ text: '', title: false });
    target.push(...block);
  }
  const rows: [Line | undefined, Line | undefined][] = Array.from({ length: Math.max(left.length, right.length) }, (_, i) => [left[i], right[i]]);
  const room = Math.max(1, height - 2);
  const maxTop = Math.max(0, rows.length - room);

  useKeys(
    (input, key) => {
      if (input === '?' || input === 'q' || key.escape || key.return) onClose();
      else if (key.downArrow || input === 'j') setTop(Math.min(maxTop, top + 1));
      else if (key.upArrow || input === 'k') setTop(Math.max(0, top - 1));
    },
    active,
  );

  const cell = (line: Line | undefined, w: number) =>
    line === undefined ? (
      <Text>{' '.repeat(w)}</Text>
    ) : (
      <Text bold={line.title} color={line.title ? tint(theme, 'cyan') : undefined}>
        {fit(line.text, w)}
      </Text>
    );
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {' Keys of piramid browse'}
      </Text>
      {rows.slice(top, top + room).map(([a, b], i) => (
        <Box key={top + i}>
          <Text> </Text>
          {cell(a, columnWidth)}
          {twoColumns ? cell(b, columnWidth) : null}
        </Box>
      ))}
      <Box flexGrow={1} />
      <Text dimColor wrap="truncate-end">
        {rows.length > room ? `  ↑↓ scroll · lines ${top + 1}–${Math.min(rows.length, top + room)} of ${rows.length}` : ' '}
      </Text>
    </Box>
  );
}
