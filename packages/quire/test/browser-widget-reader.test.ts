/**
 * Issue 15, the widget's missing pieces: "Notify me of replies", the sort order, unlike, identicon avatars (and
 * Gravatar only when the site turns it on), the live count, and a post sent right after the page loads.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { threadIdOf } from '../src/index.js';
import { browserUnavailable, hasText } from './fixtures/web-browser.js';
import { byId, demoUri, type Opened, publicThread, usePages } from './fixtures/web-page.js';
import { startWebServer, type WebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();

/** The texts of the top-level comments, in the order the widget shows them. */
const topTexts = (o: Opened) =>
  o.thread.locator('ol.quire-list > li.quire-c > article .quire-body').allTextContents();

/** Posts through the API, `ms` later on the server's clock than the last. */
async function later(s: WebServer, ms: number, fields: Record<string, unknown>) {
  s.advance(ms);
  const r = await s.post(demoUri(s), fields);
  assert.ok(r.status === 201, r.text);
  return r.body.comment as { id: string };
}

describe("the widget's reader pieces: notify, sort, unlike, avatars, quick posts", {
  skip: skip ?? false,
}, () => {
  const { open } = usePages();

  test('"Notify me of replies" needs an e-mail, says so, and is stored privately with the comment', async (t) => {
    const s = await startWebServer(t);
    const o = await open(t, s);
    const box = o.form.getByRole('checkbox', { name: 'Notify me of replies by e-mail' });
    const email = o.form.getByRole('textbox', { name: /^E-mail/ });
    assert.equal(await box.isChecked(), false, 'off unless the reader asks');
    await box.check();
    await o.form.getByText('(needed for reply mail, never shown)').waitFor();
    assert.equal(await email.getAttribute('required'), '', 'the e-mail field is required now');
    await o.form.getByLabel('Comment', { exact: true }).fill('Tell me when someone answers');
    const posts: string[] = [];
    o.page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/comments')) posts.push(r.url());
    });
    await o.form.getByRole('button', { name: 'Post comment' }).click();
    const missing = (el: unknown) => (el as { validity: { valueMissing: boolean } }).validity.valueMissing;
    assert.equal(await email.evaluate(missing), true, 'the browser asks for the address');
    assert.equal(
      await email.evaluate((el) => el === el.ownerDocument.activeElement),
      true,
      'sent to the field',
    );
    await email.fill('ann@example.org');
    await o.form.getByRole('button', { name: 'Post comment' }).click();
    const art = o.thread.locator('article.quire-new');
    await art.waitFor();
    assert.equal(posts.length, 1, 'nothing was sent without the address');
    const id = (await art.getAttribute('id'))?.replace(/^comment-/, '') ?? '';
    const stem = id.slice(id.lastIndexOf('_') + 1);
    const file = path.join(s.store.threadsDir, threadIdOf(demoUri(s)), `${stem}.json`);
    const record = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(record.notify, true);
    assert.equal(record.email, 'ann@example.org');
    const shown = await s.request('GET', `/api/comments?uri=${encodeURIComponent(demoUri(s))}`);
    assert.ok(!shown.text.includes('notify') && !shown.text.includes('ann@example.org'));

    const de = await open(t, s, { path: '/?lang=de' });
    await de.form.getByRole('checkbox', { name: 'Bei Antworten per E-Mail benachrichtigen' }).check();
    await de.form.getByText('(nötig für Antworten per E-Mail, wird nie angezeigt)').waitFor();
  });

  test('sort: oldest, newest, most liked; replies stay under their comment; the choice is remembered', async (t) => {
    const s = await startWebServer(t);
    const a = await later(s, 1000, { text: 'A first' });
    const b = await later(s, 1000, { text: 'B second' });
    await later(s, 1000, { text: 'C third' });
    await later(s, 1000, { text: 'reply to A', parent: a.id });
    const threadId = threadIdOf(demoUri(s));
    for (const ip of ['198.51.100.1', '198.51.100.2', '203.0.113.3'])
      await s.store.like(threadId, b.id.split('_')[1] as string, ip);
    await s.store.like(threadId, a.id.split('_')[1] as string, '198.51.100.1');
    const o = await open(t, s);
    const sort = o.thread.getByLabel('Sort');
    await hasText(o.count, '4 comments');
    assert.deepEqual(await topTexts(o), ['A first', 'B second', 'C third']);
    assert.equal(await sort.inputValue(), 'oldest');

    await sort.selectOption({ label: 'Newest first' });
    await o.thread.locator('ol.quire-list > li.quire-c').first().filter({ hasText: 'C third' }).waitFor();
    assert.deepEqual(await topTexts(o), ['C third', 'B second', 'A first']);

    // A comment posted elsewhere meanwhile: the next reload shows it, and the count (heading and byline) follows.
    await later(s, 1000, { text: 'D from elsewhere' });
    await sort.selectOption({ label: 'Most liked' });
    await hasText(o.count, '5 comments');
    await hasText(o.page.locator('.byline [data-quire-count]'), '5 comments');
    assert.deepEqual(await topTexts(o), ['B second', 'A first', 'C third', 'D from elsewhere']);
    const reply = byId(o.page, `comment-${a.id}`).locator('xpath=..').locator('ol.quire-replies article');
    await hasText(reply.locator('.quire-body'), 'reply to A');

    await o.page.reload();
    await hasText(o.count, '5 comments');
    assert.equal(await sort.inputValue(), 'liked', 'remembered in this browser');
    await o.thread.locator('ol.quire-list > li.quire-c').first().filter({ hasText: 'B second' }).waitFor();
    assert.deepEqual(await topTexts(o), ['B second', 'A first', 'C third', 'D from elsewhere']);
  });

  test('a second click on the heart takes the like back, on the server too', async (t) => {
    const s = await startWebServer(t);
    const c = await later(s, 0, { text: 'Like me, then not' });
    const o = await open(t, s);
    const like = byId(o.page, `comment-${c.id}`).getByRole('button', { name: /^Like/ });
    for (const [method, n, pressed] of [
      ['POST', 1, 'true'],
      ['DELETE', 0, 'false'],
      ['POST', 1, 'true'],
      ['DELETE', 0, 'false'],
    ] as const) {
      const answer = o.page.waitForResponse((r) => r.url().endsWith('/like'));
      await like.click();
      const res = await answer;
      assert.equal(res.request().method(), method);
      assert.equal((await res.json()).counted, true);
      await hasText(like, `♥ ${n}`);
      assert.equal(await like.getAttribute('aria-pressed'), pressed);
      assert.equal((await publicThread(s, demoUri(s))).comments[0]?.likes, n);
    }
    await o.page.reload();
    await hasText(like, '♥ 0');
    assert.equal(await like.getAttribute('aria-pressed'), 'false', 'the unlike is remembered');
  });

  test('avatars are drawn here from a keyed hash: one per address, and nothing fetched from elsewhere', async (t) => {
    const s = await startWebServer(t);
    const a = await later(s, 1000, { text: 'one', email: 'kim@example.org', author: 'Kim' });
    const b = await later(s, 1000, { text: 'two', email: 'KIM@example.org' });
    const c = await later(s, 1000, { text: 'three', email: 'lee@example.org' });
    const o = await open(t, s);
    const pic = (id: string) => byId(o.page, `comment-${id}`).locator('.quire-avatar svg');
    await pic(c.id).waitFor();
    const [pa, pb, pc] = await Promise.all([a, b, c].map((x) => pic(x.id).evaluate((el) => el.outerHTML)));
    assert.equal(pa, pb, 'one address, one picture');
    assert.notEqual(pa, pc);
    assert.equal(await o.thread.locator('.quire-avatar img').count(), 0, 'no Gravatar unless turned on');
    // open() fails the test on any request beyond 127.0.0.1.
  });

  test('with avatars.gravatar on, the Gravatar is shown over the identicon, which stays where there is none', async (t) => {
    const s = await startWebServer(t, { avatars: { gravatar: true } });
    const withPic = await later(s, 1000, { text: 'has one', email: 'Has@Example.org' });
    const without = await later(s, 1000, { text: 'has none', email: 'none@example.org' });
    const asked: string[] = [];
    const hash = createHash('sha256').update('has@example.org').digest('hex');
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
      'base64',
    );
    const o = await open(t, s, {
      // The demo page's CSP allows images from itself only; a site turning Gravatar on allows gravatar.com.
      bypassCSP: true,
      prepare: async (page) => {
        await page.route('https://www.gravatar.com/**', (route) => {
          const url = route.request().url();
          asked.push(url);
          const found = url.includes(hash);
          return route.fulfill(
            found ? { status: 200, contentType: 'image/png', body: png } : { status: 404, body: '' },
          );
        });
      },
    });
    const img = byId(o.page, `comment-${withPic.id}`).locator('.quire-avatar img');
    await img.waitFor();
    // The picture gravatar.com does not have is taken away again.
    await o.page.waitForFunction(
      `document.querySelector('[id="comment-${without.id}"] .quire-avatar img') === null`,
    );
    assert.equal(await img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth), 1);
    assert.equal(await img.getAttribute('referrerpolicy'), 'no-referrer');
    await byId(o.page, `comment-${without.id}`).locator('.quire-avatar svg').waitFor();
    assert.equal(asked.length, 2);
    assert.ok(asked.some((u) => u.includes(hash)));
  });

  test('a post sent 1 s after the page loads waits out the minimum compose time silently, then is posted', async (t) => {
    const s = await startWebServer(t, { spam: { minComposeSeconds: 3 } });
    const o = await open(t, s);
    await o.form.waitFor();
    const requests: string[] = [];
    o.page.on('request', (r) => {
      if (r.url().includes('/api/')) requests.push(`${r.method()} ${new URL(r.url()).pathname}`);
    });
    const token = o.page.waitForResponse((r) => r.url().includes('/api/form-token'));
    await o.form.getByLabel('Comment', { exact: true }).fill('Quick, but not a bot');
    await token;
    // One second after the page loaded, on both clocks, the reader sends it.
    s.advance(1000);
    await o.page.clock.fastForward(1000);
    const submit = o.form.locator('button[type=submit]');
    await submit.click();
    await hasText(submit, 'Posting…');
    assert.deepEqual(
      requests.filter((r) => r.startsWith('POST')),
      [],
      'nothing sent before the token is good',
    );
    s.advance(4000);
    await o.page.clock.fastForward(4000);
    await o.thread.locator('article.quire-new', { hasText: 'Quick, but not a bot' }).waitFor();
    await hasText(o.count, '1 comment');
    assert.equal(await o.form.getByRole('alert').textContent(), '', 'no error was ever shown');
    assert.deepEqual(
      requests.filter((r) => r.startsWith('POST')),
      ['POST /api/comments'],
      'one post, accepted',
    );
    assert.equal((await publicThread(s, demoUri(s))).total, 1);
  });
});
