import { Box, Text } from 'ink';
import { useState } from 'react';
import type { Backend } from '../client/backend.js';
import { SEARCH_MODES, type Metric, type SearchMode } from '../engine/types.js';
import { ErrorLine } from './error-line.js';
import { bar, fit, formatMs, formatScore, oneLine, scoreFractions, truncate } from './format.js';
import { TextInput } from './text-input.js';
import { useKeys } from './use-keys.js';
import { tint, type Theme } from './theme.js';
import { queryOf, useSearch } from './use-search.js';

export interface SearchViewProps {
  backend: Backend;
  collection: string;
  /** The collection's metric: for l2 in vector mode, lower scores are better (bars say so). */
  metric: Metric | undefined;
  width: number;
  height: number;
  theme: Theme;
  active: boolean;
  /** Pause in typing after which the query runs (ms). */
  debounceMs: number;
  onOpenRecord: (id: string) => void;
  onBack: () => void;
  onHelp: () => void;
}

type Focus = 'query' | 'filter' | 'results';

const LABEL = 8; // " Query  " and " Where  "
const BAR = 10;

/** A query line, a --where line, and the hits of the query as it is typed, with scores and latency. */
export function SearchView(props: SearchViewProps) {
  const { backend, collection, metric, width, height, theme, active, debounceMs } = props;
  const [query, setQuery] = useState('');
  const [where, setWhere] = useState('');
  const [mode, setMode] = useState<SearchMode>('vector');
  const [focus, setFocus] = useState<Focus>('query');
  const [selected, setSelected] = useState(0);
  const rows = Math.max(1, height - 4);
  const search = useSearch(backend, { collection, query, mode, where, k: rows }, debounceMs);
  const hits = search.result?.hits ?? [];
  const index = Math.min(selected, Math.max(0, hits.length - 1));
  const byVector = queryOf(query).vector !== undefined;

  useKeys(
    (input, key) => {
      if (key.escape) {
        if (focus === 'filter') setFocus(hits.length > 0 ? 'results' : 'query');
        else props.onBack();
        return;
      }
      if (key.tab) {
        const at = SEARCH_MODES.indexOf(mode);
        setMode(SEARCH_MODES[(at + (key.shift ? SEARCH_MODES.length - 1 : 1)) % SEARCH_MODES.length] as SearchMode);
        return;
      }
      if (focus !== 'results') {
        if (key.downArrow) setFocus(focus === 'query' ? 'filter' : 'results');
        else if (key.upArrow && focus === 'filter') setFocus('query');
        else if (key.return) {
          search.flush();
          setSelected(0);
          setFocus('results');
        }
        return;
      }
      if (input === 'q') props.onBack();
      else if (input === '?') props.onHelp();
      else if (input === 'f') setFocus('filter');
      else if (input === '/' || input === 's' || input === 'i') setFocus('query');
      else if (key.upArrow || input === 'k') {
        if (index === 0) setFocus('filter');
        else setSelected(index - 1);
      } else if (key.downArrow || input === 'j') setSelected(Math.min(Math.max(0, hits.length - 1), index + 1));
      else if (input === 'g' || key.home) setSelected(0);
      else if (input === 'G' || key.end) setSelected(Math.max(0, hits.length - 1));
      else if (key.return) {
        const hit = hits[index];
        if (hit !== undefined) props.onOpenRecord(hit.id);
      }
    },
    active,
  );

  const modes = SEARCH_MODES.map((m) => (m === mode ? `[${m}]` : ` ${m} `)).join('');
  const inputWidth = Math.max(10, width - LABEL - modes.length - 2);
  const lowerIsBetter = metric === 'l2' && (mode === 'vector' || byVector);
  const fractions = scoreFractions(
    hits.map((h) => h.score),
    lowerIsBetter,
  );
  const idWidth = Math.min(28, Math.max(8, Math.floor(width * 0.28)));
  const textWidth = Math.max(5, width - 5 - BAR - 10 - idWidth - 4);

  let status: { text: string; color?: string } = { text: '' };
  const whereError = search.whereError;
  if (whereError !== undefined) {
    const caret = whereError.column === undefined ? '' : `${' '.repeat(Math.max(0, LABEL + whereError.column - 1))}^ `;
    status = { text: `${caret}${whereError.message}`, color: 'red' };
  } else if (search.result !== undefined) {
    const r = search.result;
    status = {
      text: `  ${r.hits.length} hit${r.hits.length === 1 ? '' : 's'} · ${formatMs(r.took_ms)} · ${byVector ? 'vector (by vector)' : mode}${r.plan.strategy === mode ? '' : ` · ${String(r.plan.strategy)}`}${lowerIsBetter ? ' · l2: lower is closer' : ''}${search.pending ? ' · …' : ''}`,
      color: 'green',
    };
  } else if (search.pending && queryOf(query).text !== undefined) status = { text: '  searching…' };
  else if (search.error === undefined) status = { text: '  Type a query (text, or a JSON array for a vector); it runs when you pause.' };

  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Box width={width}>
        <Text bold color={focus === 'query' ? tint(theme, 'cyan') : undefined}>
          {' Query  '}
        </Text>
        <Box width={inputWidth}>
          <TextInput value={query} onChange={(update) => {
            setQuery(update);
            setSelected(0);
          }} focus={active && focus === 'query'} width={inputWidth} theme={theme} />
        </Box>
        <Text> </Text>
        <Text color={tint(theme, 'magenta')}>{modes}</Text>
      </Box>
      <Box width={width}>
        <Text bold color={focus === 'filter' ? tint(theme, 'cyan') : undefined}>
          {' Where  '}
        </Text>
        <TextInput value={where} onChange={(update) => {
            setWhere(update);
            setSelected(0);
          }} focus={active && focus === 'filter'} width={width - LABEL} placeholder={focus === 'filter' ? 'year >= 2020 and lang = "en"' : 'f: filter (the --where syntax)'} theme={theme} />
      </Box>
      {search.error !== undefined && whereError === undefined ? (
        <ErrorLine error={search.error} width={width} theme={theme} />
      ) : (
        <Text color={status.color === undefined ? undefined : tint(theme, status.color)} dimColor={status.color === undefined} wrap="truncate-end">
          {status.text === '' ? ' ' : status.text}
        </Text>
      )}
      <Text bold color={tint(theme, 'cyan')} wrap="truncate-end">
        {`${fit('rank', 5, 'right')} ${fit('', BAR)} ${fit('score', 10, 'right')} ${fit('id', idWidth)} text`}
      </Text>
      {hits.map((hit, i) => {
        const isSelected = focus === 'results' && i === index;
        return (
          <Text key={`${hit.id}-${i}`} inverse={isSelected && active} bold={isSelected} wrap="truncate-end">
            {fit(String(i + 1), 5, 'right')}{' '}
            <Text color={tint(theme, 'green')}>{bar(fractions[i] ?? 0, BAR, theme)}</Text>
            {` ${fit(formatScore(hit.score), 10, 'right')} ${fit(hit.id, idWidth)} ${truncate(oneLine(hit.text), textWidth)}`}
          </Text>
        );
      })}
      {search.result !== undefined && hits.length === 0 && !search.pending ? <Text dimColor>  No hits.</Text> : null}
    </Box>
  );
}
