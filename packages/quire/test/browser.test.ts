import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import {
  browserUnavailable,
  ensureWidgetBuilt,
  hasText,
  launch,
  onlyLocal,
  repoDir,
} from './fixtures/web-browser.js';
import { ADMIN_PASSWORD, startHostSite, startWebServer, type WebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();
const EDIT_WINDOW_MS = 900_000;

interface Opened {
  context: BrowserContext;
  page: Page;
  /** The widget's element (#quire-thread). */
  thread: Locator;
  /** The compose form at the top of the thread. */
  form: Locator;
  /** The heading with the comment count. */
  count: Locator;
}

interface OpenOptions {
  /** A page of the service (default `/`) or a whole URL. */
  path?: string;
  /** Reuse a browser context: the same reader (same localStorage and cookies). */
  context?: BrowserContext;
  /** Turn off the pages' Content-Security-Policy, so that only the widget stands between a payload and the page. */
  bypassCSP?: boolean;
  /** Runs before the page is opened (routes, init scripts). */
  prepare?: (page: Page) => Promise<void>;
}

/** The page URI the widget files the demo page's comments under. */
const demoUri = (s: WebServer) => `${s.url}/`;

async function thread(s: WebServer, uri: string) {
  const r = await s.request('GET', `/api/comments?uri=${encodeURIComponent(uri)}`);
  assert.equal(r.status, 200, r.text);
  return r.body as {
    total: number;
    title: string | null;
    comments: { id: string; text: string; likes: number }[];
  };
}

/** A comment's article, found by its id (its text may change). */
const byId = (page: Page, id: string) => page.locator(`article[id="${id}"]`);

describe('the comments widget and the admin page in a real browser', { skip: skip ?? false }, () => {
  let browser: Browser;
  before(async () => {
    ensureWidgetBuilt();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  /**
   * Opens a page in a fresh browser context (a new reader) whose clock starts at the server's clock. Fails the
   * test if the page throws or asks for anything beyond 127.0.0.1.
   */
  async function open(t: TestContext, s: WebServer, o: OpenOptions = {}): Promise<Opened> {
    let context = o.context;
    if (context === undefined) {
      const fresh = await browser.newContext({
        viewport: { width: 1000, height: 900 },
        locale: 'en-US',
        timezoneId: 'UTC',
        bypassCSP: o.bypassCSP ?? false,
      });
      t.after(() => fresh.close());
      await fresh.clock.install({ time: s.now() });
      context = fresh;
    }
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const elsewhere = await onlyLocal(page);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    t.after(() => {
      assert.deepEqual(errors, [], 'no script errors on the page');
      assert.deepEqual(elsewhere, [], 'no requests beyond 127.0.0.1');
    });
    await o.prepare?.(page);
    const p = o.path ?? '/';
    await page.goto(p.startsWith('http') ? p : `${s.url}${p}`);
    const root = page.locator('#quire-thread');
    return {
      context,
      page,
      thread: root,
      form: root.locator('form.quire-form').first(),
      count: root.locator('.quire-count'),
    };
  }

  /** Types `text` into the compose form and posts it; resolves with the new comment's article. */
  async function postComment(o: Opened, text: string, name?: string): Promise<Locator> {
    if (name !== undefined) await o.form.getByLabel('Name').fill(name);
    await o.form.getByLabel('Comment', { exact: true }).fill(text);
    await o.form.getByRole('button', { name: 'Post comment' }).click();
    const art = o.thread.locator('article.quire-new', { hasText: text.replace(/[*`]/g, '') });
    await art.waitFor();
    const id = await art.getAttribute('id');
    assert.ok(id !== null);
    return byId(o.page, id);
  }

  /** Logs in on /admin with the owner's password. */
  async function adminLogin(t: TestContext, s: WebServer, o: OpenOptions = {}): Promise<Opened> {
    const admin = await open(t, s, { ...o, path: '/admin' });
    await admin.page.getByLabel('Admin password').fill(ADMIN_PASSWORD);
    await admin.page.getByRole('button', { name: 'Log in' }).click();
    await admin.page.getByRole('button', { name: 'Log out' }).waitFor();
    return admin;
  }

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

    const saved = await thread(s, demoUri(s));
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
    assert.equal((await thread(s, demoUri(s))).total, 0, 'a preview posts nothing');
  });

  test('an author edits and then deletes their own comment within the edit window, and nobody else’s', async (t) => {
    const s = await startWebServer(t);
    const other = await s.post(demoUri(s), { text: 'Someone else wrote this', author: 'Bob' });
    assert.equal(other.status, 201, other.text);
    const o = await open(t, s);
    const bobs = byId(o.page, `comment-${other.body.comment.id}`);
    await bobs.getByRole('button', { name: 'Reply' }).waitFor();
    assert.equal(await bobs.getByRole('button', { name: 'Edit' }).count(), 0);
    assert.equal(await bobs.getByRole('button', { name: 'Delete' }).count(), 0);

    const mine = await postComment(o, 'My first draft');
    await mine.getByRole('button', { name: 'Edit' }).click();
    const box = mine.getByLabel('Comment', { exact: true });
    assert.equal(await box.inputValue(), 'My first draft');
    assert.equal(await box.evaluate((el) => el === el.ownerDocument.activeElement), true);
    await box.fill('My second draft');
    await mine.getByRole('button', { name: 'Save' }).click();
    await hasText(mine.locator('.quire-body'), 'My second draft');
    await mine.locator('.quire-edited').waitFor();
    await hasText(o.thread.getByRole('status'), 'Your changes were saved.');
    assert.deepEqual(
      (await thread(s, demoUri(s))).comments.map((c) => c.text),
      ['Someone else wrote this', 'My second draft'],
    );

    await mine.getByRole('button', { name: 'Delete' }).click();
    const confirm = mine.getByRole('group', { name: 'Delete this comment for good?' });
    await confirm.getByRole('button', { name: 'Yes, delete' }).click();
    await mine.waitFor({ state: 'detached' });
    await hasText(o.count, '1 comment');
    await hasText(o.thread.getByRole('status'), 'Your comment was deleted.');
    assert.deepEqual(
      (await thread(s, demoUri(s))).comments.map((c) => c.text),
      ['Someone else wrote this'],
    );
  });

  test('the edit and delete buttons vanish when the edit window closes, and an edit left open keeps its text', async (t) => {
    const s = await startWebServer(t);
    const o = await open(t, s);
    const a = await postComment(o, 'Comment A');
    const b = await postComment(o, 'Comment B');
    await a.getByRole('button', { name: 'Edit' }).click();
    await a.getByLabel('Comment', { exact: true }).fill('Comment A, revised too late');
    await b.getByRole('button', { name: 'Delete' }).waitFor();

    // Both clocks move past the window: the server's (it refuses) and the browser's (the widget's timers fire).
    s.advance(EDIT_WINDOW_MS + 1000);
    await o.page.clock.fastForward(EDIT_WINDOW_MS + 1000);
    await b.getByRole('button', { name: 'Edit' }).waitFor({ state: 'detached' });
    assert.equal(await b.getByRole('button', { name: 'Delete' }).count(), 0);
    await b.getByRole('button', { name: 'Reply' }).waitFor();

    await a.getByRole('button', { name: 'Save' }).click();
    await hasText(a.getByRole('alert'), 'The time to edit or delete this comment is over.');
    assert.equal(await a.getByLabel('Comment', { exact: true }).inputValue(), 'Comment A, revised too late');
    await a.getByRole('button', { name: 'Cancel' }).click();
    await hasText(a.locator('.quire-body'), 'Comment A');
    assert.equal(await a.getByRole('button', { name: 'Edit' }).count(), 0);

    await o.page.reload();
    await b.getByRole('button', { name: 'Reply' }).waitFor();
    assert.equal(await o.thread.getByRole('button', { name: 'Edit' }).count(), 0);
    assert.equal(await o.thread.getByRole('button', { name: 'Delete' }).count(), 0);
    assert.deepEqual(
      (await thread(s, demoUri(s))).comments.map((c) => c.text),
      ['Comment A', 'Comment B'],
    );
  });

  test('a like counts once: a second like from the same reader changes nothing', async (t) => {
    const s = await startWebServer(t);
    const c = await s.post(demoUri(s), { text: 'Like me', author: 'Cy' });
    const o = await open(t, s);
    const like = byId(o.page, `comment-${c.body.comment.id}`).getByRole('button', { name: /^Like/ });
    assert.equal(await like.getAttribute('aria-label'), 'Like (0 likes)');
    assert.equal(await like.getAttribute('aria-pressed'), 'false');
    for (const counted of [true, false]) {
      const answer = o.page.waitForResponse((r) => r.url().endsWith('/like'));
      await like.click();
      assert.equal((await (await answer).json()).counted, counted);
      await hasText(like, '♥ 1');
    }
    assert.equal(await like.getAttribute('aria-pressed'), 'true');
    assert.equal(await like.getAttribute('aria-label'), 'Like (1 like)');
    assert.equal((await thread(s, demoUri(s))).comments[0]?.likes, 1);
    await o.page.reload();
    await hasText(like, '♥ 1');
    assert.equal(await like.getAttribute('aria-pressed'), 'true', 'the like is remembered');
  });

  test('with moderation on, a pending comment is shown to its author only, until the owner approves it on the admin page', async (t) => {
    const s = await startWebServer(t, { moderation: 'all' });
    const author = await open(t, s);
    const mine = await postComment(author, 'Please approve me');
    await hasText(author.thread.getByRole('status'), 'Your comment was received and awaits moderation.');
    await hasText(mine.locator('.quire-pending'), /Awaiting moderation/);
    assert.equal(await mine.getByRole('button', { name: 'Reply' }).count(), 0);
    await author.page.reload();
    await mine.locator('.quire-pending').waitFor();

    const reader = await open(t, s);
    await hasText(reader.count, 'No comments yet');
    assert.equal(await reader.thread.locator('article').count(), 0);
    assert.equal((await thread(s, demoUri(s))).total, 0);

    const admin = await open(t, s, { path: '/admin' });
    const password = admin.page.getByLabel('Admin password');
    await password.fill('not the password');
    await password.press('Enter');
    await hasText(admin.page.getByRole('alert'), 'wrong password');
    await password.fill(ADMIN_PASSWORD);
    await password.press('Enter');
    const queue = admin.page.getByRole('list', { name: /^Awaiting moderation/ });
    const item = queue.locator('article', { hasText: 'Please approve me' });
    await item.waitFor();
    const cookie = (await admin.context.cookies()).find((c) => c.name === 'quire_admin');
    assert.ok(cookie !== undefined, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/api/admin');
    assert.equal(await admin.page.evaluate('document.cookie'), '', 'scripts cannot read the session');

    await item.getByRole('button', { name: 'Approve' }).click();
    await hasText(admin.page.getByRole('status'), 'Approved.');
    await queue.getByText('Nothing is waiting.').waitFor();

    await reader.page.reload();
    await reader.thread.locator('article', { hasText: 'Please approve me' }).waitFor();
    await hasText(reader.count, '1 comment');
    assert.equal(await reader.thread.locator('.quire-pending').count(), 0);
    await author.page.reload();
    await mine.getByRole('button', { name: 'Reply' }).waitFor();
    assert.equal(await mine.locator('.quire-pending').count(), 0);
  });

  test('the owner edits, marks as spam and deletes comments on the admin page, then logs out', async (t) => {
    const s = await startWebServer(t);
    for (const text of ['Keep but fix the tpyo', 'Buy cheap pills', 'Delete me please']) {
      assert.equal((await s.post(demoUri(s), { text, author: 'Someone' })).status, 201);
      s.advance(1000);
    }
    const admin = await adminLogin(t, s);
    const { page } = admin;
    const recent = page.getByRole('list', { name: 'Recent comments' });
    const item = (text: string) => recent.locator('article', { hasText: text });

    const id = await item('Keep but fix the tpyo').getAttribute('data-id');
    const typo = recent.locator(`article[data-id="${id}"]`);
    await typo.getByRole('button', { name: 'Edit' }).click();
    await typo.getByLabel('Text').fill('Keep but fix the typo');
    await typo.getByRole('button', { name: 'Save' }).click();
    await hasText(page.getByRole('status'), 'Saved.');
    await item('Keep but fix the typo').waitFor();

    await item('Buy cheap pills').getByRole('button', { name: 'Spam' }).click();
    await hasText(page.getByRole('status'), 'Marked as spam.');
    await hasText(item('Buy cheap pills').locator('.badge'), 'spam');

    await item('Delete me please').getByRole('button', { name: 'Delete' }).click();
    await item('Delete me please').getByRole('button', { name: 'Yes, delete' }).click();
    await hasText(page.getByRole('status'), 'Deleted.');
    await item('Delete me please').waitFor({ state: 'detached' });

    assert.deepEqual(
      (await thread(s, demoUri(s))).comments.map((c) => c.text),
      ['Keep but fix the typo'],
    );

    const moderation = page.getByLabel('Hold new comments for approval');
    await moderation.check();
    await hasText(page.getByRole('status'), 'New comments now wait for approval.');
    assert.equal(
      (await s.request('GET', `/api/comments?uri=${encodeURIComponent(demoUri(s))}`)).body.moderation,
      'all',
    );

    const session = (await admin.context.cookies()).find((c) => c.name === 'quire_admin');
    assert.ok(session !== undefined);
    await page.getByRole('button', { name: 'Log out' }).click();
    await hasText(page.getByRole('alert'), 'You are logged out.');
    await page.getByLabel('Admin password').waitFor();
    assert.equal((await admin.context.cookies()).filter((c) => c.name === 'quire_admin').length, 0);
    const replayed = await s.request('GET', '/api/admin/comments', undefined, {
      cookie: `quire_admin=${session.value}`,
    });
    assert.equal(replayed.status, 401, 'a copy of the old cookie is worthless');
    await page.reload();
    await page.getByLabel('Admin password').waitFor();
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
    assert.equal((await thread(s, demoUri(s))).total, 0);
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
    assert.equal((await thread(s, demoUri(s))).total, 1);
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

  test('comments carrying script through the API render as inert text, on the page and on the admin page', async (t) => {
    const s = await startWebServer(t);
    const payloads = [
      {
        text: '<script>window.__xss = "script"</script>',
        author: '<img src=x onerror="window.__xss=\'author\'">',
        title: '</title><script>window.__xss="title"</script>',
      },
      { text: '<img src=x onerror="window.__xss=\'img\'"> and <svg onload="window.__xss=\'svg\'"></svg>' },
      { text: '[click me](javascript:window.__xss="link") and <a href="javascript:window.__xss=1">raw</a>' },
      {
        text: '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe> <style>*{display:none}</style>',
        website: 'https://example.org/"><img src=x onerror="window.__xss=\'site\'">',
      },
    ];
    for (const p of payloads) {
      const r = await s.post(demoUri(s), p);
      assert.equal(r.status, 201, r.text);
      s.advance(1000);
    }
    const dialogs: string[] = [];
    const prepare = async (page: Page) => {
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.addInitScript(() => {
        const w = globalThis as unknown as Record<string, unknown>;
        w.alert = () => {
          w.__xss = 'alert';
        };
      });
    };
    // Without the page's Content-Security-Policy: the widget alone must keep the payloads inert.
    const o = await open(t, s, { bypassCSP: true, prepare });
    await hasText(o.count, '4 comments');
    await hasText(
      o.thread.locator('.quire-list .quire-body').first(),
      '<script>window.__xss = "script"</script>',
    );
    await o.thread.locator('.quire-author', { hasText: '<img src=x onerror=' }).waitFor();
    const list = o.thread.locator('.quire-list');
    assert.equal(await list.locator('script, img, svg, iframe, style').count(), 0);
    assert.equal(await list.locator('a[href^="javascript" i]').count(), 0);
    await list.getByRole('link', { name: 'click me' }).waitFor();
    assert.equal(await o.page.evaluate('window.__xss'), undefined);

    // The check can see an injection when there is one: a handler inserted on purpose does run.
    await o.page.evaluate(`{
      const div = document.createElement('div');
      div.innerHTML = '<img src="data:," onerror="window.__xss=\\'control\\'">';
      document.body.append(div);
    }`);
    await o.page.waitForFunction(
      () => (globalThis as unknown as Record<string, unknown>).__xss === 'control',
    );

    const admin = await adminLogin(t, s, { bypassCSP: true, prepare });
    const recent = admin.page.getByRole('list', { name: 'Recent comments' });
    await recent.locator('article', { hasText: '<script>window.__xss = "script"</script>' }).waitFor();
    await recent
      .getByRole('link', { name: '</title><script>window.__xss="title"</script>' })
      .first()
      .waitFor();
    assert.equal(
      await admin.page.locator('#quire-admin').locator('script, img, svg, iframe, style').count(),
      0,
    );
    assert.equal(await admin.page.evaluate('window.__xss'), undefined);
    assert.deepEqual(dialogs, []);
  });

  test('while the thread loads a skeleton holds its place, and the compose form does not move', async (t) => {
    const s = await startWebServer(t);
    for (const text of ['Early bird', 'Second one']) await s.post(demoUri(s), { text });
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const o = await open(t, s, {
      prepare: async (page) => {
        await page.route(
          (u) => u.pathname === '/api/comments',
          async (route) => {
            await gate;
            await route.fallback();
          },
        );
      },
    });
    await o.thread.locator('.quire-skel').first().waitFor();
    assert.equal(await o.thread.getAttribute('aria-busy'), 'true');
    const before = await o.form.boundingBox();
    const reserved = await o.thread.locator('.quire-list').boundingBox();
    assert.ok(before !== null && reserved !== null);
    assert.ok(reserved.height >= 200, `the list reserves space while loading (${reserved.height}px)`);
    release();
    await o.thread.locator('article', { hasText: 'Second one' }).waitFor();
    assert.equal(await o.thread.locator('.quire-skel').count(), 0);
    assert.equal(await o.thread.getAttribute('aria-busy'), null);
    assert.deepEqual(await o.form.boundingBox(), before);
  });

  test('comments beyond the first page come with a button that shows more', async (t) => {
    const s = await startWebServer(t, { limits: { pageSize: 2 } });
    for (const text of ['Page one A', 'Page one B', 'Page two C']) {
      await s.post(demoUri(s), { text });
      s.advance(1000);
    }
    const o = await open(t, s);
    await o.thread.locator('article', { hasText: 'Page one B' }).waitFor();
    assert.equal(await o.thread.locator('article', { hasText: 'Page two C' }).count(), 0);
    await hasText(o.count, '3 comments');
    const more = o.thread.getByRole('button', { name: 'Show more comments' });
    await more.click();
    await o.thread.locator('article', { hasText: 'Page two C' }).waitFor();
    await more.waitFor({ state: 'hidden' });
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
    for (const name of ['email', 'website', 'text']) {
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

  test('embedded with two lines on another site with a strict policy, the widget speaks the page’s language and works across origins', async (t) => {
    let quire = '';
    const host = await startHostSite(
      t,
      () => `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Ein Beitrag</title></head>
<body><h1>Ein Beitrag</h1><p>Irgendein Text.</p>
<script src="${quire}/js/embed.js" data-quire="${quire}" defer></script>
<section id="quire-thread"></section>
</body></html>`,
      // A strict policy: scripts and requests only to the comment service, no inline styles.
      () => ({ 'content-security-policy': `default-src 'none'; script-src ${quire}; connect-src ${quire}` }),
    );
    const s = await startWebServer(t, { origins: [host] });
    quire = s.url;
    const o = await open(t, s, { path: `${host}/post.html` });
    await hasText(o.count, 'Noch keine Kommentare');
    const send = o.form.getByRole('button', { name: 'Kommentar senden' });
    assert.equal(
      await send.evaluate((el) => (globalThis as any).getComputedStyle(el).backgroundColor),
      'rgb(10, 88, 202)',
      'styled, though the page allows no inline styles',
    );
    await o.form.getByLabel('Kommentar', { exact: true }).fill('Grüße von nebenan');
    await send.click();
    const posted = o.thread.locator('article', { hasText: 'Grüße von nebenan' });
    const mine = byId(o.page, (await posted.getAttribute('id')) ?? '');
    await hasText(o.count, '1 Kommentar');
    await hasText(o.thread.getByRole('status'), 'Ihr Kommentar wurde veröffentlicht.');
    await hasText(mine.locator('time'), 'jetzt');

    await mine.getByRole('button', { name: 'Bearbeiten' }).click();
    await mine.getByLabel('Kommentar', { exact: true }).fill('Grüße von nebenan, bearbeitet');
    await mine.getByRole('button', { name: 'Speichern' }).click();
    await hasText(o.thread.getByRole('status'), 'Ihre Änderungen wurden gespeichert.');
    const saved = await thread(s, `${host}/post.html`);
    assert.equal(saved.title, 'Ein Beitrag');
    assert.deepEqual(
      saved.comments.map((c) => c.text),
      ['Grüße von nebenan, bearbeitet'],
    );

    await mine.getByRole('button', { name: 'Löschen' }).click();
    await mine.getByRole('button', { name: 'Ja, löschen' }).click();
    await hasText(o.count, 'Noch keine Kommentare');
    assert.equal((await thread(s, `${host}/post.html`)).total, 0);
  });

  test('the demo page looks right in light and dark colour schemes (screenshots in docs/)', async (t) => {
    const s = await startWebServer(t);
    const page1 = demoUri(s);
    const a = await s.post(page1, {
      text: 'Plain files are such a relief: I can **grep** my comments, and back them up with `rsync`.',
      author: 'Grace',
      website: 'https://example.org',
    });
    await s.request('POST', `/api/comments/${a.body.comment.id}/like`);
    s.advance(25 * 60_000);
    await s.post(page1, {
      text: 'And `git` can keep their history. Nice.',
      author: 'Linus',
      parent: a.body.comment.id,
    });
    s.advance(2 * 3600_000);
    await s.post(page1, {
      text: 'What happens on a power cut in the middle of a write?\n\n> no reader ever sees a half-written file\n\nGood answer.',
      author: 'Margaret',
    });
    s.advance(10 * 60_000);
    const o = await open(t, s);
    await o.page.setViewportSize({ width: 860, height: 1000 });
    await hasText(o.count, '3 comments');
    await hasText(o.page.locator('[data-quire-count]'), '3 comments');
    await hasText(o.thread.locator('time').first(), '3 hours ago');
    const accent = () =>
      o.form
        .getByRole('button', { name: 'Post comment' })
        .evaluate((el) => (globalThis as any).getComputedStyle(el).backgroundColor);
    // The snippet names the test server's random port; show a stable origin so the pictures only change when
    // the page does.
    await o.page.evaluate(() => {
      const g = globalThis as any;
      for (const el of g.document.querySelectorAll('pre')) {
        el.textContent = el.textContent.replaceAll(g.location.origin, 'https://comments.example.org');
      }
    });
    const shots: Record<string, string> = {};
    for (const colorScheme of ['light', 'dark'] as const) {
      await o.page.emulateMedia({ colorScheme });
      shots[colorScheme] = await accent();
      const file = path.join(repoDir, 'docs', `screenshot-${colorScheme}.png`);
      await o.page.screenshot({ path: file, fullPage: true });
      assert.ok(fs.statSync(file).size > 20_000, `${file} holds a picture`);
    }
    assert.equal(shots.light, 'rgb(10, 88, 202)');
    assert.equal(shots.dark, 'rgb(138, 180, 248)', 'the widget follows prefers-color-scheme');
  });
});

describe('the admin session behind the admin page', () => {
  before(() => ensureWidgetBuilt());

  async function login(s: WebServer): Promise<{ cookie: string; csrf: string; setCookie: string }> {
    const r = await s.request('POST', '/api/admin/session', { password: ADMIN_PASSWORD });
    assert.equal(r.status, 200, r.text);
    const setCookie = r.headers.get('set-cookie') ?? '';
    return { cookie: setCookie.split(';')[0] as string, csrf: r.body.csrfToken, setCookie };
  }

  test('logging in sets an HttpOnly SameSite=Strict cookie, and every change needs its CSRF token', async (t) => {
    const s = await startWebServer(t);
    const c = (await s.post(demoUri(s), { text: 'Moderate me' })).body.comment;
    const wrong = await s.request('POST', '/api/admin/session', { password: 'nope' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.code, 'bad-password');
    assert.equal(wrong.headers.get('set-cookie'), null);

    const { cookie, csrf, setCookie } = await login(s);
    assert.match(
      setCookie,
      /^quire_admin=[\w.-]+; Path=\/api\/admin; Max-Age=43200; HttpOnly; SameSite=Strict$/,
    );
    assert.match(csrf, /^[0-9a-f]{64}$/);
    assert.equal((await s.request('GET', '/api/admin/session', undefined, { cookie })).body.csrfToken, csrf);
    const list = await s.request('GET', '/api/admin/comments?status=all', undefined, { cookie });
    assert.equal(list.status, 200, 'reading needs no CSRF token');
    assert.equal(list.body.comments.length, 1);

    const spam = `/api/admin/comments/${c.id}/spam`;
    const attempts: Record<string, string>[] = [{ cookie }, { cookie, 'x-quire-csrf': 'f'.repeat(64) }];
    for (const headers of attempts) {
      const r = await s.request('POST', spam, undefined, headers);
      assert.equal(r.status, 403, r.text);
      assert.equal(r.body.code, 'csrf-token-invalid');
    }
    assert.equal(
      (await s.request('POST', spam, undefined, { 'x-quire-csrf': csrf })).status,
      401,
      'no cookie',
    );
    const ok = await s.request('POST', spam, undefined, { cookie, 'x-quire-csrf': csrf });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.comment.status, 'spam');
  });

  test('logging out ends the session for good, for a copy of the cookie and for a bearer token alike', async (t) => {
    const s = await startWebServer(t);
    const { cookie, csrf } = await login(s);
    const refused = await s.request('POST', '/api/admin/logout', undefined, { cookie });
    assert.equal(refused.status, 403, 'logging out is a change too: it needs the CSRF token');
    const out = await s.request('POST', '/api/admin/logout', undefined, { cookie, 'x-quire-csrf': csrf });
    assert.equal(out.status, 200, out.text);
    assert.equal(out.body.loggedOut, true);
    assert.match(out.headers.get('set-cookie') ?? '', /^quire_admin=; Path=\/api\/admin; Max-Age=0;/);
    assert.equal((await s.request('GET', '/api/admin/comments', undefined, { cookie })).status, 401);
    assert.equal((await s.request('GET', '/api/admin/session', undefined, { cookie })).status, 401);

    s.advance(1000); // a token is its expiry, signed: a login in the same millisecond would get the same one
    const bearer = await s.request('POST', '/api/admin/login', { password: ADMIN_PASSWORD });
    const authorization = `Bearer ${bearer.body.token}`;
    assert.equal((await s.request('GET', '/api/admin/comments', undefined, { authorization })).status, 200);
    assert.equal(
      (await s.request('POST', '/api/admin/logout', undefined, { authorization })).body.loggedOut,
      true,
    );
    assert.equal((await s.request('GET', '/api/admin/comments', undefined, { authorization })).status, 401);
  });

  test("a session ends when its time is up on the server's clock", async (t) => {
    const s = await startWebServer(t);
    const { cookie } = await login(s);
    s.advance(12 * 3600_000 - 1000);
    assert.equal((await s.request('GET', '/api/admin/comments', undefined, { cookie })).status, 200);
    s.advance(2000);
    assert.equal((await s.request('GET', '/api/admin/comments', undefined, { cookie })).status, 401);
    assert.equal((await s.request('GET', '/api/admin/session', undefined, { cookie })).status, 401);
  });

  test('the pages come with a content security policy and the scripts with caching headers', async (t) => {
    const s = await startWebServer(t);
    const demo = await s.request('GET', '/');
    assert.equal(demo.status, 200);
    assert.match(demo.contentType, /^text\/html/);
    assert.match(demo.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.ok(demo.text.includes(`<script src="${s.url}/js/embed.js" data-quire="${s.url}" defer></script>`));
    assert.ok(demo.text.includes('<section id="quire-thread"></section>'));
    assert.match((await s.request('GET', '/?lang=de')).text, /<html lang="de">/);
    const admin = await s.request('GET', '/admin');
    assert.match(admin.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(admin.headers.get('x-frame-options'), 'DENY');

    const js = await s.request('GET', '/js/embed.js');
    assert.equal(js.status, 200);
    assert.match(js.contentType, /^text\/javascript/);
    assert.match(js.headers.get('cache-control') ?? '', /^public, max-age=300/);
    const etag = js.headers.get('etag') ?? '';
    assert.equal((await s.request('GET', '/js/embed.js', undefined, { 'if-none-match': etag })).status, 304);
    assert.equal((await s.request('GET', '/js/admin.js')).status, 200);
    const other = await s.request('GET', '/js/secret.js');
    assert.equal(other.status, 400);
    assert.match(other.contentType, /^application\/problem\+json/);
  });
});
