import { Box, Text } from 'ink';
import { useState } from 'react';
import type { CollectionStats } from '../engine/types.js';
import { fit, formatBytes, formatCount, oneLine } from './format.js';
import { ErrorLine } from './error-line.js';
import { TextInput } from './text-input.js';
import { useKeys } from './use-keys.js';
import { tint, type Theme } from './theme.js';

export interface CollectionsViewProps {
  collections: CollectionStats[] | undefined;
  loading: boolean;
  error: Error | undefined;
  /** Where the collections are (data folder or server URL), for the empty message. */
  source: string;
  width: number;
  height: number;
  theme: Theme;
  /** Takes keys (the view on top, with no help over it). */
  active: boolean;
  onOpen: (stats: CollectionStats) => void;
  onSearch: (stats: CollectionStats) => void;
  onReload: () => void;
  onQuit: () => void;
  onHelp: () => void;
}

/** Fixed columns after the name: records, dim, metric, index, embedder, size. */
const COLUMNS = [
  { title: 'records', width: 9, align: 'right' },
  { title: 'dim', width: 5, align: 'right' },
  { title: 'metric', width: 6, align: 'left' },
  { title: 'index', width: 5, align: 'left' },
  { title: 'embedder', width: 22, align: 'left' },
  { title: 'size', width: 8, align: 'right' },
] as const;

function cells(stats: CollectionStats): string[] {
  return [formatCount(stats.count), String(stats.dimension), stats.metric, stats.index, stats.embedder, formatBytes(stats.sizeBytes)];
}

/** Every collection with its figures; a selection to open or search, and a filter by name. */
export function CollectionsView(props: CollectionsViewProps) {
  const { collections, loading, error, width, height, theme, active } = props;
  const [selected, setSelected] = useState(0);
  const [filter, setFilter] = useState('');
  const [filtering, setFiltering] = useState(false);
  const shown = (collections ?? []).filter((c) => c.name.toLowerCase().includes(filter.toLowerCase()));
  const index = Math.min(selected, Math.max(0, shown.length - 1));
  const current = shown[index];

  useKeys(
    (input, key) => {
      if (filtering) {
        if (key.return) setFiltering(false);
        else if (key.escape) {
          setFilter('');
          setFiltering(false);
        } else if (key.upArrow || key.downArrow) {
          setFiltering(false);
          setSelected(Math.max(0, Math.min(shown.length - 1, index + (key.upArrow ? -1 : 1))));
        }
        return;
      }
      if (input === 'q' || key.escape) props.onQuit();
      else if (input === '?') props.onHelp();
      else if (key.upArrow || input === 'k') setSelected(Math.max(0, index - 1));
      else if (key.downArrow || input === 'j') setSelected(Math.min(Math.max(0, shown.length - 1), index + 1));
      else if (key.pageUp) setSelected(Math.max(0, index - rows));
      else if (key.pageDown) setSelected(Math.min(Math.max(0, shown.length - 1), index + rows));
      else if (input === 'g' || key.home) setSelected(0);
      else if (input === 'G' || key.end) setSelected(Math.max(0, shown.length - 1));
      else if (input === '/') {
        setFiltering(true);
        setSelected(0);
      } else if (key.return && current !== undefined) props.onOpen(current);
      else if (input === 's' && current !== undefined) props.onSearch(current);
      else if (input === 'r') props.onReload();
    },
    active,
  );

  const fixed = COLUMNS.reduce((sum, c) => sum + c.width + 1, 0);
  const nameWidth = Math.max(8, width - fixed - 2);
  const showFilter = filtering || filter !== '';
  const rows = Math.max(1, height - 2 - (showFilter ? 1 : 0));
  const top = Math.max(0, Math.min(index - Math.floor(rows / 2), shown.length - rows));
  const header = `  ${fit('name', nameWidth)}${COLUMNS.map((c) => ` ${fit(c.title, c.width, c.align)}`).join('')}`;
  const total = collections?.length ?? 0;

  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {showFilter ? (
        <Box>
          <Text color={tint(theme, 'cyan')}>/ </Text>
          <TextInput value={filter} onChange={(update) => {
              setFilter(update);
              setSelected(0);
            }} focus={active && filtering} width={width - 2} placeholder="filter by name" theme={theme} />
        </Box>
      ) : null}
      <Text bold color={tint(theme, 'cyan')} wrap="truncate-end">
        {header}
      </Text>
      {error !== undefined ? <ErrorLine error={error} width={width} theme={theme} /> : null}
      {collections === undefined && loading ? <Text dimColor>  loading…</Text> : null}
      {collections !== undefined && total === 0 ? (
        <Text wrap="truncate-end">{`  No collections in ${oneLine(props.source)}. Create one with: piramid create <name>`}</Text>
      ) : null}
      {total > 0 && shown.length === 0 ? <Text dimColor wrap="truncate-end">{`  No collection name contains "${filter}".`}</Text> : null}
      {shown.slice(top, top + rows).map((stats, i) => {
        const isSelected = top + i === index;
        const line = `${isSelected ? (theme.unicode ? '›' : '>') : ' '} ${fit(stats.name, nameWidth)}${cells(stats)
          .map((cell, c) => ` ${fit(cell, COLUMNS[c]?.width ?? 8, COLUMNS[c]?.align)}`)
          .join('')}`;
        return (
          <Text key={stats.name} inverse={isSelected && active} bold={isSelected} wrap="truncate-end">
            {line}
          </Text>
        );
      })}
      <Box flexGrow={1} />
      <Text dimColor wrap="truncate-end">
        {`  ${shown.length === total ? `${formatCount(total)} collection${total === 1 ? '' : 's'}` : `${formatCount(shown.length)} of ${formatCount(total)} collections`}${loading && collections !== undefined ? ' · reloading…' : ''}`}
      </Text>
    </Box>
  );
}
