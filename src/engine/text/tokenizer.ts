/**
 * The analyzer of the BM25 keyword index: text in, index terms out. Documents and queries go
 * through the same function, so whatever it decides applies to both sides. It is deterministic
 * (no locale, no randomness, no state), so terms written today match queries made tomorrow.
 *
 * Decisions:
 * - Unicode NFKC first: composed and decomposed accents agree ("cafe\u0301" = "café"), and
 *   compatibility forms fold (fullwidth "ＡＢＣ" -> "abc", "ﬁ" -> "fi", "²" -> "2", half-width
 *   katakana -> katakana). Accents are kept, not folded to ASCII: "año" and "ano" are different
 *   words in Spanish, and the vector side of a hybrid search forgives a missing accent anyway.
 * - Lower case with `toLowerCase()`, which is locale-independent (unlike `toLocaleLowerCase`).
 * - A token is a run of letters and digits (`\p{L}\p{N}`, plus combining marks `\p{M}` after the
 *   first character, so Indic and other scripts with marks are not cut apart). Everything else
 *   separates, including `_` ("max_tokens" -> "max", "tokens") and apostrophes, straight or
 *   curly: "whale's" -> "whale" (the "s" is too short to keep), "O'Neill" -> "neill". Splitting on
 *   the apostrophe strips English possessives for free; contraction stems ("don", "isn", "ll")
 *   are stop words.
 * - Numbers: a "." between two digits stays inside the token, so decimals, versions and
 *   addresses are one term: "3.14", "1.2.3", "192.168.0.1", "python3.11". A "." that is not between
 *   digits ends the token ("in 1962." -> "1962"). A "," always separates ("1,000" -> "1", "000"), as
 *   it is a decimal mark in half the world; queries split the same way, so "1,000" still matches.
 * - Tokens of one character are dropped ("a", "x") unless they are digits ("7" is kept): single
 *   letters are noise in English text and their postings would be huge.
 * - Han, Hiragana and Katakana characters are one token each ("東京タワー" -> "東", "京", "タ", "ワ";
 *   the prolonged sound mark "ー" alone is dropped like any single non-CJK character). Simple, and
 *   good enough for BM25 over mixed text; it over-matches compared to bigrams or a dictionary
 *   segmenter. Hangul is spaced into words like Latin text and is tokenised as words. Thai and
 *   other unspaced scripts become one long token per run (not split; tokens over 64 characters
 *   are dropped, as are base64 blobs and hashes of that size).
 * - English stop words are dropped: NLTK's list without the forms with an apostrophe (which cannot
 *   occur here), keeping "won" (a verb too) and "ma". BM25's IDF would give them almost no weight
 *   anyway, but their posting lists would be the largest in the index and the slowest to read.
 *   A query of stop words only ("to be or not to be") therefore finds nothing by keyword; the
 *   vector side of a hybrid search still answers it.
 * - No stemming by default. BM25 in a hybrid search is there for exact matches of rare words the
 *   embedding blurs (names, codes, identifiers, jargon), where stemming hurts: Porter conflates
 *   "university" and "universe", "general" and "generic", and mangles identifiers; it is also
 *   English-only. Morphological variants are what the vector side already handles. `{ stem: true }`
 *   applies a light, conservative English plural stemmer (Harman's "S" stemmer, see `stemPlural`);
 *   an index must use the same options for its whole life.
 */

export interface TokenizeOptions {
  /** Strip English plural endings with `stemPlural` (default false). */
  stem?: boolean;
}

/** Tokens longer than this (in UTF-16 code units) are dropped: blobs and hashes, not words. */
export const MAX_TOKEN_LENGTH = 64;

/**
 * One CJK character (group 1), or a run of letters, marks and digits that starts with a letter or
 * digit, with "." kept between two digits. A run stops before any Han/Hiragana/Katakana character.
 */
const TOKEN =
  /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])|(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])[\p{L}\p{N}](?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])[\p{L}\p{M}\p{N}]|(?<=\p{N})\.(?=\p{N}))*/gu;

const SINGLE_DIGIT = /^\p{N}$/u;

/**
 * English stop words: NLTK's `stopwords.words('english')` (179 words) without its 26 forms with an
 * apostrophe and its 8 single letters, which cannot reach this list, and without "won" and "ma",
 * which are words in their own right: 143 words.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  'about', 'above', 'after', 'again', 'against', 'ain', 'all', 'am', 'an', 'and', 'any', 'are',
  'aren', 'as', 'at', 'be', 'because', 'been', 'before', 'being', 'below', 'between', 'both', 'but',
  'by', 'can', 'couldn', 'did', 'didn', 'do', 'does', 'doesn', 'doing', 'don', 'down', 'during',
  'each', 'few', 'for', 'from', 'further', 'had', 'hadn', 'has', 'hasn', 'have', 'haven', 'having',
  'he', 'her', 'here', 'hers', 'herself', 'him', 'himself', 'his', 'how', 'if', 'in', 'into', 'is',
  'isn', 'it', 'its', 'itself', 'just', 'll', 'me', 'mightn', 'more', 'most', 'mustn', 'my',
  'myself', 'needn', 'no', 'nor', 'not', 'now', 'of', 'off', 'on', 'once', 'only', 'or', 'other',
  'our', 'ours', 'ourselves', 'out', 'over', 'own', 're', 'same', 'shan', 'she', 'should',
  'shouldn', 'so', 'some', 'such', 'than', 'that', 'the', 'their', 'theirs', 'them', 'themselves',
  'then', 'there', 'these', 'they', 'this', 'those', 'through', 'to', 'too', 'under', 'until', 'up',
  've', 'very', 'was', 'wasn', 'we', 'were', 'weren', 'what', 'when', 'where', 'which', 'while',
  'who', 'whom', 'why', 'will', 'with', 'wouldn', 'you', 'your', 'yours', 'yourself', 'yourselves',
]);

/** The index terms of `text`, in order of appearance, repeats included. */
export function tokenize(text: string, options: TokenizeOptions = {}): string[] {
  const stem = options.stem === true;
  const tokens: string[] = [];
  for (const match of text.normalize('NFKC').toLowerCase().matchAll(TOKEN)) {
    const token = match[0];
    if (match[1] !== undefined) {
      tokens.push(token);
      continue;
    }
    if (token.length > MAX_TOKEN_LENGTH) continue;
    if (isSingleCharacter(token) && !SINGLE_DIGIT.test(token)) continue;
    if (STOP_WORDS.has(token)) continue;
    tokens.push(stem ? stemPlural(token) : token);
  }
  return tokens;
}

function isSingleCharacter(token: string): boolean {
  if (token.length === 1) return true;
  // One astral code point (two UTF-16 units).
  return token.length === 2 && (token.codePointAt(0) ?? 0) > 0xffff;
}

/**
 * Harman's "S" stemmer (Harman 1991, "How effective is suffixing?"), on tokens of 4 characters or
 * more without digits ("v2s", "gas", "yes" stay); the first rule that matches applies:
 *   -ies, not -eies or -aies     -> -y   "queries" -> "query", "libraries" -> "library"
 *   -es,  not -aes, -ees or -oes -> -e   "horses" -> "horse", "indexes" -> "indexe"
 *   -s,   not -us or -ss         -> ""   "whales" -> "whale"; "virus", "class" stay
 * Conservative by design: it conflates singular and plural of most nouns and little else, but it
 * does not join "indexes" with "index", and it does join "news" with "new".
 */
export function stemPlural(token: string): string {
  if (token.length < 4 || !token.endsWith('s') || /\p{N}/u.test(token)) return token;
  const ends = (suffix: string): boolean => token.endsWith(suffix);
  if (ends('ies') && !ends('eies') && !ends('aies')) return `${token.slice(0, -3)}y`;
  if (ends('es') && !ends('aes') && !ends('ees') && !ends('oes')) return token.slice(0, -1);
  if (ends('us') || ends('ss')) return token;
  return token.slice(0, -1);
}
