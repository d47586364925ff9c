import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { browserUnavailable, hasText } from './fixtures/web-browser.js';
import { demoUri, postComment, publicThread, usePages } from './fixtures/web-page.js';
import { startWebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();

describe('a reader writes comments and replies in the widget', { skip: skip ?? false }, () => {
  const { open } = usePages();

  test('a reader posts a comment and a reply, and sees them nested under the comment count', async (t) => {
    const s = await startWebServer(t);
    const o = await open(t, s);
    await hasText(o.count, 'No comments yet');
    const first = await postComment(o, 'First **post**', 'Ada');
    await first.locator('strong', { hasText: 'post' }).waitFor();
    await hasText(first.locator('.quire-author'), 'Ada');
    await hasText(o.count, '1 comment');
    await hasText(o.thread.getByRole('status'), 'Your comment was posted.');
    assert.equal(
      await first.evaluate((el) => el === el.ownerDocument.activeElement),
      true,
      'focus on the new comment',
    );
    assert.equal(
      await o.form.getByLabel('Comment', { exact: true }).inputValue(),
      '',
      'the form is empty again',
    );

    const replyButton = first.getByRole('button', { name: 'Reply' });
    await replyButton.click();
    assert.equal(await replyButton.getAttribute('aria-expanded'), 'true');
    const replyForm = o.thread.getByRole('form', { name: 'Reply to Ada' });
    const replyText = replyForm.getByLabel('Comment', { exact: true });
    assert.equal(
      await replyText.evaluate((el) => el === el.ownerDocument.activeElement),
      true,
      'focus in the reply',
    );
    await replyText.fill('A reply to the first');
    await replyForm.getByRole('button', { name: 'Post reply' }).click();
    const nested = o.thread.locator('li.quire-c li.quire-c > article', { hasText: 'A reply to the first' });
    await nested.waitFor();
    await replyForm.waitFor({ state: 'detached' });
    await hasText(o.count, '2 comments');

    const saved = await publicThread(s, demoUri(s));
    assert.equal(saved.total, 2);
    assert.equal(saved.title, 'Comments as plain files · quire', 'the page title is recorded');
    assert.equal(saved.comments[0]?.text, 'First **post**');
    const replies = (saved.comments[0] as unknown as { replies: { text: string }[] }).replies;
    assert.deepEqual(
      replies.map((r) => r.text),
      ['A reply to the first'],
    );

    await o.page.reload();
    await nested.waitFor();
    await hasText(o.page.locator('[data-quire-count]'), '2 comments');
  });

  test("the page's own comment count (the byline link) follows posting and deleting", async (t) => {
    const s = await startWebServer(t);
    await s.post(demoUri(s), { text: 'Already here' });
    const o = await open(t, s);
    const byline = o.page.locator('.byline [data-quire-count]');
    await hasText(byline, '1 comment');
    const mine = await postComment(o, 'One more');
    await hasText(o.count, '2 comments');
    await hasText(byline, '2 comments');
    await mine.getByRole('button', { name: 'Delete' }).click();
    await mine.getByRole('button', { name: 'Yes, delete' }).click();
    await hasText(o.count, '1 comment');
    await hasText(byline, '1 comment');
  });

  test("the Markdown preview shows the server's rendering, and going back to writing keeps the text", async (t) => {
    const s = await startWebServer(t);
    const o = await open(t, s);
    const text = o.form.getByLabel('Comment', { exact: true });
    const typed = 'Some *emphasis*, `code` and <b>raw html</b>';
    await text.fill(typed);
    await o.form.getByRole('button', { name: 'Preview' }).click();
    const preview = o.form.getByRole('region', { name: 'Preview of your comment' });
    await preview.locator('em', { hasText: 'emphasis' }).waitFor();
    await preview.locator('code', { hasText: 'code' }).waitFor();
    await hasText(preview, /<b>raw html<\/b>/);
    assert.equal(await preview.locator('b').count(), 0, 'raw HTML is shown as text');
    await text.waitFor({ state: 'hidden' });
    const write = o.form.getByRole('button', { name: 'Write' });
    assert.equal(await write.getAttribute('aria-expanded'), 'true');
    await write.click();
    await text.waitFor({ state: 'visible' });
    assert.equal(await text.inputValue(), typed);
    assert.equal(await text.evaluate((el) => el === el.ownerDocument.activeElement), true);
    assert.equal((await publicThread(s, demoUri(s))).total, 0, 'a preview posts nothing');
  });

  test('the form works by keyboard alone, with labelled fields and announced results', async (t) => {
    const s = await startWebServer(t);
    const o = await open(t, s);
    await hasText(o.count, 'No comments yet');
    const focused = (): Promise<string> =>
      o.page.evaluate(
        "document.activeElement?.getAttribute('name') ?? document.activeElement?.tagName.toLowerCase() ?? ''",
      );
    const focusedText = (): Promise<string> => o.page.evaluate('document.activeElement?.textContent');
    for (let i = 0; i < 20 && (await focused()) !== 'author'; i++) await o.page.keyboard.press('Tab');
    assert.equal(await focused(), 'author');
    await o.page.keyboard.type('Kim');
    for (const name of ['email', 'website', 'notify', 'text']) {
      await o.page.keyboard.press('Tab');
      assert.equal(await focused(), name, 'the hidden honeypot field is never reached');
    }
    await o.page.keyboard.type('Typed without a mouse');
    await o.page.keyboard.press('Tab');
    assert.equal(await focusedText(), 'Post comment');
    await o.page.keyboard.press('Enter');
    const art = o.thread.locator('article', { hasText: 'Typed without a mouse' });
    await art.waitFor();
    await hasText(o.thread.getByRole('status'), 'Your comment was posted.');
    assert.equal(await art.evaluate((el) => el === el.ownerDocument.activeElement), true);

    await o.page.keyboard.press('Tab');
    assert.equal(await focusedText(), 'Reply');
    await o.page.keyboard.press('Enter');
    assert.equal(await focused(), 'text');
    await o.page.keyboard.type('And a reply, sent with Ctrl+Enter');
    await o.page.keyboard.press('Control+Enter');
    const reply = o.thread.locator('li.quire-c li.quire-c > article', { hasText: 'sent with Ctrl+Enter' });
    await reply.waitFor();
    assert.equal(await reply.evaluate((el) => el === el.ownerDocument.activeElement), true);
    for (const name of [
      'Name (optional)',
      'E-mail (optional, never shown)',
      'Website (optional)',
      'Comment',
    ]) {
      assert.equal(
        await o.form.getByRole('textbox', { name, exact: true }).count(),
        1,
        `a field labelled ${name}`,
      );
    }
  });

  test("a refused comment shows the server's reason and keeps the typed text", async (t) => {
    const s = await startWebServer(t);
    const o = await open(t, s);
    const text = o.form.getByLabel('Comment', { exact: true });
    const spammy =
      'Read https://a.example.org and https://b.example.org and https://c.example.org and https://d.example.org';
    await text.fill(spammy);
    await o.form.getByRole('button', { name: 'Post comment' }).click();
    const alert = o.form.getByRole('alert');
    await hasText(
      alert,
      'The comment server refused this: a comment may hold at most 3 links; this one has 4',
    );
    assert.equal(await text.inputValue(), spammy);
    assert.equal(await o.form.getByRole('button', { name: 'Post comment' }).isEnabled(), true);
    await hasText(o.count, 'No comments yet');
    assert.equal((await publicThread(s, demoUri(s))).total, 0);
    await o.page.reload();
    await hasText(o.count, 'No comments yet');
    assert.equal(await text.inputValue(), spammy, 'the unsent text survives even a reload');

    await postComment(o, 'Read https://a.example.org only');
    assert.equal(await alert.textContent(), '');
    await hasText(o.count, '1 comment');
  });

  test('when the server cannot be reached the typed text stays, and sending it again posts it once', async (t) => {
    const s = await startWebServer(t);
    const o = await open(t, s);
    const offline = (route: import('playwright-core').Route) =>
      route.request().method() === 'POST' ? route.abort('connectionrefused') : route.fallback();
    const isPosting = (u: URL) => u.pathname === '/api/comments';
    await o.page.route(isPosting, offline);
    const text = o.form.getByLabel('Comment', { exact: true });
    await text.fill('Sent while offline');
    await o.form.getByRole('button', { name: 'Post comment' }).click();
    await hasText(
      o.form.getByRole('alert'),
      'The comment server cannot be reached. Your text is still here; please try again.',
    );
    assert.equal(await text.inputValue(), 'Sent while offline');

    await o.page.unroute(isPosting, offline);
    await o.form.getByRole('button', { name: 'Post comment' }).click();
    await o.thread.locator('article', { hasText: 'Sent while offline' }).waitFor();
    assert.equal((await publicThread(s, demoUri(s))).total, 1);
  });

  test('a reader over the rate limit is told to wait, in the server’s words, and keeps the text', async (t) => {
    const s = await startWebServer(t, { rateLimits: { posts: { max: 1, windowSeconds: 300 } } });
    const o = await open(t, s);
    await postComment(o, 'One is fine');
    const text = o.form.getByLabel('Comment', { exact: true });
    await text.fill('Two is too many');
    await o.form.getByRole('button', { name: 'Post comment' }).click();
    await hasText(o.form.getByRole('alert'), /^Too many requests\. too many requests; try again in \d+ s$/);
    assert.equal(await text.inputValue(), 'Two is too many');
    s.advance(300_000);
    await o.form.getByRole('button', { name: 'Post comment' }).click();
    await o.thread.locator('article', { hasText: 'Two is too many' }).waitFor();
  });
});
