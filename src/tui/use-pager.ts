import { useCallback, useEffect, useRef, useState } from 'react';
import type { Backend } from '../client/backend.js';
import type { DocumentView } from '../engine/types.js';

export interface Pager {
  /** Offset of the page's first record in the collection (id order). */
  offset: number;
  records: DocumentView[];
  /** Row of the selected record within the page. */
  row: number;
  /** Whether a page follows this one. */
  more: boolean;
  loading: boolean;
  error: Error | undefined;
  /** Moves the selection by `delta` rows, across pages. */
  move: (delta: number) => void;
  /** Next or previous page, keeping the row. */
  page: (delta: 1 | -1) => void;
  first: () => void;
  last: () => void;
  reload: () => void;
}

interface Target {
  offset: number;
  /** Row to select once the page is there; -1 for its last row. */
  row: number;
  generation: number;
}

/**
 * Pages of `pageSize` records of a collection in id order, with a selected row. Pages are asked
 * for by offset; every page start and `next` id seen is remembered, so that a page is read from
 * the nearest known id before it rather than skipped to from the start. `total` (the collection's
 * count) tells where the last page starts.
 */
export function usePager(backend: Backend, collection: string, pageSize: number, total: number | undefined): Pager {
  const size = Math.max(1, pageSize);
  const [target, setTarget] = useState<Target>({ offset: 0, row: 0, generation: 0 });
  const [state, setState] = useState<{ offset: number; records: DocumentView[]; more: boolean; row: number; loading: boolean; error: Error | undefined }>({
    offset: 0,
    records: [],
    more: false,
    row: 0,
    loading: true,
    error: undefined,
  });
  /** offset → id of the record at that offset (page starts and next ids seen so far). */
  const known = useRef(new Map<number, string>());
  const latest = useRef(0);

  // Another collection (or database) starts over at its first page.
  const source = useRef({ backend, collection });
  useEffect(() => {
    if (source.current.backend === backend && source.current.collection === collection) return;
    source.current = { backend, collection };
    known.current = new Map();
    setTarget((t) => ({ offset: 0, row: 0, generation: t.generation + 1 }));
  }, [backend, collection]);

  useEffect(() => {
    const request = ++latest.current;
    let base = 0;
    let from: string | undefined;
    for (const [offset, id] of known.current) {
      if (offset <= target.offset && offset >= base) {
        base = offset;
        from = id;
      }
    }
    setState((s) => ({ ...s, loading: true }));
    backend
      .scrollRecords({ collection, limit: size, offset: target.offset - base, ...(from === undefined ? {} : { from }) })
      .then(
        (page) => {
          if (latest.current !== request) return;
          const first = page.records[0];
          if (first === undefined && target.offset > 0) {
            // The collection shrank under us: go back to the start.
            setTarget({ offset: 0, row: 0, generation: target.generation + 1 });
            return;
          }
          if (first !== undefined) known.current.set(target.offset, first.id);
          if (page.next !== undefined) known.current.set(target.offset + page.records.length, page.next);
          const lastRow = Math.max(0, page.records.length - 1);
          const row = target.row < 0 ? lastRow : Math.min(target.row, lastRow);
          setState({ offset: target.offset, records: page.records, more: page.next !== undefined, row, loading: false, error: undefined });
        },
        (error: unknown) => {
          if (latest.current !== request) return;
          setState((s) => ({ ...s, loading: false, error: error instanceof Error ? error : new Error(String(error)) }));
        },
      );
  }, [backend, collection, size, target]);

  const go = useCallback((offset: number, row: number) => setTarget((t) => ({ offset: Math.max(0, offset), row, generation: t.generation + 1 })), []);
  const lastOffset = (): number => (total === undefined || total <= 0 ? 0 : Math.floor((total - 1) / size) * size);

  const move = (delta: number): void => {
    const row = state.row + delta;
    if (row >= 0 && row < state.records.length) setState((s) => ({ ...s, row }));
    // Across a page boundary only once the page in hand is the one shown.
    else if (state.loading) return;
    else if (row >= state.records.length && state.more) go(state.offset + size, 0);
    else if (row < 0 && state.offset > 0) go(state.offset - size, -1);
    else setState((s) => ({ ...s, row: Math.max(0, Math.min(row, s.records.length - 1)) }));
  };
  const page = (delta: 1 | -1): void => {
    if (state.loading) return;
    if (delta > 0 && state.more) go(state.offset + size, state.row);
    else if (delta < 0 && state.offset > 0) go(state.offset - size, state.row);
    else setState((s) => ({ ...s, row: delta > 0 ? Math.max(0, s.records.length - 1) : 0 }));
  };
  // Page sizes change with the terminal: realign the page on the selected record.
  useEffect(() => {
    if (state.offset % size !== 0) {
      const selected = state.offset + state.row;
      go(Math.floor(selected / size) * size, selected % size);
    }
  }, [size]);
  return {
    ...state,
    move,
    page,
    first: () => go(0, 0),
    last: () => go(lastOffset(), -1),
    reload: () => {
      known.current = new Map();
      go(state.offset, state.row);
    },
  };
}
