import { useInput, type Key } from 'ink';
import { createContext, useCallback, useContext, useLayoutEffect, useRef } from 'react';

export type KeyHandler = (input: string, key: Key) => void;
type Entry = { current: { handler: KeyHandler; active: boolean } };

/**
 * Where views register for keys when an App routes them (see useKeyRouter). Without one (a view
 * rendered alone, as in tests), useKeys subscribes to Ink itself.
 */
export const KeyRouterContext = createContext<Set<Entry> | null>(null);

/**
 * One Ink input subscription for the whole app, handing each key to every registered handler
 * whose view is active. Views register in a layout effect, which runs as their first frame is
 * committed: a key typed right after a view opens (s, then the query at once) reaches it, where a
 * useInput of its own would subscribe only once React gets round to passive effects.
 */
export function useKeyRouter(fallback?: KeyHandler): Set<Entry> {
  const entries = useRef(new Set<Entry>()).current;
  const latestFallback = useRef(fallback);
  latestFallback.current = fallback;
  useInput((input, key) => {
    latestFallback.current?.(input, key);
    for (const entry of [...entries]) if (entry.current.active) entry.current.handler(input, key);
  });
  return entries;
}

/**
 * Keys for a view (or a field) while `active`. The handler and flag of the latest render are
 * used at each key, so keys that arrive together each see the state the screen shows.
 */
export function useKeys(handler: KeyHandler, active: boolean): void {
  const router = useContext(KeyRouterContext);
  const latest = useRef({ handler, active });
  latest.current = { handler, active };
  useLayoutEffect(() => {
    if (router === null) return;
    router.add(latest);
    return () => {
      router.delete(latest);
    };
  }, [router]);
  const own = useCallback((input: string, key: Key) => {
    if (latest.current.active) latest.current.handler(input, key);
  }, []);
  useInput(own, { isActive: router === null });
}
