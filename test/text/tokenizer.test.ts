import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TOKEN_LENGTH, STOP_WORDS, stemPlural, tokenize } from '../../src/engine/text/tokenizer.js';

describe('tokenize', () => {
  it('lower-cases, locale-independently', () => {
    assert.deepEqual(tokenize('Moby DICK Whale'), ['moby', 'dick', 'whale']);
    // Turkish dotted capital I lower-cases to "i" + combining dot everywhere, not to a dotless "ı".
    assert.deepEqual(tokenize('İstanbul'), ['i\u0307stanbul']);
    assert.deepEqual(tokenize('STRASSE Straße'), ['strasse', 'straße']);
  });

  it('normalises with NFKC: composed and decomposed accents agree, compatibility forms fold', () => {
    assert.deepEqual(tokenize('cafe\u0301'), ['café']);
    assert.deepEqual(tokenize('café'), tokenize('cafe\u0301'));
    assert.deepEqual(tokenize('ＡＢＣ ﬁsh x² Ⅻ'), ['abc', 'fish', 'x2', 'xii']);
    // Accents are kept, not folded to ASCII.
    assert.deepEqual(tokenize('año ano résumé'), ['año', 'ano', 'résumé']);
  });

  it('splits on punctuation, symbols, underscores and apostrophes', () => {
    assert.deepEqual(tokenize('Call me Ishmael. Some years ago—never mind how long…'), ['call', 'ishmael', 'years', 'ago', 'never', 'mind', 'long']);
    assert.deepEqual(tokenize('max_tokens=512; top-k (retrieval)/rerank'), ['max', 'tokens', '512', 'top', 'retrieval', 'rerank']);
    assert.deepEqual(tokenize("the whale's tail, O'Neill and O’Brien"), ['whale', 'tail', 'neill', 'brien']);
    assert.deepEqual(tokenize("don't, isn't, we'll, they've"), []);
    assert.deepEqual(tokenize('e-mail: ahab@pequod.example'), ['mail', 'ahab', 'pequod', 'example']);
    assert.deepEqual(tokenize('😀whale🐋 ship'), ['whale', 'ship']);
  });

  it('drops stop words and single letters, keeps single digits', () => {
    assert.deepEqual(tokenize('To be, or not to be: that is the question'), ['question']);
    assert.deepEqual(tokenize('to be or not to be'), []);
    assert.deepEqual(tokenize('a b c 1 2 x'), ['1', '2']);
    assert.deepEqual(tokenize('Plan B, vitamin C, 3 D'), ['plan', 'vitamin', '3']);
    assert.equal(STOP_WORDS.size, 143);
    for (const word of STOP_WORDS) assert.match(word, /^[a-z]{2,}$/);
    // Words that are stop words elsewhere but mean something here stay.
    assert.deepEqual(tokenize('He won the race'), ['won', 'race']);
  });

  it('keeps a "." between digits inside the token, splits on ","', () => {
    assert.deepEqual(tokenize('In 1962, pi was 3.14.'), ['1962', 'pi', '3.14']);
    assert.deepEqual(tokenize('v1.2.3 python3.11 192.168.0.1'), ['v1.2.3', 'python3.11', '192.168.0.1']);
    assert.deepEqual(tokenize('1,000 ships'), ['1', '000', 'ships']);
    assert.deepEqual(tokenize('e.g. 3. .5 x86_64'), ['3', '5', 'x86', '64']);
    assert.deepEqual(tokenize('covid19 gpt4o H2O'), ['covid19', 'gpt4o', 'h2o']);
    assert.deepEqual(tokenize('٣ ١٩٦٢'), ['٣', '١٩٦٢']); // other scripts' digits are digits too
  });

  it('makes each Han, Hiragana and Katakana character a token', () => {
    assert.deepEqual(tokenize('東京タワーは高い'), ['東', '京', 'タ', 'ワ', 'は', '高', 'い']);
    assert.deepEqual(tokenize('RAG用の検索'), ['rag', '用', 'の', '検', '索']);
    assert.deepEqual(tokenize('ﾃｽﾄ'), ['テ', 'ス', 'ト']); // half-width katakana, through NFKC
    assert.deepEqual(tokenize('向量数据库'), ['向', '量', '数', '据', '库']);
    // Hangul is spaced into words, Devanagari keeps its combining vowel signs.
    assert.deepEqual(tokenize('벡터 데이터베이스'), ['벡터', '데이터베이스']);
    assert.deepEqual(tokenize('नमस्ते दुनिया'), ['नमस्ते', 'दुनिया']);
  });

  it('drops tokens longer than MAX_TOKEN_LENGTH', () => {
    const long = 'x'.repeat(MAX_TOKEN_LENGTH + 1);
    assert.deepEqual(tokenize(`${'y'.repeat(MAX_TOKEN_LENGTH)} ${long} whale`), ['y'.repeat(MAX_TOKEN_LENGTH), 'whale']);
  });

  it('is deterministic and handles empty input', () => {
    assert.deepEqual(tokenize(''), []);
    assert.deepEqual(tokenize('  \n\t ,.;'), []);
    const text = 'The Pequod sailed from Nantucket in 1819; 白鯨 whale whales';
    assert.deepEqual(tokenize(text), tokenize(text));
    assert.deepEqual(tokenize(text), ['pequod', 'sailed', 'nantucket', '1819', '白', '鯨', 'whale', 'whales']);
  });

  it('stems plurals only when asked', () => {
    assert.deepEqual(tokenize('Whales and queries'), ['whales', 'queries']);
    assert.deepEqual(tokenize('Whales and queries', { stem: true }), ['whale', 'query']);
  });
});

describe('stemPlural (Harman S stemmer)', () => {
  it('applies the first matching rule', () => {
    const cases: [string, string][] = [
      ['queries', 'query'],
      ['libraries', 'library'],
      ['whales', 'whale'],
      ['horses', 'horse'],
      ['indexes', 'indexe'],
      ['ships', 'ship'],
      // exceptions
      ['virus', 'virus'],
      ['class', 'class'],
      ['aloes', 'aloe'], // -oes is excluded from rule 2, rule 3 then removes the "s"
      ['trees', 'tree'],
      ['species', 'specy'],
      // left alone: short, no final s, digits
      ['gas', 'gas'],
      ['yes', 'yes'],
      ['whale', 'whale'],
      ['v2s', 'v2s'],
      ['gpt4s', 'gpt4s'],
    ];
    for (const [word, stem] of cases) assert.equal(stemPlural(word), stem, word);
  });
});
