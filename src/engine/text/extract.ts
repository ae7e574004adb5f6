/**
 * Document text extraction by file extension: Markdown and plain text as they are, HTML as its
 * visible text (html-to-text), with a title where the format has one. Pure: the caller reads the file.
 */
import { extname } from 'node:path';
import { compile } from 'html-to-text';

export type DocumentFormat = 'markdown' | 'text' | 'html';

export interface ExtractedDocument {
  text: string;
  title: string | undefined;
  format: DocumentFormat;
}

/** Lower-case extensions, with their dot, that extractDocument understands. */
export const SUPPORTED_EXTENSIONS = Object.freeze(['.md', '.markdown', '.txt', '.html', '.htm'] as const);

const FORMATS: Readonly<Record<string, DocumentFormat>> = {
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.html': 'html',
  '.htm': 'html',
};

/** The format a path's extension (case-insensitive) maps to, or undefined. */
export function formatOf(path: string): DocumentFormat | undefined {
  return FORMATS[extname(path).toLowerCase()];
}

export function extractDocument(path: string, content: string): ExtractedDocument {
  if (typeof path !== 'string' || typeof content !== 'string') throw new TypeError('extractDocument: path and content must be strings');
  const format = formatOf(path);
  if (format === undefined) {
    const extension = extname(path) || '(none)';
    throw new TypeError(`extractDocument: unsupported file extension ${extension} for ${path}; supported: ${SUPPORTED_EXTENSIONS.join(', ')}`);
  }
  switch (format) {
    case 'markdown':
      return { text: content, title: markdownTitle(content), format };
    case 'text':
      return { text: content, title: undefined, format };
    case 'html':
      return { text: htmlText(content), title: htmlTitle(content), format };
  }
}

/** Front matter's `title:`, else the first `# ` heading (or Setext `===` heading) outside code fences. */
function markdownTitle(content: string): string | undefined {
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  let first = 0;
  if (lines[0]?.trimEnd() === '---') {
    const close = lines.findIndex((line, i) => i > 0 && /^(---|\.\.\.)\s*$/.test(line));
    if (close > 0) {
      for (const line of lines.slice(1, close)) {
        const match = /^title\s*:\s*(.*)$/.exec(line);
        if (match !== null) {
          const title = unquote((match[1] ?? '').trim());
          if (title.length > 0) return title;
        }
      }
      first = close + 1;
    }
  }
  let fence: string | undefined;
  for (let i = first; i < lines.length; i++) {
    const line = lines[i] as string;
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch !== null) {
      const marker = fenceMatch[1] as string;
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const atx = /^ {0,3}#(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (atx !== null) {
      const title = (atx[1] ?? '').trim();
      if (title.length > 0) return title;
      continue;
    }
    const next = lines[i + 1];
    if (next !== undefined && /^ {0,3}=+[ \t]*$/.test(next) && line.trim().length > 0 && !/^ {0,3}(?:[-*+>]|\d+[.)])\s/.test(line)) {
      return line.trim();
    }
  }
  return undefined;
}

function unquote(value: string): string {
  if (value.length >= 2) {
    const first = value[0];
    if ((first === '"' || first === "'") && value.endsWith(first)) return value.slice(1, -1).trim();
  }
  return value;
}

const HEADINGS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'] as const;

/** html-to-text, set for chunking: no wrapping, blocks separated by blank lines, no URLs or images. */
const toText = compile({
  wordwrap: false,
  // The default (16 MiB) truncates silently; a document is read whole anyway.
  limits: { maxInputLength: Number.MAX_SAFE_INTEGER },
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'noscript', format: 'skip' },
    { selector: 'template', format: 'skip' },
    { selector: 'svg', format: 'skip' },
    { selector: 'iframe', format: 'skip' },
    { selector: 'nav', format: 'skip' },
    { selector: 'ul', options: { itemPrefix: '- ' } },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    ...HEADINGS.map((selector) => ({ selector, options: { uppercase: false, leadingLineBreaks: 2, trailingLineBreaks: 2 } })),
  ],
});

/** Inline markup to plain text (for titles): entities decoded, tags dropped, whitespace collapsed. */
const inlineText = compile({ wordwrap: false, selectors: [{ selector: 'a', options: { ignoreHref: true } }, { selector: 'img', format: 'skip' }] });

function htmlText(content: string): string {
  return toText(content)
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** `<title>`, else the first `<h1>`; comments, scripts and styles cannot fake either. */
function htmlTitle(content: string): string | undefined {
  const markup = content.replace(/<!--[\s\S]*?-->/g, '').replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '');
  for (const pattern of [/<title\b[^>]*>([\s\S]*?)<\/title\s*>/i, /<h1\b[^>]*>([\s\S]*?)<\/h1\s*>/i]) {
    const match = pattern.exec(markup);
    if (match === null) continue;
    const title = inlineText(match[1] ?? '').replace(/\s+/g, ' ').trim();
    if (title.length > 0) return title;
  }
  return undefined;
}
