import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MARKDOWN_BUDGET, renderMarkdownAsync, setMarkdownBudget } from '../src/server/markdown.js';
import { renderFull } from '../src/server/markdown-render.js';
import {
  adminLogin,
  adminPasswordHash,
  isProblem,
  listComments,
  PAGE,
  startTestServer,
} from './fixtures/srv-helpers.js';

/** Longer than the synchronous budget (256 characters), with Markdown that renders in a millisecond. */
function longText(tag: string): string {
  return `${'Some *emphasis* here, and words enough to pass the short-text budget. '.repeat(5)}See [the docs](https://example.org/${tag}).`;
}

/** micromark takes seconds on it: emphasis delimiters that never match. */
const PATHOLOGICAL = '*_'.repeat(4000);

test('a long comment is shown rendered, not escaped: thread, admin list, feeds, preview, the POST answer', async (t) => {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash() });
  const text = longText('thread');
  assert.ok(text.length > 256);
  const posted = await s.post({ text });
  assert.equal(posted.status, 201, posted.text);
  assert.match(
    posted.body.comment.html,
    /<a rel="nofollow ugc noopener" href="https:\/\/example.org\/thread">/,
  );
  const list = await listComments(s);
  assert.match(list.comments[0].html, /<em>emphasis<\/em>/);
  assert.match(list.comments[0].html, /<a rel="nofollow ugc noopener" href="https:\/\/example.org\/thread">/);
  // The second GET comes from the page cache: the same HTML.
  assert.equal((await listComments(s)).comments[0].html, list.comments[0].html);
  const admin = await s.request('GET', '/api/admin/comments?status=all', undefined, await adminLogin(s));
  assert.match(admin.body.comments[0].html, /<em>emphasis<\/em>/);
  for (const feed of ['/feed.atom', `/feed.atom?uri=${encodeURIComponent(PAGE)}`]) {
    const atom = await s.request('GET', feed);
    assert.match(atom.text, /&lt;em&gt;emphasis&lt;\/em&gt;/, feed);
  }
  const preview = await s.request('POST', '/api/preview', { text: longText('preview') });
  assert.match(preview.body.html, /<em>emphasis<\/em>/);
});

test('a pathological text is refused with 422 markdown-too-complex while other clients are answered', async (t) => {
  let postInHandler: () => void = () => {};
  const reached = new Promise<void>((resolve) => {
    postInHandler = resolve;
  });
  const s = await startTestServer(
    t,
    {},
    {
      setup: (app) => {
        app.addHook('preHandler', (request, _reply, done) => {
          if (request.method === 'POST' && request.url === '/api/comments') postInHandler();
          done();
        });
      },
    },
  );
  assert.equal((await s.post({ text: 'first' })).status, 201);
  const token = await s.formToken();
  const order: string[] = [];
  const post = s
    .request('POST', '/api/comments', { uri: PAGE, text: PATHOLOGICAL, formToken: token })
    .finally(() => order.push('post'));
  await reached;
  // Rendered on the event loop, the POST would hold every other request until it is done.
  const get = await listComments(s);
  order.push('get');
  assert.equal(get.comments.length, 1);
  const refused = await post;
  assert.ok(isProblem(refused, 422, 'markdown-too-complex'), refused.text.slice(0, 300));
  assert.deepEqual(order, ['get', 'post']);
  // Nothing was stored, and preview refuses it the same way.
  assert.equal((await listComments(s)).comments.length, 1);
  const preview = await s.request('POST', '/api/preview', { text: `${PATHOLOGICAL}x` });
  assert.ok(isProblem(preview, 422, 'markdown-too-complex'), preview.text.slice(0, 300));
});

test("a render's deadline starts when its worker is ready: a fresh worker's start (~100 ms) is not the text's", async () => {
  // Well above what this text takes to render (a millisecond or two), well below what a worker takes to start.
  setMarkdownBudget({ ...DEFAULT_MARKDOWN_BUDGET, timeoutMs: 40 });
  try {
    const text = longText('fresh-worker');
    assert.equal(await renderMarkdownAsync(text), renderFull(text));
  } finally {
    setMarkdownBudget(DEFAULT_MARKDOWN_BUDGET);
  }
});

test('work stops when the client goes away: an abandoned render frees the worker for the next client', {
  timeout: 30_000,
}, async (t) => {
  let previewInHandler: () => void = () => {};
  const reached = new Promise<void>((resolve) => {
    previewInHandler = resolve;
  });
  const s = await startTestServer(
    t,
    // One worker, and a deadline far away: only the client's going away can end the first render early.
    // A text long enough to take minutes (micromark's cost grows with its square).
    {
      markdown: { timeoutMs: 600_000, workers: 1, maxQueue: 4 },
      limits: { textChars: 100_000, bodyBytes: 256 * 1024 },
    },
    {
      setup: (app) => {
        app.addHook('preHandler', (request, _reply, done) => {
          if (request.url === '/api/preview') previewInHandler();
          done();
        });
      },
    },
  );
  t.after(() => setMarkdownBudget(DEFAULT_MARKDOWN_BUDGET));
  const gone = new AbortController();
  const abandoned = fetch(`${s.url}/api/preview`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: `${'*_'.repeat(40_000)}gone` }),
    signal: gone.signal,
  }).catch(() => 'aborted');
  await reached;
  gone.abort();
  assert.equal(await abandoned, 'aborted');
  const next = await s.request('POST', '/api/preview', { text: longText('next') });
  assert.equal(next.status, 200, next.text);
  assert.match(next.body.html, /<em>emphasis<\/em>/);
});
