import { useEffect, useRef, useState } from 'react';
import type { Backend } from '../client/backend.js';
import type { QueryJson, QuerySpec } from '../cli/query-runner.js';
import { isPiramidError } from '../engine/errors.js';
import type { Filter } from '../engine/query/filter.js';
import { parseWhere } from '../engine/query/where.js';
import type { SearchMode } from '../engine/types.js';

export interface WhereError {
  /** The parser's message, without the `--where:` prefix and the caret lines. */
  message: string;
  /** 1-based column in the filter text. */
  column: number | undefined;
}

/** A `--where` text parsed as `piramid query` parses it; an empty text is no filter. */
export function parseWhereLine(text: string): { filter?: Filter; error?: WhereError } {
  if (text.trim() === '') return {};
  try {
    return { filter: parseWhere(text) };
  } catch (err) {
    if (!isPiramidError(err)) throw err;
    const first = err.message.split('\n')[0] ?? err.message;
    return { error: { message: first.replace(/^--where:\s*/, ''), column: err.location?.column } };
  }
}

/** A query line: a JSON array of numbers searches by vector, anything else by text. */
export function queryOf(text: string): { text?: string; vector?: number[] } {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((v) => typeof v === 'number')) return { vector: parsed as number[] };
    } catch {
      // Not JSON: a text that starts with "[".
    }
  }
  return trimmed === '' ? {} : { text: trimmed };
}

export interface SearchState {
  result: QueryJson | undefined;
  error: Error | undefined;
  whereError: WhereError | undefined;
  /** A query is debouncing or running. */
  pending: boolean;
  /** Runs the current query now instead of waiting for the pause. */
  flush: () => void;
}

export interface SearchInput {
  collection: string;
  query: string;
  mode: SearchMode;
  where: string;
  k: number;
}

/**
 * Runs `backend.query` (what `piramid query` runs) for the query being typed, once typing pauses
 * for `debounceMs`. Answers to superseded queries are dropped; a filter that does not parse is
 * reported (with its column) and nothing runs.
 */
export function useSearch(backend: Backend, input: SearchInput, debounceMs: number): SearchState {
  const key = JSON.stringify(input);
  const [settledKey, setSettledKey] = useState<string | undefined>(undefined);
  const [state, setState] = useState<{ result: QueryJson | undefined; error: Error | undefined; running: boolean }>({ result: undefined, error: undefined, running: false });
  const latest = useRef(0);
  const parsed = parseWhereLine(input.where);

  useEffect(() => {
    if (key === settledKey) return;
    const timer = setTimeout(() => setSettledKey(key), Math.max(0, debounceMs));
    return () => clearTimeout(timer);
  }, [key, settledKey, debounceMs]);

  useEffect(() => {
    if (settledKey === undefined) return;
    const settled = JSON.parse(settledKey) as SearchInput;
    const request = ++latest.current;
    const { filter, error: whereError } = parseWhereLine(settled.where);
    const what = queryOf(settled.query);
    if (whereError !== undefined || (what.text === undefined && what.vector === undefined)) {
      setState({ result: undefined, error: undefined, running: false });
      return;
    }
    const spec: QuerySpec = { collection: settled.collection, k: settled.k, ...what, ...(filter === undefined ? {} : { filter }) };
    // A vector is searched by vector: keyword and hybrid need the text.
    if (what.vector === undefined) spec.mode = settled.mode;
    setState((s) => ({ ...s, running: true }));
    backend.query(spec).then(
      (result) => {
        if (latest.current === request) setState({ result, error: undefined, running: false });
      },
      (error: unknown) => {
        if (latest.current === request) setState({ result: undefined, error: error instanceof Error ? error : new Error(String(error)), running: false });
      },
    );
  }, [backend, settledKey]);

  return {
    result: state.result,
    error: state.error,
    whereError: parsed.error,
    pending: state.running || key !== settledKey,
    flush: () => setSettledKey(key),
  };
}
