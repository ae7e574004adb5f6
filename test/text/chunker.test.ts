import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkText, type Chunk } from '../../src/engine/text/chunker.js';
import { seededRandom } from '../../src/engine/random.js';

// ---------------------------------------------------------------------------------------------
// The guarantees, checked for any text and options.

const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/.test(ch);
const isHigh = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLow = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;
/** Punctuation after which CJK text may be cut without a space (and closers that may follow it). */
const CJK_BREAK_AFTER = new Set([...'。！？，、；：」』）】》', '"', "'", ')', ']', '’', '”', '»']);

/** Markdown lines as the chunker sees them: headings outside fenced code. */
interface Line {
  start: number;
  end: number; // before the '\n'
  heading: boolean;
  blank: boolean;
}

function classifyLines(source: string): Line[] {
  const lines: Line[] = [];
  let fence: string | undefined;
  let start = 0;
  for (;;) {
    const newline = source.indexOf('\n', start);
    const end = newline === -1 ? source.length : newline;
    const line = source.slice(start, end);
    let heading = false;
    const blank = line.trim().length === 0;
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch !== null) {
      const marker = fenceMatch[1] as string;
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
    } else if (fence === undefined && /^ {0,3}#{1,6}(?:[ \t\r]|$)/.test(line)) {
      heading = true;
    }
    lines.push({ start, end, heading, blank });
    if (newline === -1) break;
    start = newline + 1;
  }
  return lines;
}

function lineIndexAt(lines: Line[], position: number): number {
  let lo = 0;
  let hi = lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((lines[mid] as Line).start <= position) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function trimmedBounds(source: string, start: number, end: number): [number, number] {
  while (start < end && isSpace(source[start])) start++;
  while (end > start && isSpace(source[end - 1])) end--;
  return [start, end];
}

/** Asserts every documented guarantee of chunkText for one text and options; `label` names the case. */
function checkChunks(source: string, chunks: Chunk[], size: number, overlap: number, label: string): void {
  const fail = (message: string): never => assert.fail(`${label}: ${message}`);
  const [textStart, textEnd] = trimmedBounds(source, 0, source.length);

  if (textStart === textEnd) {
    if (chunks.length !== 0) fail('whitespace-only text must give no chunks');
    return;
  }
  if (textEnd - textStart <= size) {
    assert.deepEqual(chunks, [{ index: 0, text: source.slice(textStart, textEnd), start: textStart, end: textEnd }], `${label}: one trimmed chunk`);
    return;
  }

  const lines = classifyLines(source);
  let covered = 0;
  chunks.forEach((chunk, i) => {
    const where = `chunk ${i} [${chunk.start}, ${chunk.end})`;
    if (chunk.index !== i) fail(`${where} has index ${chunk.index}`);
    if (!(chunk.start >= 0 && chunk.start < chunk.end && chunk.end <= source.length)) fail(`${where}: bad offsets`);
    if (chunk.text !== source.slice(chunk.start, chunk.end)) fail(`${where}: text is not source.slice(start, end)`);
    if (isSpace(chunk.text[0]) || isSpace(chunk.text[chunk.text.length - 1])) fail(`${where}: not trimmed`);
    const length = chunk.end - chunk.start;
    const oneAstral = size === 1 && length === 2 && isHigh(chunk.text.charCodeAt(0));
    if (length > size && !oneAstral) fail(`${where}: ${length} characters > size ${size}`);
    if (isLow(source.charCodeAt(chunk.start)) && isHigh(source.charCodeAt(chunk.start - 1))) fail(`${where}: starts inside a surrogate pair`);
    if (isHigh(source.charCodeAt(chunk.end - 1)) && isLow(source.charCodeAt(chunk.end))) fail(`${where}: ends inside a surrogate pair`);

    // Coverage: no non-whitespace character between what earlier chunks cover and this chunk.
    for (let p = covered; p < chunk.start; p++) if (!isSpace(source[p])) fail(`${where}: character ${p} (${JSON.stringify(source[p])}) is in no chunk`);

    const previous = chunks[i - 1];
    if (previous !== undefined) {
      if (!(chunk.start > previous.start && chunk.end > previous.end)) fail(`${where}: out of order after [${previous.start}, ${previous.end})`);
      const shared = Math.max(0, previous.end - chunk.start);
      if (shared > overlap) fail(`${where}: overlaps the previous chunk by ${shared} > ${overlap}`);
      if (shared > 0 && !isSpace(source[chunk.start - 1]) && !CJK_BREAK_AFTER.has(source[chunk.start - 1] as string)) {
        fail(`${where}: the overlap does not start at a word`);
      }
    }

    // Headings stay with their paragraphs: a chunk (but the last) ends with a heading line only if the
    // heading and the paragraph under it (after any further headings) do not fit in one chunk.
    if (i < chunks.length - 1) {
      let li = lineIndexAt(lines, chunk.end - 1);
      const headingLine = lines[li] as Line;
      if (headingLine.heading) {
        const headingStart = trimmedBounds(source, headingLine.start, headingLine.end)[0];
        li++;
        while (li < lines.length && ((lines[li] as Line).blank || (lines[li] as Line).heading)) li++;
        let blockEnd = -1; // stays -1 if only headings follow: no paragraph to keep the heading with
        while (li < lines.length && !(lines[li] as Line).blank && !(lines[li] as Line).heading) blockEnd = (lines[li++] as Line).end;
        const fits = blockEnd !== -1 && trimmedBounds(source, headingStart, blockEnd)[1] - headingStart <= size;
        if (fits) fail(`${where} ends with the heading ${JSON.stringify(source.slice(headingStart, headingLine.end))} though its paragraph fits with it`);
      }
    }
    covered = Math.max(covered, chunk.end);
  });
  for (let p = covered; p < source.length; p++) if (!isSpace(source[p])) fail(`character ${p} after the last chunk is in no chunk`);
  checkHardCuts(source, chunks, size, label);
}

/**
 * Hard cuts are the last resort: a chunk ends inside a run of non-whitespace (not after CJK
 * punctuation) only if the text it added has no whitespace nor CJK break at all.
 */
function checkHardCuts(source: string, chunks: Chunk[], size: number, label: string): void {
  let newStart = chunks[0]?.start ?? 0;
  for (const chunk of chunks) {
    const inWord = chunk.end < source.length && !isSpace(source[chunk.end]) && !CJK_BREAK_AFTER.has(source[chunk.end - 1] as string);
    if (inWord) {
      const added = source.slice(newStart, chunk.end);
      if (/\s/.test(added)) assert.fail(`${label}: chunk ${chunk.index} is cut inside a word though its new text ${JSON.stringify(added)} has spaces`);
      const oneAstral = size === 1 && chunk.end - newStart === 2 && isHigh(source.charCodeAt(newStart));
      if (chunk.end - newStart > size && !oneAstral) assert.fail(`${label}: chunk ${chunk.index} is cut beyond its size`);
    }
    newStart = chunk.end;
    while (newStart < source.length && isSpace(source[newStart])) newStart++;
  }
}

// ---------------------------------------------------------------------------------------------
// Random Markdown-ish documents.

const WORDS = [
  'the', 'vector', 'index', 'stores', 'a', 'query', 'returns', 'nearest', 'neighbours', 'of', 'embedding', 'chunk',
  'overlap', 'heading', 'paragraph', 'LevelDB', 'FAISS', 'recall', 'latency', 'is', 'and', 'to', 'in', 'café', 'naïve',
  'e.g.', 'v1.2', '3.14', 'end.', '(see', 'notes)', '"quoted"', 'x', 'I', 'Ahab', 'whale',
];
const EMOJI = ['😀', '🚀', '👍🏽', '👨‍👩‍👧', '🇫🇷', '❤️', 'e\u0301', '𝔘𝔫𝔦'];
const CJK = ['日本語の文章です', '検索', 'ベクトル', '数据库', '向量检索很快', '한국어 문장'];
const SPACES = [' ', ' ', ' ', ' ', '  ', '\t', '\u00a0', ' \u3000'];

function generator(seed: number) {
  const random = seededRandom(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const longWord = (): string => {
    const alphabet = random() < 0.5 ? 'abcdefghijklmnopqrstuvwxyz0123456789/-_.' : '😀数据ab🚀';
    let word = random() < 0.5 ? 'https://example.com/' : '';
    const length = int(20, 400);
    const chars = Array.from(alphabet);
    while (word.length < length) word += pick(chars);
    return word;
  };
  const word = (): string => {
    const r = random();
    if (r < 0.03) return longWord();
    if (r < 0.1) return pick(EMOJI);
    if (r < 0.15) return pick(CJK);
    return pick(WORDS);
  };
  const sentence = (): string => {
    if (random() < 0.12) {
      // CJK sentence: no spaces, full-width punctuation.
      let s = '';
      const parts = int(1, 4);
      for (let k = 0; k < parts; k++) s += pick(CJK) + (k < parts - 1 ? pick(['，', '、', '']) : '');
      return s + pick(['。', '！', '？', '。」']);
    }
    const words = Array.from({ length: int(1, 16) }, word);
    return words.join(' ') + pick(['.', '.', '!', '?', '."', '', ':']);
  };
  const paragraph = (): string => {
    const sentences = Array.from({ length: int(1, 7) }, sentence);
    let text = '';
    sentences.forEach((s, k) => {
      if (k > 0) text += random() < 0.2 ? pick(['\n', '\r\n', '  \n']) : pick(SPACES);
      text += s;
    });
    return text;
  };
  const block = (): string => {
    const r = random();
    if (r < 0.22) return `${' '.repeat(int(0, 1) * int(0, 3))}${'#'.repeat(int(1, 6))} ${Array.from({ length: int(1, 6) }, word).join(' ')}`;
    const heading = (): string => `${'#'.repeat(int(1, 6))} ${Array.from({ length: int(1, 4) }, word).join(' ')}`;
    if (r < 0.25) return Array.from({ length: int(2, 12) }, heading).join(pick(['\n', '\n\n']));
    if (r < 0.3) return Array.from({ length: int(1, 5) }, () => `${pick(['-', '*', '1.'])} ${sentence()}`).join('\n');
    if (r < 0.35) {
      const code = Array.from({ length: int(0, 4) }, () => pick(['x = 1', '# comment', '', 'print(x)']));
      return ['```' + pick(['', 'python', 'sh']), '# not a heading', ...code, '```'].join('\n');
    }
    if (r < 0.38) return '#hashtag is not a heading ' + sentence();
    if (r < 0.4) return longWord();
    return paragraph();
  };
  const document = (): string => {
    const blocks = Array.from({ length: int(0, 18) }, block);
    let text = random() < 0.2 ? pick(['\n', '  ', '\n\n \t']) : '';
    blocks.forEach((b, k) => {
      if (k > 0) text += pick(['\n\n', '\n\n', '\n\n', '\n', '\n\n\n', '\r\n\r\n', '\n \n']);
      text += b;
    });
    return text + (random() < 0.3 ? pick(['\n', '\n\n', ' ']) : '');
  };
  const options = (length: number): { size: number; overlap: number } => {
    const r = random();
    const size = r < 0.1 ? int(1, 8) : r < 0.5 ? int(9, 120) : r < 0.9 ? int(121, 800) : int(Math.max(1, length - 20), length + 20);
    const o = random();
    const overlap = o < 0.3 ? 0 : o < 0.8 ? int(0, Math.floor(size / 4)) : int(0, size - 1);
    return { size, overlap };
  };
  return { document, options, int, random };
}

// ---------------------------------------------------------------------------------------------

describe('chunkText: properties over random Markdown documents', () => {
  it('keeps every guarantee on 600 random documents with random size and overlap', () => {
    const gen = generator(20240607);
    let chunksSeen = 0;
    for (let n = 0; n < 600; n++) {
      const text = gen.document();
      for (let round = 0; round < 3; round++) {
        const { size, overlap } = gen.options(text.length);
        const chunks = chunkText(text, { size, overlap });
        checkChunks(text, chunks, size, overlap, `document ${n} (size ${size}, overlap ${overlap}) ${JSON.stringify(text.slice(0, 60))}...`);
        chunksSeen += chunks.length;
      }
    }
    assert.ok(chunksSeen > 5000, `only ${chunksSeen} chunks were checked`);
  });

  it('keeps every guarantee on texts without structure: one long word, CJK runs, emoji, spaces only', () => {
    const gen = generator(7);
    const texts = [
      'a'.repeat(1000),
      '😀'.repeat(300),
      '👨‍👩‍👧'.repeat(100),
      '数据库向量检索很快'.repeat(50),
      '日本語の文章です。'.repeat(40),
      ` ${'word '.repeat(300)}`,
      '\n\n\n   \t',
      'x',
      'a😀'.repeat(200),
    ];
    for (const [k, text] of texts.entries()) {
      for (const size of [1, 2, 3, 5, 7, 16, 50, 333]) {
        for (const overlap of [0, Math.floor(size / 2), size - 1]) {
          checkChunks(text, chunkText(text, { size, overlap }), size, overlap, `text ${k} (size ${size}, overlap ${overlap})`);
        }
      }
    }
    // And random sizes on a few more random documents, including size 1 and overlap size - 1.
    for (let n = 0; n < 100; n++) {
      const text = gen.document();
      const size = gen.int(1, 40);
      const overlap = gen.int(0, size - 1);
      checkChunks(text, chunkText(text, { size, overlap }), size, overlap, `small document ${n} (size ${size}, overlap ${overlap})`);
    }
  });

  it('is deterministic and ignores what lies beyond the text (same chunks for the same input)', () => {
    const gen = generator(99);
    const text = gen.document() + '\n\n' + gen.document();
    assert.deepEqual(chunkText(text, { size: 200, overlap: 40 }), chunkText(text, { size: 200, overlap: 40 }));
  });
});

describe('chunkText: hand-checked examples', () => {
  const guide = [
    '# Guide',
    '',
    'Piramid stores vectors. It is fast! Is it small? Yes.',
    '',
    '## Install',
    '',
    'Run npm install. Then build.',
    '',
    '## Use',
    '',
    'Open a database and query it with text. The results come back ranked by score.',
    '',
  ].join('\n');
  const texts = (chunks: Chunk[]): string[] => chunks.map((c) => c.text);

  it('splits a small Markdown document at its sections, keeping headings with their paragraphs', () => {
    assert.deepEqual(texts(chunkText(guide, { size: 100, overlap: 0 })), [
      '# Guide\n\nPiramid stores vectors. It is fast! Is it small? Yes.',
      '## Install\n\nRun npm install. Then build.',
      '## Use\n\nOpen a database and query it with text. The results come back ranked by score.',
    ]);
    // Large enough for the whole document: one chunk, trimmed.
    assert.deepEqual(chunkText(guide, { size: 200, overlap: 20 }), [{ index: 0, text: guide.trim(), start: 0, end: guide.trimEnd().length }]);
    // Two sections fit together: merged greedily, and the cut is before the heading that did not fit.
    assert.deepEqual(texts(chunkText(guide, { size: 110, overlap: 0 })), [
      '# Guide\n\nPiramid stores vectors. It is fast! Is it small? Yes.\n\n## Install\n\nRun npm install. Then build.',
      '## Use\n\nOpen a database and query it with text. The results come back ranked by score.',
    ]);
  });

  it('cuts a section that does not fit at sentence ends, and the rest of the cut paragraph stays on its own', () => {
    const chunks = chunkText(guide, { size: 60, overlap: 0 });
    assert.deepEqual(
      chunks.map((c) => [c.start, c.end, c.text]),
      [
        [0, 57, '# Guide\n\nPiramid stores vectors. It is fast! Is it small?'],
        [58, 62, 'Yes.'],
        [64, 104, '## Install\n\nRun npm install. Then build.'],
        [106, 153, '## Use\n\nOpen a database and query it with text.'],
        [154, 192, 'The results come back ranked by score.'],
      ],
    );
  });

  it('overlaps within a section, from a word start, and never across a heading', () => {
    assert.deepEqual(texts(chunkText(guide, { size: 60, overlap: 20 })), [
      '# Guide\n\nPiramid stores vectors. It is fast! Is it small?',
      'fast! Is it small? Yes.',
      '## Install\n\nRun npm install. Then build.',
      '## Use\n\nOpen a database and query it with text.',
      'query it with text. The results come back ranked by score.',
    ]);
  });

  it('does not leave a heading at the end of a chunk when it fits with its paragraph', () => {
    const text = 'Intro words here.\n\n## Setup\n\nInstall it.';
    // 'Intro words here.\n\n## Setup' is 27 characters and would fit in 30: the heading goes with its paragraph.
    assert.deepEqual(texts(chunkText(text, { size: 30, overlap: 0 })), ['Intro words here.', '## Setup\n\nInstall it.']);
    // A chain of headings stays with the text under them.
    const chain = 'Some intro text.\n\n# Part\n\n## Chapter\n\nBody.';
    assert.deepEqual(texts(chunkText(chain, { size: 30, overlap: 0 })), ['Some intro text.', '# Part\n\n## Chapter\n\nBody.']);
    // A long chain of headings (a table of contents) is cut so the last headings keep the text under them.
    const toc = ['# Contents', ...Array.from({ length: 12 }, (_, i) => `## Part ${i}`)].join('\n') + '\n\nBody text.';
    assert.deepEqual(texts(chunkText(toc, { size: 50, overlap: 0 })), [
      '# Contents\n## Part 0\n## Part 1\n## Part 2\n## Part 3',
      '## Part 4\n## Part 5\n## Part 6\n## Part 7\n## Part 8', // Part 8 to the end is 53 characters: too many
      '## Part 9\n## Part 10\n## Part 11\n\nBody text.',
    ]);
    // A heading whose paragraph cannot fit with it keeps the start of the paragraph.
    const long = '## Title\n\nalpha beta gamma delta epsilon zeta eta theta.';
    assert.deepEqual(texts(chunkText(long, { size: 30, overlap: 0 })), ['## Title\n\nalpha beta gamma', 'delta epsilon zeta eta theta.']);
  });

  it('prefers the end of a # section to the end of one of its ## subsections', () => {
    const text = '# A\n\nOne.\n\n## A1\n\nTwo.\n\n# B\n\nThree.\n\n## B1\n\nFour.';
    assert.deepEqual(texts(chunkText(text, { size: 30, overlap: 0 })), ['# A\n\nOne.\n\n## A1\n\nTwo.', '# B\n\nThree.\n\n## B1\n\nFour.']);
  });

  it('does not take # lines inside fenced code, or #hashtags, for headings', () => {
    // Were '# install' a heading, the first chunk would end before it.
    const code = 'Run this:\n```sh\n# install\nnpm install piramid\n```';
    assert.deepEqual(texts(chunkText(code, { size: 40, overlap: 0 })), ['Run this:\n```sh\n# install', 'npm install piramid\n```']);
    // Were '#hashtag' a heading, '# Title' would be cut off alone rather than the heading line split.
    assert.deepEqual(texts(chunkText('# Title\n#hashtag words go here', { size: 20, overlap: 0 })), ['# Title\n#hashtag', 'words go here']);
  });

  it('breaks at paragraphs, then lines, then sentences, then words, then anywhere', () => {
    assert.deepEqual(texts(chunkText('aaa bbb\nccc ddd\n\neee', { size: 16, overlap: 0 })), ['aaa bbb\nccc ddd', 'eee']);
    assert.deepEqual(texts(chunkText('aaa bbb\nccc ddd eee', { size: 16, overlap: 0 })), ['aaa bbb', 'ccc ddd eee']);
    assert.deepEqual(texts(chunkText('Aa bb. Cc dd ee ff', { size: 12, overlap: 0 })), ['Aa bb.', 'Cc dd ee ff']);
    assert.deepEqual(texts(chunkText('aa bb cc dd ee', { size: 9, overlap: 0 })), ['aa bb cc', 'dd ee']);
    assert.deepEqual(texts(chunkText('abcdefghij', { size: 4, overlap: 0 })), ['abcd', 'efgh', 'ij']);
  });

  it('cuts CJK text after its punctuation, and never inside a surrogate pair or an emoji sequence', () => {
    const japanese = '日本語のテキストです。これは二つ目の文です。';
    assert.deepEqual(texts(chunkText(japanese, { size: 12, overlap: 0 })), ['日本語のテキストです。', 'これは二つ目の文です。']);
    assert.deepEqual(texts(chunkText('😀😀😀', { size: 3, overlap: 0 })), ['😀', '😀', '😀']);
    assert.deepEqual(texts(chunkText('👨‍👩‍👧👨‍👩‍👧', { size: 9, overlap: 0 })), ['👨‍👩‍👧', '👨‍👩‍👧']);
    // Size 1 cannot hold an astral character: it is kept whole (2 code units) rather than split.
    assert.deepEqual(texts(chunkText('a😀b', { size: 1, overlap: 0 })), ['a', '😀', 'b']);
  });

  it('maps offsets back into the source, trimming whitespace', () => {
    const text = '  \n  First paragraph here.  \n\n\t Second one.\n ';
    const chunks = chunkText(text, { size: 20, overlap: 0 });
    assert.deepEqual(chunks, [
      { index: 0, text: 'First paragraph', start: 5, end: 20 },
      { index: 1, text: 'here.', start: 21, end: 26 },
      { index: 2, text: 'Second one.', start: 32, end: 43 },
    ]);
    for (const c of chunks) assert.equal(text.slice(c.start, c.end), c.text);
  });

  it('gives one trimmed chunk for a short text and none for blank text', () => {
    assert.deepEqual(chunkText('  hello world \n', { size: 11, overlap: 5 }), [{ index: 0, text: 'hello world', start: 2, end: 13 }]);
    assert.deepEqual(chunkText('', { size: 10, overlap: 0 }), []);
    assert.deepEqual(chunkText(' \n\t\u00a0\u3000 ', { size: 1, overlap: 0 }), []);
  });

  it('rejects bad options with a TypeError', () => {
    for (const options of [
      { size: 0, overlap: 0 },
      { size: -5, overlap: 0 },
      { size: 1.5, overlap: 0 },
      { size: Number.NaN, overlap: 0 },
      { size: 10, overlap: 10 },
      { size: 10, overlap: -1 },
      { size: 10, overlap: 2.5 },
    ]) {
      assert.throws(() => chunkText('some text', options), TypeError, JSON.stringify(options));
    }
    assert.throws(() => chunkText(undefined as unknown as string, { size: 10, overlap: 0 }), TypeError);
  });
});

describe('chunkText: speed', () => {
  it('chunks 1 MB of Markdown in well under 100 ms', () => {
    const gen = generator(1);
    let text = '';
    while (text.length < 1_000_000) text += gen.document() + '\n\n';
    text = text.slice(0, 1_000_000);
    for (const [size, overlap] of [
      [1000, 100],
      [300, 50],
      [4000, 0],
    ] as const) {
      let best = Number.POSITIVE_INFINITY;
      let chunks: Chunk[] = [];
      for (let run = 0; run < 3; run++) {
        const started = performance.now();
        chunks = chunkText(text, { size, overlap });
        best = Math.min(best, performance.now() - started);
      }
      console.log(`    1 MB, size ${size}, overlap ${overlap}: ${chunks.length} chunks in ${best.toFixed(1)} ms`);
      assert.ok(best < 100, `took ${best.toFixed(1)} ms`);
    }
  });
});
