/** Pure text helpers of the TUI: fitting cells to widths, previews, numbers, bars, sparklines, trees. */
import type { Metadata } from '../engine/types.js';
import type { Theme } from './theme.js';

/** Code points of a string (so a cut never splits a surrogate pair). */
function chars(text: string): string[] {
  return Array.from(text);
}

/** Cut to at most `width` characters, ending with "…" when cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  const all = chars(text);
  if (all.length <= width) return text;
  return `${all.slice(0, width - 1).join('')}…`;
}

/** Exactly `width` characters: cut (with "…") or padded with spaces, on the right or the left. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width);
  const pad = ' '.repeat(Math.max(0, width - chars(cut).length));
  return align === 'left' ? cut + pad : pad + cut;
}

/** One line of text: newlines, tabs and control characters become single spaces. */
export function oneLine(text: string | undefined): string {
  if (text === undefined) return '';
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ').trim();
}

/** 1234567 → "1,234,567". */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** Bytes in the nearest unit: "812 B", "4.1 KB", "12.3 MB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Milliseconds with a precision that suits them: "0.42 ms", "3.1 ms", "120 ms". */
export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

/** A score as the CLI table shows it. */
export function formatScore(score: number): string {
  return Math.abs(score) >= 1000 ? score.toExponential(2) : score.toFixed(4);
}

/** Wraps text to lines of at most `width` characters, at spaces where it can; paragraphs kept. */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  const room = Math.max(1, width);
  for (const paragraph of text.replace(/\r\n?/g, '\n').replace(/\t/g, '  ').split('\n')) {
    // eslint-disable-next-line no-control-regex
    let rest = chars(paragraph.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trimEnd());
    if (rest.length === 0) lines.push('');
    while (rest.length > 0) {
      if (rest.length <= room) {
        lines.push(rest.join(''));
        break;
      }
      let cut = rest.lastIndexOf(' ', room);
      if (cut <= 0) cut = room;
      lines.push(rest.slice(0, cut).join('').trimEnd());
      rest = rest.slice(cut);
      while (rest[0] === ' ') rest = rest.slice(1);
    }
  }
  return lines;
}

/** Euclidean norm. */
export function norm(vector: readonly number[]): number {
  let sum = 0;
  for (const value of vector) sum += value * value;
  return Math.sqrt(sum);
}

const BLOCKS = '▁▂▃▄▅▆▇█';
const ASCII_LEVELS = '_.-:=+*#';

/** One character per value, its height between the smallest and the largest value shown. */
export function sparkline(values: readonly number[], theme: Pick<Theme, 'unicode'>): string {
  const levels = theme.unicode ? BLOCKS : ASCII_LEVELS;
  if (values.length === 0) return '';
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  const span = max - min;
  return values.map((value) => levels[span === 0 ? 3 : Math.round(((value - min) / span) * (levels.length - 1))]).join('');
}

/** A bar of `width` cells filled to `fraction` (0..1), with eighth-cell precision in Unicode. */
export function bar(fraction: number, width: number, theme: Pick<Theme, 'unicode'>): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  if (!theme.unicode) {
    const full = Math.round(f * width);
    return '#'.repeat(full) + '.'.repeat(width - full);
  }
  const eighths = Math.round(f * width * 8);
  const full = Math.floor(eighths / 8);
  const part = eighths % 8;
  const partial = part === 0 ? '' : (' ▏▎▍▌▋▊▉'[part] as string);
  return ('█'.repeat(full) + partial).padEnd(width, ' ');
}

/**
 * Where each score sits among the results, for its bar: the best hit gets a full bar. For l2
 * (vector mode), lower is better: the nearest distance over each distance.
 */
export function scoreFractions(scores: readonly number[], lowerIsBetter: boolean): number[] {
  if (scores.length === 0) return [];
  if (lowerIsBetter) {
    const best = Math.min(...scores);
    return scores.map((s) => (s <= 0 ? 1 : best <= 0 ? 0 : best / s));
  }
  const best = Math.max(...scores);
  return scores.map((s) => (best <= 0 ? 0 : Math.max(0, s) / best));
}

/** Metadata as tree lines: `├─ key: value`, nested objects and arrays indented under their key. */
export function metadataTree(metadata: Metadata | undefined, theme: Pick<Theme, 'unicode'>): string[] {
  if (metadata === undefined || Object.keys(metadata).length === 0) return ['(no metadata)'];
  const [tee, elbow, pipe] = theme.unicode ? ['├─ ', '└─ ', '│  '] : ['|- ', '`- ', '|  '];
  const lines: string[] = [];
  const walk = (entries: [string, unknown][], prefix: string): void => {
    entries.forEach(([key, value], i) => {
      const last = i === entries.length - 1;
      const branch = prefix + (last ? elbow : tee);
      const below = prefix + (last ? '   ' : pipe);
      if (value !== null && typeof value === 'object') {
        const children: [string, unknown][] = Array.isArray(value) ? value.map((v, j) => [`[${j}]`, v]) : Object.entries(value as Record<string, unknown>);
        if (children.length === 0) lines.push(`${branch}${key}: ${Array.isArray(value) ? '[]' : '{}'}`);
        else {
          lines.push(`${branch}${key}`);
          walk(children, below);
        }
      } else lines.push(`${branch}${key}: ${JSON.stringify(value) ?? String(value)}`);
    });
  };
  walk(Object.entries(metadata), '');
  return lines;
}
