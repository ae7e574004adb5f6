/** Every key of `piramid browse`, per view: the status bar shows the first few, `?` all of them. */
export type ViewKind = 'collections' | 'collection' | 'record' | 'search';

export interface KeyHelp {
  keys: string;
  does: string;
  /** Its short form in the status bar (keys without one are only in the help). */
  hint?: string;
}

export const KEYS: Record<ViewKind | 'global', { title: string; keys: KeyHelp[] }> = {
  global: {
    title: 'Everywhere',
    keys: [
      { keys: '?', does: 'this help', hint: '? help' },
      { keys: 'q / Esc', does: 'back; quit from the list' },
      { keys: 'Ctrl-C', does: 'quit' },
    ],
  },
  collections: {
    title: 'Collections',
    keys: [
      { keys: '↑↓ / j k', does: 'move', hint: '↑↓ move' },
      { keys: 'Enter', does: 'open the collection', hint: '⏎ open' },
      { keys: '/', does: 'filter by name', hint: '/ filter' },
      { keys: 's', does: 'search the collection', hint: 's search' },
      { keys: 'r', does: 'reload' },
    ],
  },
  collection: {
    title: 'Collection',
    keys: [
      { keys: '↑↓ / j k', does: 'move', hint: '↑↓ move' },
      { keys: 'PgUp PgDn', does: 'previous / next page', hint: 'PgUp/PgDn page' },
      { keys: 'g / G', does: 'first / last record', hint: 'g/G ends' },
      { keys: 'Enter', does: 'open the record', hint: '⏎ open' },
      { keys: 's', does: 'search', hint: 's search' },
      { keys: 'r', does: 'reload' },
    ],
  },
  record: {
    title: 'Record',
    keys: [
      { keys: '↑↓ / j k', does: 'scroll', hint: '↑↓ scroll' },
      { keys: 'PgUp PgDn', does: 'scroll a page', hint: 'PgUp/PgDn page' },
      { keys: 'g / G', does: 'top / bottom' },
      { keys: 'n / p', does: 'next / previous chunk', hint: 'n/p chunk' },
    ],
  },
  search: {
    title: 'Search',
    keys: [
      { keys: 'type', does: 'query; runs on a pause' },
      { keys: '[1, 0, …]', does: 'search by vector' },
      { keys: 'Tab', does: 'vector/keyword/hybrid', hint: 'Tab mode' },
      { keys: 'f', does: 'the --where filter', hint: 'f filter' },
      { keys: '↑↓', does: 'query, filter, results', hint: '↑↓ focus' },
      { keys: 'Enter', does: 'to results; open hit', hint: '⏎ open' },
      { keys: 'Ctrl-U', does: 'clear the line' },
      { keys: 'Esc', does: 'close the search' },
    ],
  },
};
