import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkText } from '../../src/engine/text/chunker.js';
import { SUPPORTED_EXTENSIONS, extractDocument } from '../../src/engine/text/extract.js';

describe('extractDocument: format by extension', () => {
  it('lists the extensions it supports and picks the format case-insensitively', () => {
    assert.deepEqual([...SUPPORTED_EXTENSIONS], ['.md', '.markdown', '.txt', '.html', '.htm']);
    assert.equal(extractDocument('docs/a.md', 'x').format, 'markdown');
    assert.equal(extractDocument('docs/a.MARKDOWN', 'x').format, 'markdown');
    assert.equal(extractDocument('/tmp/notes.txt', 'x').format, 'text');
    assert.equal(extractDocument('page.HTML', '<p>x</p>').format, 'html');
    assert.equal(extractDocument('page.htm', '<p>x</p>').format, 'html');
  });

  it('rejects an unknown or missing extension with a TypeError naming the file', () => {
    assert.throws(
      () => extractDocument('report.pdf', ''),
      (err: unknown) => err instanceof TypeError && err.message.includes('report.pdf') && err.message.includes('.md'),
    );
    assert.throws(() => extractDocument('Makefile', 'all:'), TypeError);
    assert.throws(() => extractDocument('archive.md.gz', ''), TypeError);
  });
});

describe('extractDocument: Markdown and text', () => {
  it('keeps Markdown as it is, titled by its first # heading', () => {
    const content = 'Intro line.\n\n## Not the title\n\n# The Title #\n\nBody.\n';
    assert.deepEqual(extractDocument('a.md', content), { text: content, title: 'The Title', format: 'markdown' });
  });

  it('prefers front matter title:, quoted or not', () => {
    assert.equal(extractDocument('a.md', '---\ntitle: "Front Title"\ntags: [a]\n---\n# Heading\ntext').title, 'Front Title');
    assert.equal(extractDocument('a.md', "---\nauthor: me\ntitle: Plain title\n---\n\nbody").title, 'Plain title');
    // Front matter without a title: the first heading after it.
    assert.equal(extractDocument('a.md', '---\nauthor: me\n---\n# After\n').title, 'After');
  });

  it('ignores # lines in fenced code and #hashtags; knows Setext headings', () => {
    assert.equal(extractDocument('a.md', '```sh\n# install\n```\n\n#hashtag\n\n# Real\n').title, 'Real');
    assert.equal(extractDocument('a.md', 'Setext Title\n============\n\nBody.').title, 'Setext Title');
    assert.equal(extractDocument('a.md', 'No heading at all.\n').title, undefined);
    assert.equal(extractDocument('a.md', '').title, undefined);
  });

  it('keeps plain text as it is, without a title', () => {
    const content = '# not a title in a .txt\n\nline two\r\n';
    assert.deepEqual(extractDocument('a.txt', content), { text: content, title: undefined, format: 'text' });
  });
});

describe('extractDocument: HTML', () => {
  const page = `<!DOCTYPE html>
<html><head><title>The &amp; Guide</title><style>p { color: red }</style>
<script>var fake = '<h1>not this</h1>';</script></head>
<body>
<nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<h1>Hello <em>World</em></h1>
<p>First paragraph with <a href="https://example.com">a link</a> and <img src="a.png" alt="a picture"> an image.
It wraps   across lines.</p>
<h2>Details</h2>
<p>Second &lt;paragraph&gt;.<br>New line.</p>
<ul><li>one</li><li>two</li></ul>
<script>console.log("hidden")</script><noscript>Enable JavaScript</noscript>
</body></html>`;

  it('extracts the visible text: headings on their own lines, blank lines between blocks, no wrapping', () => {
    const doc = extractDocument('page.html', page);
    assert.equal(doc.format, 'html');
    assert.equal(
      doc.text,
      [
        'Hello World',
        '',
        'First paragraph with a link and an image. It wraps across lines.',
        '',
        'Details',
        '',
        'Second <paragraph>.',
        'New line.',
        '',
        '- one',
        '- two',
      ].join('\n'),
    );
  });

  it('drops scripts, styles, navigation, images and link targets', () => {
    const { text } = extractDocument('page.html', page);
    for (const hidden of ['hidden', 'color', 'not this', 'Home', 'About', 'Enable JavaScript', 'https://', 'a.png', 'a picture', '[']) {
      assert.ok(!text.includes(hidden), `${JSON.stringify(hidden)} leaked into ${JSON.stringify(text)}`);
    }
  });

  it('takes the title from <title>, else the first <h1>, with entities decoded', () => {
    assert.equal(extractDocument('page.html', page).title, 'The & Guide');
    assert.equal(extractDocument('p.htm', '<body><h1>Only &quot;H1&quot; <b>bold</b></h1><p>text</p></body>').title, 'Only "H1" bold');
    assert.equal(extractDocument('p.htm', '<!-- <title>commented</title> --><p>No title.</p>').title, undefined);
    assert.equal(extractDocument('p.htm', '<title>  </title><h1>\n  Fallback\n  heading </h1>').title, 'Fallback heading');
  });

  it('copes with fragments and empty input', () => {
    assert.deepEqual(extractDocument('f.html', '<p>one</p><p>two</p>'), { text: 'one\n\ntwo', title: undefined, format: 'html' });
    assert.deepEqual(extractDocument('f.html', ''), { text: '', title: undefined, format: 'html' });
  });

  it('gives the chunker paragraphs to split at', () => {
    const paragraphs = Array.from({ length: 6 }, (_, i) => `Paragraph ${i} says something about topic ${i}.`);
    const { text } = extractDocument('p.html', paragraphs.map((p) => `<p>${p}</p>`).join('\n'));
    const chunks = chunkText(text, { size: 100, overlap: 0 });
    assert.deepEqual(
      chunks.map((c) => c.text),
      [0, 2, 4].map((i) => `${paragraphs[i]}\n\n${paragraphs[i + 1]}`),
    );
  });
});
