import type { SearchHit } from '../engine/types.js';
import { renderTable, snippet } from './table.js';

/** The human table: rank, id, score, a one-line snippet (document id shown for chunks). */
export function renderHits(hits: readonly SearchHit[], startRank = 1): string {
  return renderTable(
    ['rank', 'id', 'score', 'text'],
    hits.map((hit, i) => [String(startRank + i), hit.id, hit.score.toFixed(4), snippet(hit.text)]),
    { align: ['right', 'left', 'right'] },
  );
}

/** Where a passage came from, for a prompt: title or path when known, else the document id. */
function sourceOf(hit: SearchHit): string {
  const metadata = hit.metadata ?? {};
  const named = [metadata.title, metadata.path, metadata.source].find((value): value is string => typeof value === 'string');
  const document = hit.parent ?? hit.id;
  return named === undefined ? document : `${named} (${document})`;
}

/**
 * Hits as context for an LLM prompt: each passage under a numbered source marker, best first,
 * within `maxChars` (the last passage that does not fit is cut at a word, with "…").
 */
export function renderContext(hits: readonly SearchHit[], maxChars = Number.POSITIVE_INFINITY): string {
  const parts: string[] = [];
  let used = 0;
  for (const [i, hit] of hits.entries()) {
    const header = `[${i + 1}] ${sourceOf(hit)}`;
    const text = (hit.text ?? '').trim();
    const separator = parts.length === 0 ? 0 : 2;
    const room = maxChars - used - separator - header.length - 1;
    if (room <= 0) break;
    if (text.length <= room) {
      parts.push(`${header}\n${text}`);
      used += separator + header.length + 1 + text.length;
      continue;
    }
    const cut = text.slice(0, room - 1).replace(/\s+\S*$/, '');
    if (cut.length > 0) parts.push(`${header}\n${cut}…`);
    break;
  }
  return parts.join('\n\n');
}
