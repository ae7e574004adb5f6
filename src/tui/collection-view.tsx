import { Box, Text } from 'ink';
import type { Backend } from '../client/backend.js';
import type { CollectionStats } from '../engine/types.js';
import { ErrorLine } from './error-line.js';
import { fit, formatBytes, formatCount, oneLine } from './format.js';
import { useKeys } from './use-keys.js';
import { tint, type Theme } from './theme.js';
import { usePager } from './use-pager.js';

export interface CollectionViewProps {
  backend: Backend;
  name: string;
  /** The collection's figures (from the list, or read when opened directly). */
  stats: CollectionStats | undefined;
  width: number;
  height: number;
  theme: Theme;
  active: boolean;
  onOpenRecord: (id: string) => void;
  onSearch: () => void;
  onBack: () => void;
  onHelp: () => void;
  onReload: () => void;
}

/** Lines of the view that are not record rows: summary, header, position. */
const CHROME = 3;

/** The records of a collection, a page at a time in id order: id, text preview, metadata keys. */
export function CollectionView(props: CollectionViewProps) {
  const { backend, name, stats, width, height, theme, active } = props;
  const pageSize = Math.max(1, height - CHROME);
  const pager = usePager(backend, name, pageSize, stats?.count);

  useKeys(
    (input, key) => {
      if (input === 'q' || key.escape) props.onBack();
      else if (input === '?') props.onHelp();
      else if (key.upArrow || input === 'k') pager.move(-1);
      else if (key.downArrow || input === 'j') pager.move(1);
      else if (key.pageDown || input === ' ') pager.page(1);
      else if (key.pageUp) pager.page(-1);
      else if (input === 'g' || key.home) pager.first();
      else if (input === 'G' || key.end) pager.last();
      else if (input === 's') props.onSearch();
      else if (input === 'r') {
        props.onReload();
        pager.reload();
      } else if (key.return) {
        const record = pager.records[pager.row];
        if (record !== undefined) props.onOpenRecord(record.id);
      }
    },
    active,
  );

  const idWidth = Math.min(28, Math.max(10, Math.floor(width * 0.3)));
  const keysWidth = Math.min(24, Math.max(8, Math.floor(width * 0.22)));
  const textWidth = Math.max(10, width - idWidth - keysWidth - 4);
  const summary =
    stats === undefined
      ? name
      : `${name} · ${formatCount(stats.count)} records · ${formatCount(stats.documents)} documents · ${stats.dimension}d ${stats.metric} · ${stats.index} · ${stats.embedder} · ${formatBytes(stats.sizeBytes)}`;
  const first = pager.offset + 1;
  const last = pager.offset + pager.records.length;
  const total = stats?.count;
  const pages = total === undefined ? undefined : Math.max(1, Math.ceil(total / pageSize));
  const position =
    pager.records.length === 0
      ? pager.loading
        ? 'loading…'
        : 'no records'
      : `records ${formatCount(first)}–${formatCount(last)}${total === undefined ? '' : ` of ${formatCount(total)}`} · page ${formatCount(Math.floor(pager.offset / pageSize) + 1)}${pages === undefined ? '' : `/${formatCount(pages)}`}${pager.loading ? ' · loading…' : ''}`;

  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {` ${summary}`}
      </Text>
      <Text bold color={tint(theme, 'cyan')} wrap="truncate-end">
        {`  ${fit('id', idWidth)} ${fit('text', textWidth)} ${fit('metadata', keysWidth)}`}
      </Text>
      {pager.error !== undefined ? <ErrorLine error={pager.error} width={width} theme={theme} /> : null}
      {pager.records.map((record, i) => {
        const isSelected = i === pager.row;
        const keys = Object.keys(record.metadata ?? {}).join(', ');
        const line = `${isSelected ? (theme.unicode ? '›' : '>') : ' '} ${fit(record.id, idWidth)} ${fit(oneLine(record.text) || '—', textWidth)} ${fit(keys, keysWidth)}`;
        return (
          <Text key={record.id} inverse={isSelected && active} bold={isSelected} wrap="truncate-end">
            {line}
          </Text>
        );
      })}
      <Box flexGrow={1} />
      <Text dimColor wrap="truncate-end">{`  ${position}`}</Text>
    </Box>
  );
}

