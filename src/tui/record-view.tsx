import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import type { Backend } from '../client/backend.js';
import { ErrorLine } from './error-line.js';
import { fit, metadataTree, norm, oneLine, sparkline, truncate, wrapText } from './format.js';
import { useKeys } from './use-keys.js';
import { tint, type Theme } from './theme.js';
import { useRecord, type RecordDetail } from './use-record.js';

export interface RecordViewProps {
  backend: Backend;
  collection: string;
  id: string;
  width: number;
  height: number;
  theme: Theme;
  active: boolean;
  /** Shows another chunk of the same document in place of this one (n / p). */
  onSwitch: (id: string) => void;
  onBack: () => void;
  onHelp: () => void;
}

type Line = { text: string; kind: 'title' | 'plain' | 'dim' | 'current' };

/** How many leading vector values the sparkline draws, at most. */
const SPARK_VALUES = 64;

/** The record as lines: text, metadata tree, vector summary, chunks of the same document. */
export function recordLines(detail: RecordDetail, width: number, theme: Theme): Line[] {
  const { record, siblings, moreSiblings } = detail;
  const lines: Line[] = [];
  const inner = Math.max(10, width - 4);
  lines.push({ text: 'Text', kind: 'title' });
  if (record.text === undefined || record.text === '') lines.push({ text: '  (no text)', kind: 'dim' });
  else for (const line of wrapText(record.text, inner)) lines.push({ text: `  ${line}`, kind: 'plain' });
  lines.push({ text: '', kind: 'plain' });
  lines.push({ text: 'Metadata', kind: 'title' });
  for (const line of metadataTree(record.metadata, theme)) lines.push({ text: `  ${line}`, kind: record.metadata === undefined ? 'dim' : 'plain' });
  lines.push({ text: '', kind: 'plain' });
  lines.push({ text: 'Vector', kind: 'title' });
  const vector = record.vector;
  if (vector === undefined || vector.length === 0) lines.push({ text: '  (no vector)', kind: 'dim' });
  else {
    const min = Math.min(...vector);
    const max = Math.max(...vector);
    lines.push({ text: `  ${vector.length} dims · norm ${norm(vector).toFixed(4)} · min ${min.toFixed(4)} · max ${max.toFixed(4)}`, kind: 'plain' });
    const shown = vector.slice(0, Math.min(SPARK_VALUES, inner - 14));
    lines.push({ text: `  first ${String(shown.length).padStart(2)}:  ${sparkline(shown, theme)}`, kind: 'plain' });
    lines.push({ text: `  [${vector.slice(0, 6).map((v) => v.toFixed(3)).join(', ')}${vector.length > 6 ? ', …' : ''}]`, kind: 'dim' });
  }
  if (record.parent !== undefined) {
    lines.push({ text: '', kind: 'plain' });
    lines.push({ text: `Chunks of ${record.parent} (${siblings.length}${moreSiblings ? '+' : ''})`, kind: 'title' });
    const idWidth = Math.min(30, Math.max(...siblings.map((s) => Array.from(s.id).length), 4));
    for (const sibling of siblings) {
      const current = sibling.id === record.id;
      const span = sibling.chunk === undefined ? '' : `${sibling.chunk.start}–${sibling.chunk.end}`;
      const text = `${current ? (theme.unicode ? '● ' : '* ') : '  '}${fit(sibling.id, idWidth)} ${fit(span, 12)} ${oneLine(sibling.text)}`;
      lines.push({ text: `  ${truncate(text, inner)}`, kind: current ? 'current' : 'plain' });
    }
  }
  return lines;
}

/** One record in full, scrollable; n / p go to the next or previous chunk of its document. */
export function RecordView(props: RecordViewProps) {
  const { backend, collection, id, width, height, theme, active } = props;
  const { value: detail, error, loading } = useRecord(backend, collection, id);
  const [top, setTop] = useState(0);
  useEffect(() => setTop(0), [id]);
  const lines = detail === undefined || detail.record.id !== id ? [] : recordLines(detail, width, theme);
  const rows = Math.max(1, height - 2);
  const maxTop = Math.max(0, lines.length - rows);
  const scroll = (to: number): void => setTop(Math.max(0, Math.min(maxTop, to)));
  const siblings = detail?.siblings ?? [];
  const at = siblings.findIndex((s) => s.id === id);

  useKeys(
    (input, key) => {
      if (input === 'q' || key.escape) props.onBack();
      else if (input === '?') props.onHelp();
      else if (key.upArrow || input === 'k') scroll(top - 1);
      else if (key.downArrow || input === 'j') scroll(top + 1);
      else if (key.pageUp) scroll(top - rows);
      else if (key.pageDown || input === ' ') scroll(top + rows);
      else if (input === 'g' || key.home) scroll(0);
      else if (input === 'G' || key.end) scroll(maxTop);
      else if ((input === 'n' || input === 'p') && at >= 0) {
        const next = siblings[at + (input === 'n' ? 1 : -1)];
        if (next !== undefined) props.onSwitch(next.id);
      }
    },
    active,
  );

  const record = detail?.record;
  const chunk = record?.chunk === undefined ? '' : ` · chunk ${record.chunk.index + 1}${siblings.length > 0 ? ` of ${siblings.length}${detail?.moreSiblings === true ? '+' : ''}` : ''} of ${record.parent ?? '?'} · chars ${record.chunk.start}–${record.chunk.end}`;
  const shownTop = Math.min(top, maxTop);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {` ${id}`}
        <Text dimColor>{chunk}</Text>
      </Text>
      {error !== undefined ? <ErrorLine error={error} width={width} theme={theme} /> : null}
      {lines.length === 0 && loading ? <Text dimColor>  loading…</Text> : null}
      {lines.slice(shownTop, shownTop + rows).map((line, i) => (
        <Text
          key={shownTop + i}
          wrap="truncate-end"
          bold={line.kind === 'title' || line.kind === 'current'}
          dimColor={line.kind === 'dim'}
          color={line.kind === 'title' ? tint(theme, 'cyan') : line.kind === 'current' ? tint(theme, 'yellow') : undefined}
        >
          {line.text === '' ? ' ' : line.text}
        </Text>
      ))}
      <Box flexGrow={1} />
      <Text dimColor wrap="truncate-end">
        {lines.length === 0 ? ' ' : `  lines ${shownTop + 1}–${Math.min(lines.length, shownTop + rows)} of ${lines.length}${at >= 0 ? ` · chunk ${at + 1}/${siblings.length}` : ''}`}
      </Text>
    </Box>
  );
}
