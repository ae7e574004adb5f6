import { Box, Text, useApp } from 'ink';
import { useRef, useState } from 'react';
import type { Backend } from '../client/backend.js';
import type { CollectionStats } from '../engine/types.js';
import { CollectionView } from './collection-view.js';
import { CollectionsView } from './collections-view.js';
import { fit } from './format.js';
import { HelpView } from './help-view.js';
import type { ViewKind } from './keys.js';
import { RecordView } from './record-view.js';
import { SearchView } from './search-view.js';
import { StatusBar } from './status-bar.js';
import { DEFAULT_THEME, tint, type Theme } from './theme.js';
import { useAsync } from './use-async.js';
import { KeyRouterContext, useKeyRouter } from './use-keys.js';
import { useTerminalSize, type Size } from './use-terminal-size.js';

export interface AppProps {
  /** Everything shown is read through it: the engine in this process, or a piramid server. */
  backend: Backend;
  /** The data folder or server URL, for the title line. */
  source: string;
  theme?: Theme;
  /** A fixed size (tests); the terminal's otherwise. */
  size?: Partial<Size>;
  /** Opens this collection first (the list stays underneath). */
  initialCollection?: string;
  /** Pause in typing before a search runs (default 250 ms). */
  debounceMs?: number;
}

type Screen =
  | { kind: 'collections'; key: number }
  | { kind: 'collection'; key: number; name: string }
  | { kind: 'record'; key: number; collection: string; id: string }
  | { kind: 'search'; key: number; collection: string };

type NewScreen = Screen extends infer S ? (S extends Screen ? Omit<S, 'key'> : never) : never;

export const MIN_SIZE: Size = { width: 40, height: 10 };

/**
 * `piramid browse`: a stack of views (collections › collection › record, and search panels), the
 * top one shown and taking keys. Covered views stay mounted (hidden), so going back finds them as
 * they were: selection, page, query.
 */
export function App({ backend, source, theme = DEFAULT_THEME, size: fixedSize, initialCollection, debounceMs = 250 }: AppProps) {
  const { exit } = useApp();
  const size = useTerminalSize(fixedSize);
  const list = useAsync(() => backend.listCollections(), [backend]);
  const keys = useRef(1);
  const [stack, setStack] = useState<Screen[]>(() => [
    { kind: 'collections', key: 0 },
    ...(initialCollection === undefined ? [] : [{ kind: 'collection' as const, key: 1, name: initialCollection }]),
  ]);
  const [help, setHelp] = useState(false);

  const push = (screen: NewScreen): void => {
    keys.current += 1;
    const key = keys.current;
    setStack((s) => [...s, { ...screen, key }]);
  };
  const pop = (): void => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s));
  const replaceTop = (screen: Screen): void => setStack((s) => [...s.slice(0, -1), screen]);
  const statsOf = (name: string): CollectionStats | undefined => list.value?.find((c) => c.name === name);

  const { width, height } = size;
  const tooSmall = width < MIN_SIZE.width || height < MIN_SIZE.height;
  const router = useKeyRouter((input, key) => {
    if (tooSmall && (input === 'q' || key.escape)) exit();
  });
  if (tooSmall) {
    return (
      <Text wrap="truncate-end">{`Terminal too small (${width}×${height}); piramid browse needs ${MIN_SIZE.width}×${MIN_SIZE.height}. q quits.`}</Text>
    );
  }
  const bodyHeight = height - 2;
  const top = stack[stack.length - 1] as Screen;
  const view: ViewKind | 'help' = help ? 'help' : top.kind;
  const trail = stack
    .slice(1)
    .map((s, i) => {
      if (s.kind === 'collection') return s.name;
      if (s.kind === 'record') return s.id;
      if (s.kind !== 'search') return '';
      // Opened from the list, the search names its collection.
      const below = stack[i];
      return below?.kind === 'collection' && below.name === s.collection ? 'search' : `${s.collection} › search`;
    })
    .join(' › ');
  const title = ` piramid browse · ${source}${trail === '' ? '' : ` › ${trail}`}`;
  const openHelp = (): void => setHelp(true);

  const render = (screen: Screen, active: boolean) => {
    const common = { width, height: bodyHeight, theme, active, onHelp: openHelp };
    switch (screen.kind) {
      case 'collections':
        return (
          <CollectionsView
            {...common}
            collections={list.value}
            loading={list.loading}
            error={list.error}
            source={source}
            onOpen={(stats) => push({ kind: 'collection', name: stats.name })}
            onSearch={(stats) => push({ kind: 'search', collection: stats.name })}
            onReload={list.reload}
            onQuit={() => exit()}
          />
        );
      case 'collection':
        return (
          <CollectionView
            {...common}
            backend={backend}
            name={screen.name}
            stats={statsOf(screen.name)}
            onOpenRecord={(id) => push({ kind: 'record', collection: screen.name, id })}
            onSearch={() => push({ kind: 'search', collection: screen.name })}
            onBack={pop}
            onReload={list.reload}
          />
        );
      case 'record':
        return (
          <RecordView
            {...common}
            backend={backend}
            collection={screen.collection}
            id={screen.id}
            onSwitch={(id) => replaceTop({ ...screen, id })}
            onBack={pop}
          />
        );
      case 'search':
        return (
          <SearchView
            {...common}
            backend={backend}
            collection={screen.collection}
            metric={statsOf(screen.collection)?.metric}
            debounceMs={debounceMs}
            onOpenRecord={(id) => push({ kind: 'record', collection: screen.collection, id })}
            onBack={pop}
          />
        );
    }
  };

  return (
    <KeyRouterContext.Provider value={router}>
    <Box flexDirection="column" width={width} height={height}>
      <Text inverse bold color={tint(theme, 'cyan')} wrap="truncate-end">
        {fit(title, width)}
      </Text>
      {stack.map((screen, i) => (
        <Box key={screen.key} display={!help && i === stack.length - 1 ? 'flex' : 'none'} height={bodyHeight}>
          {render(screen, !help && i === stack.length - 1)}
        </Box>
      ))}
      {help ? <HelpView width={width} height={bodyHeight} theme={theme} active onClose={() => setHelp(false)} /> : null}
      <StatusBar view={view} width={width} theme={theme} />
    </Box>
    </KeyRouterContext.Provider>
  );
}
