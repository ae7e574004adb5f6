/**
 * Text chunking for RAG: cut a document into pieces of at most `size` characters that end at the
 * strongest boundary within reach, with a little overlap between neighbours.
 *
 * The model is LangChain's RecursiveCharacterTextSplitter with Markdown awareness: split at headings
 * first, then blank lines, single newlines, sentence ends, spaces and, as the last resort, anywhere
 * between two characters (never inside a surrogate pair, nor inside a grapheme when avoidable).
 * Instead of splitting recursively and merging the pieces back, one linear scan finds every place
 * the text may be cut (a "break") and how strong a cut there is; each chunk then ends at the last
 * break of the strongest kind within `size` characters. A chunk that continues a unit the previous
 * chunk had to cut (a section, a paragraph, a line, a sentence) ends no later than that unit, as
 * the recursive splitter never merges the pieces of a big unit with its neighbours. A heading stays
 * with what follows it: a chunk ends with a heading only when the heading and its paragraph cannot
 * fit together.
 *
 * Every chunk is a slice of the source: `chunk.text === source.slice(chunk.start, chunk.end)`, with
 * no whitespace at either end. Sizes are UTF-16 code units (`string.length`).
 */

export interface Chunk {
  /** 0, 1, 2... in document order. */
  index: number;
  /** `source.slice(start, end)`: never rewritten, only trimmed of surrounding whitespace. */
  text: string;
  start: number;
  end: number;
}

export interface ChunkOptions {
  /** Largest chunk, in UTF-16 code units; at least 1. */
  size: number;
  /** Most characters a chunk repeats from the end of the previous one; 0 <= overlap < size. */
  overlap: number;
}

/**
 * Break strengths, weakest first. A heading break is stronger the higher the heading (`#` > `##`),
 * so a chunk that can hold a whole `#` section ends there rather than at one of its `##`s.
 * The break between a heading line and what follows it is the weakest break between lines, and the
 * spaces inside a heading line are weaker still: a chunk ends with a heading only when nothing
 * better is within reach, which means the heading and the paragraph under it do not fit together.
 */
const HARD_CUT = 0;
const IN_HEADING = 1;
const AFTER_HEADING = 2;
const WORD = 3;
const SENTENCE = 4;
const LINE = 5;
const PARAGRAPH = 6;
/** Break before a heading of depth d (1..6): HEADING_1 + 1 - d, so 12 for `#`, 7 for `######`. */
const HEADING_1 = 12;

/** Where the text may be cut: the chunk before ends at `end`, the text after resumes at `next`. */
interface Breaks {
  /** End of the text before the break (just after its last non-whitespace character). */
  end: number[];
  /** First non-whitespace character after the break; equals `end` for breaks inside CJK text. */
  next: number[];
  strength: number[];
}

export function chunkText(text: string, options: ChunkOptions): Chunk[] {
  validate(text, options);
  const { size, overlap } = options;

  let textStart = 0;
  while (textStart < text.length && isSpace(text.charCodeAt(textStart))) textStart++;
  let textEnd = text.length;
  while (textEnd > textStart && isSpace(text.charCodeAt(textEnd - 1))) textEnd--;
  if (textStart === textEnd) return [];
  if (textEnd - textStart <= size) return [{ index: 0, text: text.slice(textStart, textEnd), start: textStart, end: textEnd }];

  const breaks = findBreaks(text, textStart, textEnd);
  const count = breaks.end.length;
  const chunks: Chunk[] = [];

  let newStart = textStart; // first character no chunk holds yet
  let cursor = 0; // first break whose end lies after newStart
  let startsSection = false; // the text at newStart begins with a heading
  // The strength of the break the previous chunk ended at. A chunk that continues a unit the
  // previous chunk cut (a section, a paragraph, a line...) ends, at the latest, where that unit
  // ends: the first break stronger than this one. As in the recursive splitter, the pieces of a
  // unit too big for one chunk are merged among themselves, never with the next unit.
  let continues = Number.POSITIVE_INFINITY;
  while (newStart < textEnd) {
    while (cursor < count && (breaks.end[cursor] as number) <= newStart) cursor++;

    const previous = chunks[chunks.length - 1];
    let chunkStart = newStart;
    if (previous !== undefined && overlap > 0 && !startsSection) {
      chunkStart = snapForward(breaks, Math.max(previous.end - overlap, previous.start + 1), newStart);
    }

    // The strongest break within reach; the last one of that strength, so pieces are merged greedily
    // (for breaks after headings, see headingChainCut). Two reaches: with the overlap in front
    // (reachWith) and without it (reachWithout). The overlap only stays if it costs nothing in break
    // strength; otherwise it shrinks to what still fits.
    const reachWith = chunkStart + size;
    const reachWithout = newStart + size;
    let bestWith = -1;
    let bestWithStrength = -1;
    let bestWithout = -1;
    let bestWithoutStrength = -1;
    for (let b = cursor; b < count; b++) {
      const end = breaks.end[b] as number;
      if (end > reachWithout) break;
      const strength = breaks.strength[b] as number;
      if (strength >= bestWithoutStrength) {
        bestWithout = b;
        bestWithoutStrength = strength;
      }
      if (end <= reachWith && strength >= bestWithStrength) {
        bestWith = b;
        bestWithStrength = strength;
      }
      if (strength > continues) break;
    }
    if (bestWithStrength === AFTER_HEADING) bestWith = headingChainCut(breaks, cursor, bestWith, textEnd, size);
    if (bestWithoutStrength === AFTER_HEADING) bestWithout = headingChainCut(breaks, cursor, bestWithout, textEnd, size);
    let end: number;
    let next: number;
    let cutBreak = -1; // the break this chunk ends at, if any
    const unitEnds = bestWithout !== -1 && (breaks.strength[bestWithout] as number) > continues;
    if (textEnd <= reachWith && !unitEnds) {
      end = textEnd;
      next = textEnd;
    } else if (textEnd <= reachWithout && !unitEnds) {
      end = textEnd;
      next = textEnd;
      chunkStart = snapForward(breaks, Math.max(chunkStart, end - size), newStart);
    } else if (bestWithout === -1) {
      // Nothing to cut at within `size` characters: cut between two characters (graphemes if possible).
      end = hardCut(text, chunkStart, newStart, chunkStart + size);
      if (end <= newStart) {
        chunkStart = newStart;
        end = hardCut(text, newStart, newStart, newStart + size);
      }
      next = end;
      while (next < textEnd && isSpace(text.charCodeAt(next))) next++;
    } else if (bestWith !== -1 && bestWithStrength >= bestWithoutStrength) {
      cutBreak = bestWith;
      end = breaks.end[bestWith] as number;
      next = breaks.next[bestWith] as number;
    } else {
      cutBreak = bestWithout;
      end = breaks.end[bestWithout] as number;
      next = breaks.next[bestWithout] as number;
      chunkStart = snapForward(breaks, Math.max(chunkStart, end - size), newStart);
    }

    chunks.push({ index: chunks.length, text: text.slice(chunkStart, end), start: chunkStart, end });
    // No overlap into a new section: the text before a heading is not context for it.
    const cutStrength = cutBreak >= 0 ? (breaks.strength[cutBreak] as number) : HARD_CUT;
    startsSection = cutStrength > PARAGRAPH;
    // After a heading that could not keep its paragraph, that paragraph is the unit being continued.
    continues = cutStrength === AFTER_HEADING ? LINE : cutStrength;
    newStart = next;
  }
  return chunks;
}

/**
 * When the best break within reach is one after a heading, every break in reach lies in one chain
 * of heading lines (nothing stronger is in reach), and the paragraph under the chain starts or ends
 * beyond reach. Cut after the first heading from which the rest of the chain and that paragraph fit
 * in the next chunk, so no heading is left at a chunk's end while its paragraph would fit with it;
 * when there is none, after the last heading in reach, as for any other break.
 */
function headingChainCut(breaks: Breaks, first: number, last: number, textEnd: number, size: number): number {
  // The end of the paragraph under the chain: the first paragraph (or heading) break after it.
  const horizon = (breaks.next[last] as number) + size;
  let p = last + 1;
  while (p < breaks.end.length && (breaks.strength[p] as number) < PARAGRAPH && (breaks.end[p] as number) <= horizon) p++;
  const paragraphEnd = p < breaks.end.length ? (breaks.end[p] as number) : textEnd;
  if (paragraphEnd > horizon) return last;
  for (let b = first; b < last; b++) {
    if ((breaks.strength[b] as number) === AFTER_HEADING && paragraphEnd - (breaks.next[b] as number) <= size) return b;
  }
  return last;
}

function validate(text: string, options: ChunkOptions): void {
  if (typeof text !== 'string') throw new TypeError('chunkText: text must be a string');
  if (options === null || typeof options !== 'object') throw new TypeError('chunkText: options must be { size, overlap }');
  const { size, overlap } = options;
  if (!Number.isInteger(size) || size < 1) throw new TypeError(`chunkText: size must be an integer >= 1, got ${String(size)}`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) {
    throw new TypeError(`chunkText: overlap must be an integer with 0 <= overlap < size (${size}), got ${String(overlap)}`);
  }
}

/**
 * The first word start at or after `from` and before `limit` (a break's `next`), or `limit` when
 * there is none: an overlap begins at a word, or not at all.
 */
function snapForward(breaks: Breaks, from: number, limit: number): number {
  const next = breaks.next;
  let lo = 0;
  let hi = next.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((next[mid] as number) < from) lo = mid + 1;
    else hi = mid;
  }
  const found = next[lo];
  return found !== undefined && found < limit ? found : limit;
}

let graphemes: Intl.Segmenter | undefined;

/**
 * A cut at or before `at`, after `floor`, that splits no grapheme (emoji sequences, combining marks)
 * when one can be found and never a surrogate pair; if even one code point does not fit (size 1 and
 * an astral character), the cut lets that one code point through.
 */
function hardCut(text: string, chunkStart: number, floor: number, at: number): number {
  if (at <= floor) return floor;
  // Between two characters below U+0300 (no combining marks, joiners or surrogates) except CR LF, any cut is clean.
  const before = text.charCodeAt(at - 1);
  const after = text.charCodeAt(at);
  if (before < 0x300 && after < 0x300 && !(before === 0x0d && after === 0x0a)) return at;
  graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const windowStart = Math.max(floor, at - 32);
  let best = -1;
  for (const { index } of graphemes.segment(text.slice(windowStart, Math.min(text.length, at + 32)))) {
    const position = windowStart + index;
    if (position > at) break;
    if (position > floor) best = position;
  }
  if (best > floor) return best;
  let cut = at;
  if (isHighSurrogate(text.charCodeAt(cut - 1)) && isLowSurrogate(text.charCodeAt(cut))) cut--;
  if (cut > floor) return cut;
  // One code point wider than the whole chunk: take it whole rather than split it.
  return chunkStart === floor && isHighSurrogate(text.charCodeAt(floor)) ? floor + 2 : floor;
}

/**
 * Every place the text may be cut, in order, with its strength. One pass over the text: each run of
 * whitespace is a break (its strength from the newlines it holds and the lines around it), and so is
 * the point after CJK sentence or clause punctuation, which is not followed by spaces.
 */
function findBreaks(text: string, textStart: number, textEnd: number): Breaks {
  const breaks: Breaks = { end: [], next: [], strength: [] };
  let inFence = false;
  let fenceChar = 0;
  let fenceLength = 0;
  // The line holding the text just before position i: is it a heading?
  let lineIsHeading = false;
  ({ lineIsHeading, inFence, fenceChar, fenceLength } = classifyLine(text, text.lastIndexOf('\n', textStart - 1) + 1, textStart, {
    inFence,
    fenceChar,
    fenceLength,
  }));

  let sentenceEnd = false; // the text just before i ends a sentence ("." "!" "?" then closers)
  let cjkEnd = 0; // strength of a break after CJK punctuation just before i (0: none)
  let i = textStart;
  while (i < textEnd) {
    const code = text.charCodeAt(i);
    if (!isSpace(code)) {
      if (cjkEnd !== 0) {
        if (isCloser(code)) {
          i++;
          continue;
        }
        breaks.end.push(i);
        breaks.next.push(i);
        breaks.strength.push(lineIsHeading ? IN_HEADING : cjkEnd);
        cjkEnd = 0;
      }
      if (code === 0x2e || code === 0x21 || code === 0x3f) sentenceEnd = true;
      else if (code === 0x3002 || code === 0xff01 || code === 0xff1f) {
        sentenceEnd = true;
        cjkEnd = SENTENCE;
      } else if (code === 0xff0c || code === 0x3001 || code === 0xff1b || code === 0xff1a) {
        sentenceEnd = false;
        cjkEnd = WORD;
      } else if (!(sentenceEnd && isCloser(code))) sentenceEnd = false;
      i++;
      continue;
    }
    // A run of whitespace: [i, j).
    const runStart = i;
    let newlines = 0;
    let lastNewline = -1;
    let j = i;
    for (; j < textEnd; j++) {
      const c = text.charCodeAt(j);
      if (c === 0x0a) {
        newlines++;
        lastNewline = j;
      } else if (!isSpace(c)) break;
    }
    let strength: number;
    if (newlines === 0) {
      strength = lineIsHeading ? IN_HEADING : sentenceEnd ? SENTENCE : WORD;
    } else {
      const previousIsHeading = lineIsHeading;
      const state = classifyLine(text, lastNewline + 1, j, { inFence, fenceChar, fenceLength });
      ({ lineIsHeading, inFence, fenceChar, fenceLength } = state);
      if (previousIsHeading) strength = AFTER_HEADING;
      else if (state.headingDepth > 0) strength = HEADING_1 + 1 - state.headingDepth;
      else strength = newlines > 1 ? PARAGRAPH : LINE;
    }
    breaks.end.push(runStart);
    breaks.next.push(j);
    breaks.strength.push(strength);
    sentenceEnd = false;
    cjkEnd = 0;
    i = j;
  }
  return breaks;
}

interface FenceState {
  inFence: boolean;
  fenceChar: number;
  fenceLength: number;
}

/**
 * The line starting at `lineStart` whose first non-whitespace character is at `at`: is it a heading
 * (ATX: up to three spaces, `#`..`######`, then a space, a tab or the end of the line; outside fenced
 * code), and the fence state after it (a line of three or more backticks or tildes opens a fence;
 * the same character, at least as many times, closes it).
 */
function classifyLine(
  text: string,
  lineStart: number,
  at: number,
  state: FenceState,
): FenceState & { lineIsHeading: boolean; headingDepth: number } {
  let { inFence, fenceChar, fenceLength } = state;
  let headingDepth = 0;
  let indented = at - lineStart > 3;
  for (let k = lineStart; k < at && !indented; k++) indented = text.charCodeAt(k) !== 0x20;
  if (!indented) {
    const first = text.charCodeAt(at);
    if (first === 0x60 || first === 0x7e) {
      let run = 0;
      while (text.charCodeAt(at + run) === first) run++;
      if (run >= 3) {
        if (!inFence) {
          inFence = true;
          fenceChar = first;
          fenceLength = run;
        } else if (first === fenceChar && run >= fenceLength) {
          inFence = false;
        }
      }
    } else if (first === 0x23 && !inFence) {
      let run = 0;
      while (text.charCodeAt(at + run) === 0x23) run++;
      const after = text.charCodeAt(at + run);
      if (run <= 6 && (Number.isNaN(after) || after === 0x20 || after === 0x09 || after === 0x0a || after === 0x0d)) headingDepth = run;
    }
  }
  return { inFence, fenceChar, fenceLength, lineIsHeading: headingDepth > 0, headingDepth };
}

/** The characters JavaScript's `\s` matches. */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** Closing quotes and brackets that may follow a sentence's final punctuation. */
function isCloser(code: number): boolean {
  return (
    code === 0x22 || // "
    code === 0x27 || // '
    code === 0x29 || // )
    code === 0x5d || // ]
    code === 0x2019 || // ’
    code === 0x201d || // ”
    code === 0xbb || // »
    code === 0x300d || // 」
    code === 0x300f || // 』
    code === 0xff09 || // ）
    code === 0x3011 || // 】
    code === 0x300b // 》
  );
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
