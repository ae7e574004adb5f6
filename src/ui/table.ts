import chalk from 'chalk';

export interface TableOptions {
  align?: ('left' | 'right')[];
  /** Width of the terminal; the last column is cut to fit. */
  width?: number;
}

/** A plain aligned table with a dim header: enough for a terminal, trivially parseable by eye. */
export function renderTable(header: string[], rows: string[][], options: TableOptions = {}): string {
  const widths = header.map((title, col) => Math.max(title.length, ...rows.map((row) => (row[col] ?? '').length)));
  const last = widths.length - 1;
  const width = options.width ?? process.stdout.columns;
  if (width !== undefined && last >= 0) {
    const fixed = widths.slice(0, last).reduce((sum, w) => sum + w + 2, 0);
    widths[last] = Math.max(10, Math.min(widths[last] ?? 0, width - fixed));
  }
  const line = (cells: string[]): string =>
    cells
      .map((cell, col) => {
        const w = widths[col] ?? 0;
        const text = cell.length > w ? `${cell.slice(0, Math.max(0, w - 1))}…` : cell;
        return options.align?.[col] === 'right' ? text.padStart(w) : col === last ? text : text.padEnd(w);
      })
      .join('  ');
  return [chalk.dim(line(header)), ...rows.map(line)].join('\n');
}

/** One line of text for a table cell: whitespace folded. */
export function snippet(text: string | undefined, max = 120): string {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
