import { useInput, type Key } from 'ink';
import { createContext, useCallback, useContext, useEffect, useLayoutEffect, useRef } from 'react';

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
  const queue = useRef<[string, Key][]>([]).current;
  const draining = useRef(false);
  const dispatch = (input: string, key: Key): void => {
    latestFallback.current?.(input, key);
    for (const entry of [...entries]) if (entry.current.active) entry.current.handler(input, key);
  };
  // One key at a time, each after React has drawn the one before (10 ms apart): keys that arrive together
  // ("jj", "q q", a key and Enter) act as if typed one by one, on the screen each left behind.
  const drain = (): void => {
    const next = queue.shift();
    if (next === undefined) {
      draining.current = false;
      return;
    }
    draining.current = true;
    dispatch(...next);
    setTimeout(drain, 10);
  };
  useInput((input, key) => {
    queue.push(...splitKeys(input, key));
    if (!draining.current) drain();
  });
  useEffect(
    () => () => {
      queue.length = 0;
    },
    [queue],
  );
  return entries;
}

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** Several characters read at once (fast typing, a paste) as one key each; anything else as is. */
export function splitKeys(input: string, key: Key): [string, Key][] {
  const chars = Array.from(input);
  if (chars.length <= 1 || key.ctrl || key.meta) return [[input, key]];
  return chars.map((char): [string, Key] => {
    if (char === '\r' || char === '\n') return ['', { ...NO_KEY, return: true }];
    if (char === '\t') return ['', { ...NO_KEY, tab: true }];
    if (char === '\u007f' || char === '\b') return ['', { ...NO_KEY, backspace: true }];
    // Ctrl-A .. Ctrl-Z (Ctrl-U, Ctrl-W...), as Ink reports them alone: the letter, with ctrl.
    const code = char.charCodeAt(0);
    if (code >= 1 && code <= 26) return [String.fromCharCode(code + 96), { ...NO_KEY, ctrl: true }];
    return [char, { ...NO_KEY, shift: /[A-Z]/.test(char) }];
  });
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
