import { useInput, type Key } from 'ink';
import { useCallback, useRef } from 'react';

/**
 * useInput, always calling the handler of the latest render: keys that arrive before React has
 * re-subscribed (several in one read, a paste) still see the state the screen shows.
 */
export function useKeys(handler: (input: string, key: Key) => void, active: boolean): void {
  const latest = useRef(handler);
  latest.current = handler;
  const stable = useCallback((input: string, key: Key) => latest.current(input, key), []);
  useInput(stable, { isActive: active });
}
