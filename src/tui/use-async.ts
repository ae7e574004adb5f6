import { useCallback, useEffect, useRef, useState } from 'react';

export interface AsyncState<T> {
  value: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** Loads again (keeping the old value on screen until the new one arrives). */
  reload: () => void;
}

/**
 * The result of an async read, re-run when `deps` change or on reload(). An answer that arrives
 * after a newer request was made, or after unmount, is dropped.
 */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ value: T | undefined; error: Error | undefined; loading: boolean }>({ value: undefined, error: undefined, loading: true });
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const request = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (value) => {
        if (latest.current === request) setState({ value, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (latest.current === request) setState((s) => ({ value: s.value, error: error instanceof Error ? error : new Error(String(error)), loading: false }));
      },
    );
    return () => {
      // A later run (or unmount) makes this one stale.
      if (latest.current === request) latest.current += 1;
    };
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}
