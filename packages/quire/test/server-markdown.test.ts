import assert from 'node:assert/strict';
import { test } from 'node:test';
import { micromark } from 'micromark';
import { countLinks, renderMarkdown, renderPlain } from '../src/index.js';
import { prng, startTestServer } from './fixtures/srv-helpers.js';

/** XSS payloads of the usual families: tags, attributes, protocols, encodings, SVG/MathML, Markdown tricks. */
const CORPUS = [
  '<script>alert(1)</script>',
  '<SCRIPT SRC=https://evil.example/x.js></SCRIPT>',
  '<scr<script>ipt>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<img src="javascript:alert(1)">',
  '<IMG SRC=JaVaScRiPt:alert(1)>',
  '<svg onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<body onload=alert(1)>',
  '<iframe src="javascript:alert(1)"></iframe>',
  '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
  '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
  '<embed src="data:image/svg+xml,<svg onload=alert(1)>">',
  '<a href="javascript:alert(1)">x</a>',
  '<div style="background:url(javascript:alert(1))">x</div>',
  '<input autofocus onfocus=alert(1)>',
  '<details open ontoggle=alert(1)>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<base href="javascript:alert(1)//">',
  '<form action="javascript:alert(1)"><button>x</button></form>',
  '[click](javascript:alert(1))',
  '[click](JAVASCRIPT:alert(1))',
  '[click](  javascript:alert(1)  )',
  '[click](java\tscript:alert(1))',
  '[click](&#106;avascript:alert(1))',
  '[click](&#x6A;&#x61;&#x76;&#x61;script:alert(1))',
  '[click](javascript&colon;alert(1))',
  '[click](jav&#x09;ascript:alert(1))',
  '[click](%6Aavascript:alert(1))',
  '[click](vbscript:msgbox(1))',
  '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[click](DATA:text/html,<script>alert(1)</script>)',
  '[click](<javascript:alert(1)>)',
  '[click](javascript:alert(1) "title")',
  '[click][ref]\n\n[ref]: javascript:alert(1)',
  '[click][ref]\n\n[ref]: data:text/html,x',
  '<javascript:alert(1)>',
  '<data:text/html,<script>alert(1)</script>>',
  '![x](javascript:alert(1))',
  '![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)',
  '![x](https://evil.example/track.gif)',
  '![x" onerror="alert(1)](https://x.example/a.png)',
  '[x](https://ok.example/" onmouseover="alert(1))',
  '[x](https://ok.example/ "a\\" onmouseover=\\"alert(1)")',
  '`<script>alert(1)</script>`',
  '```html\n<script>alert(1)</script>\n```',
  '```"><script>alert(1)</script>\ncode\n```',
  '> <script>alert(1)</script>',
  '* <img src=x onerror=alert(1)>',
  '# <svg onload=alert(1)>',
  '<!-- --><script>alert(1)</script>',
  '<![CDATA[<script>alert(1)</script>]]>',
  '<?php echo 1 ?><script>alert(1)</script>',
  '&lt;script&gt;alert(1)&lt;/script&gt;',
  '\u0000<script>alert(1)</script>',
  '<a href="https://ok.example" onclick="alert(1)">x</a>',
  '<style>@import "https://evil.example/x.css";</style>',
  '<link rel=stylesheet href="https://evil.example/x.css">',
  '[a](https://ok.example)<script>alert(1)</script>',
];

const ALLOWED_TAGS = new Set([
  'p',
  'em',
  'strong',
  'a',
  'code',
  'pre',
  'blockquote',
  'ul',
  'ol',
  'li',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'br',
]);
const ALLOWED_ATTRS = new Set(['href', 'rel', 'title', 'class', 'start']);

function decode(v: string): string {
  return v
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCharCode(Number(d)))
    .replace(/&amp;/g, '&');
}

/**
 * Fails unless `html` is inert: no `<script`, and every tag in it is a plain formatting tag whose attributes
 * (all quoted) are allowed ones, none an event handler (`on…=`), no href or src a javascript:, vbscript: or
 * data: URL. Text is escaped by the renderer, so a raw `<` in the output starts one of its own tags.
 */
function assertInert(html: string, source: string): void {
  const where = `${JSON.stringify(source.slice(0, 80))} -> ${html.slice(0, 400)}`;
  assert.ok(!/<script/i.test(html), `no <script: ${where}`);
  for (const m of html.matchAll(/<(\/?)([a-zA-Z0-9]+)([^>]*)>/g)) {
    const tag = (m[2] as string).toLowerCase();
    const attrs = m[3] as string;
    assert.ok(ALLOWED_TAGS.has(tag), `tag <${tag}> is not plain formatting: ${where}`);
    // Values blanked, what is left of the tag must be attribute names only.
    const bare = attrs.replace(/="[^"]*"/g, '=""');
    assert.ok(!/\son\w+\s*=/i.test(bare), `no on\\w+= handler: ${where}`);
    assert.equal(bare.replace(/\s[a-zA-Z-]+=""/g, '').trim(), '', `unexpected tag content: ${where}`);
    for (const a of attrs.matchAll(/\s([a-zA-Z-]+)="([^"]*)"/g)) {
      const name = (a[1] as string).toLowerCase();
      assert.ok(ALLOWED_ATTRS.has(name), `attribute ${name}: ${where}`);
      if (name === 'href' || name === 'src') {
        // Browsers drop whitespace and control characters inside a scheme, so the check does too.
        const url = decode(a[2] as string)
          // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
          .replace(/[\s\u0000-\u001f]/g, '')
          .toLowerCase();
        assert.ok(!/^(javascript|vbscript|data):/.test(url), `no javascript:/data: in ${name}: ${where}`);
      }
    }
    if (tag === 'a' && m[1] === '') {
      assert.match(
        m[0],
        /^<a rel="nofollow ugc noopener" href="/,
        `links are nofollow ugc noopener: ${where}`,
      );
    }
  }
}

test('the inertness check itself rejects live HTML', () => {
  for (const live of [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<a rel="nofollow ugc noopener" href="javascript:alert(1)">x</a>',
    '<a rel="nofollow ugc noopener" href="&#106;avascript:alert(1)">x</a>',
    '<a rel="nofollow ugc noopener" href=" data:text/html,x">x</a>',
    '<p onclick="alert(1)">x</p>',
    '<a href="https://ok.example">no rel</a>',
    '<svg></svg>',
    '<p x=y>unquoted</p>',
  ]) {
    assert.throws(() => assertInert(live, live), assert.AssertionError, live);
  }
});

test('every payload of the XSS corpus renders inert', () => {
  for (const payload of CORPUS) assertInert(renderMarkdown(payload), payload);
});

test('payloads stay inert inside surrounding Markdown and when combined', () => {
  const all = CORPUS.join('\n\n');
  assertInert(renderMarkdown(all), 'the whole corpus');
  for (const payload of CORPUS) {
    assertInert(renderMarkdown(`Some *text* before.\n\n> quoted ${payload}\n\n- item ${payload}`), payload);
  }
});

test('ordinary Markdown still renders: emphasis, code, quotes, lists and safe links', () => {
  assert.equal(
    renderMarkdown('Hi *there* **you** `code`\n\n> quote\n\n- a\n- b\n\n[site](https://example.org "Title")'),
    '<p>Hi <em>there</em> <strong>you</strong> <code>code</code></p>\n<blockquote>\n<p>quote</p>\n</blockquote>\n' +
      '<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n' +
      '<p><a rel="nofollow ugc noopener" href="https://example.org" title="Title">site</a></p>',
  );
  assert.equal(
    renderMarkdown('<https://example.org/a?b=1&c=2>'),
    '<p><a rel="nofollow ugc noopener" href="https://example.org/a?b=1&amp;c=2">https://example.org/a?b=1&amp;c=2</a></p>',
  );
  assert.equal(
    renderMarkdown('[mail](mailto:a@example.org)'),
    '<p><a rel="nofollow ugc noopener" href="mailto:a@example.org">mail</a></p>',
  );
  assert.equal(
    renderMarkdown('![alt](https://x.example/i.png)'),
    '<p>!<a rel="nofollow ugc noopener" href="https://x.example/i.png">alt</a></p>',
  );
});

/** micromark's own entry point with the options renderMarkdown uses: the reference for the shortcuts. */
function reference(text: string): string {
  return micromark(text, {
    allowDangerousHtml: false,
    allowDangerousProtocol: false,
    extensions: [{ disable: { null: ['labelStartImage'] } }],
  }).replace(/<a href="/g, '<a rel="nofollow ugc noopener" href="');
}

// Pieces of text, heavy on what is special somewhere in CommonMark, so that the generated texts sit on the
// border between plain and not.
const PIECES = [
  ...'abcXYZ019 ,.;:?!\'"()/%@$-+=*_`~#|{}[]<>&^\\\t\n\u00a0\u00ad\u200d'.split(''),
  ' ',
  ' ',
  '\n',
  '\n',
  '\n\n',
  'word',
  'Wörd',
  '1.',
  '2)',
  '123456789.',
  '1234567890.',
  '- ',
  '--',
  '  ',
  '    ',
  '“',
  '”',
  '’',
  '—',
  '…',
  '•',
  '😀',
  '👍🏽',
  '\u0301',
  'ﬁ',
  '١.',
  '&amp;',
  '&#42;',
  'https://x.example',
  'www.x.example',
];

test('plain text rendered without the parser is exactly what micromark renders', () => {
  let plain = 0;
  const n = 1_000_000;
  for (let seed = 1; seed <= n; seed++) {
    const rnd = prng(seed);
    let text = '';
    const len = 1 + Math.floor(rnd() * 12);
    for (let i = 0; i < len; i++) text += PIECES[Math.floor(rnd() * PIECES.length)];
    const fast = renderPlain(text);
    if (fast === undefined) continue;
    plain++;
    assert.equal(fast, reference(text), `seed ${seed}: ${JSON.stringify(text)}`);
  }
  // The comparison means something only if the shortcut is taken often.
  console.log(`${plain} of ${n} generated texts were plain`);
  assert.ok(plain > n / 20, `only ${plain} of ${n} texts were plain`);
});

test('everyday comments take the plain path and special ones do not', () => {
  for (const text of [
    'Great post, thanks!',
    'I disagree: the 2nd point (about caching) is wrong.\nSee the docs, section 4.',
    'Très bien — “merci” … 👍🏽',
    'First paragraph.\n\nSecond one; with a well-known 50% figure @ $3.',
  ]) {
    assert.equal(renderPlain(text), reference(text), text);
  }
  for (const text of [
    '*emphasis*',
    'a_b',
    '# heading',
    '- item',
    '1. item',
    '3) item',
    '    code',
    'hard  \nbreak',
    'x < y',
    'AT&T',
    '[link](https://x.example)',
    'line\n===',
    'tab\there',
    '\nleading newline',
  ]) {
    assert.equal(renderPlain(text), undefined, JSON.stringify(text));
    assert.equal(renderMarkdown(text), reference(text), JSON.stringify(text));
  }
});

test("one comment's link definitions never resolve another comment's references", () => {
  assert.equal(
    renderMarkdown('[a][r]\n\n[r]: https://x.example'),
    '<p><a rel="nofollow ugc noopener" href="https://x.example">a</a></p>\n',
  );
  assert.equal(renderMarkdown('[b][r]'), '<p>[b][r]</p>');
});

test('links are counted whether written as Markdown, autolinks or bare addresses', () => {
  assert.equal(countLinks('no links here'), 0);
  assert.equal(countLinks('[a](https://a.example) <https://b.example>'), 2);
  assert.equal(countLinks('https://a.example and www.b.example and http://c.example/x'), 3);
  assert.equal(countLinks('[a](https://a.example) https://a.example'), 2);
});

test('the preview endpoint and stored comments return the corpus inert', async (t) => {
  const s = await startTestServer(t, { spam: { maxLinks: 100, duplicateWindowSeconds: 0 } });
  for (const payload of CORPUS) {
    const r = await s.request('POST', '/api/preview', { text: payload });
    assert.equal(r.status, 200);
    assertInert(r.body.html, payload);
  }
  const stored = await s.post({ text: CORPUS.filter((p) => !p.includes('\u0000')).join('\n\n') });
  assert.equal(stored.status, 201, stored.text);
  assertInert(stored.body.comment.html, 'the stored corpus');
  const listed = await s.request(
    'GET',
    `/api/comments?uri=${encodeURIComponent('https://blog.example.org/2026/hello')}`,
  );
  assertInert(listed.body.comments[0].html, 'the listed corpus');
  const feed = await s.request('GET', '/feed.atom');
  assert.ok(!/<script/i.test(feed.text), 'the feed escapes the HTML it carries');
});
