import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserUnavailable, hasText, until } from './fixtures/web-browser.js';
import { demoUri, screenshots, usePages } from './fixtures/web-page.js';
import { startWebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();

/** How often the admin page asks for the queue while it is visible. */
const POLL_MS = 15_000;

/** Makes the page believe its tab is hidden or shown again, as switching tabs does. */
async function setVisible(page: Page, visible: boolean): Promise<void> {
  await page.evaluate((v) => {
    const d = (globalThis as any).document;
    Object.defineProperty(d, 'visibilityState', {
      configurable: true,
      get: () => (v ? 'visible' : 'hidden'),
    });
    Object.defineProperty(d, 'hidden', { configurable: true, get: () => !v });
    d.dispatchEvent(new Event('visibilitychange'));
  }, visible);
}

describe('the admin queue keeps itself current', { skip: skip ?? false }, () => {
  const { adminLogin } = usePages();

  test('new comments appear by themselves while the page is visible, without disturbing a selection or the scroll', async (t) => {
    const s = await startWebServer(t, { moderation: 'all' });
    for (let i = 1; i <= 12; i++) {
      await s.post(demoUri(s), { text: `Waiting comment number ${i}`, author: `Reader ${i}` });
      s.advance(1000);
    }
    const admin = await adminLogin(t, s, { viewport: { width: 1000, height: 600 } });
    const { page } = admin;
    const queue = page.getByRole('list', { name: /^Awaiting moderation/ });
    const six = queue.locator('article', { hasText: 'Waiting comment number 6' });
    await six.waitFor();
    await hasText(page.getByRole('heading', { name: /^Awaiting moderation/ }), 'Awaiting moderation (12)');
    const listed: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/admin/comments?')) listed.push(r.url());
    });

    // The moderator scrolls to a comment and selects some of its words.
    await six.scrollIntoViewIfNeeded();
    await six.evaluate((el: any) => {
      el.dataset.mark = 'the same element';
      const range = el.ownerDocument.createRange();
      range.selectNodeContents(el.querySelector('.body'));
      const selection = el.ownerDocument.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    });
    const where = () => six.evaluate((el: any) => Math.round(el.getBoundingClientRect().top));
    const top = await where();
    const selected = () => page.evaluate(() => String((globalThis as any).getSelection()).trim());
    assert.equal(await selected(), 'Waiting comment number 6');

    s.advance(1000);
    await s.post(demoUri(s), { text: 'Arrived while the page was open' });
    await page.clock.fastForward(POLL_MS);
    await queue.locator('article', { hasText: 'Arrived while the page was open' }).waitFor();
    await hasText(page.getByRole('heading', { name: /^Awaiting moderation/ }), 'Awaiting moderation (13)');
    assert.equal(
      await six.getAttribute('data-mark'),
      'the same element',
      'unchanged rows are kept, not redrawn',
    );
    assert.equal(await selected(), 'Waiting comment number 6', 'the selection survives');
    assert.equal(await where(), top, 'the comment being read stays where it was on the screen');

    // An edit half typed survives a refresh; Cancel puts the comment back as it was.
    const threeId = await queue
      .locator('article', { hasText: 'Waiting comment number 3' })
      .getAttribute('data-id');
    const three = queue.locator(`article[data-id="${threeId}"]`);
    await three.getByRole('button', { name: 'Edit' }).click();
    await three.getByLabel('Text').fill('Half typed');
    const polled = page.waitForResponse((r) => r.url().includes('/api/admin/comments?status=pending'));
    await page.clock.fastForward(POLL_MS);
    await polled;
    assert.equal(await three.getByLabel('Text').inputValue(), 'Half typed');
    await three.getByRole('button', { name: 'Cancel' }).click();
    await hasText(three.locator('.body'), 'Waiting comment number 3');
    assert.equal(await three.getByLabel('Text').count(), 0);

    // A hidden tab asks for nothing; shown again, it catches up at once.
    await setVisible(page, false);
    const before = listed.length;
    s.advance(1000);
    await s.post(demoUri(s), { text: 'Arrived while the tab was hidden' });
    await page.clock.fastForward(4 * POLL_MS);
    assert.equal(listed.length, before, 'no polling while hidden');
    assert.equal(await queue.locator('article', { hasText: 'while the tab was hidden' }).count(), 0);
    await setVisible(page, true);
    await queue.locator('article', { hasText: 'Arrived while the tab was hidden' }).waitFor();
    await until('one refresh on showing', async () => listed.length > before);
  });

  test('a refresh that was under way when the moderator acted does not show the comment as it was before', async (t) => {
    const s = await startWebServer(t, { moderation: 'all' });
    const c = await s.post(demoUri(s), { text: 'Approve me during a refresh' });
    const id: string = c.body.comment.id;
    const { page } = await adminLogin(t, s);
    const queue = page.getByRole('list', { name: /^Awaiting moderation/ });
    const item = queue.locator(`article[data-id="${id}"]`);
    await item.waitFor();

    // The next poll reads the queue now, but its answer arrives only after the approval.
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = false;
    const read = new Promise<void>((resolve) => {
      void page.route(
        (u) => u.pathname === '/api/admin/comments' && u.searchParams.get('status') === 'pending',
        async (route) => {
          if (held) return route.fallback();
          held = true;
          const stale = await route.fetch();
          resolve();
          await gate;
          await route.fulfill({ response: stale });
        },
      );
    });
    await page.clock.fastForward(POLL_MS);
    await read;
    await item.getByRole('button', { name: 'Approve' }).click();
    await hasText(page.getByRole('status'), 'Approved.');
    await page.evaluate((cid) => {
      const w = globalThis as any;
      w.__pendingAgain = 0;
      new w.MutationObserver(() => {
        const badge = w.document.querySelector(`#quire-admin ol li[data-id="${cid}"] .badge`);
        if (badge?.textContent === 'pending') w.__pendingAgain++;
      }).observe(w.document.getElementById('quire-admin'), { childList: true, subtree: true });
    }, id);
    release();
    await queue.getByText('Nothing is waiting.').waitFor();
    assert.equal(await page.evaluate('window.__pendingAgain'), 0, 'never shown as pending again');
  });

  test('a reply says which comment it answers, with the author and the start of its text, linked', async (t) => {
    const s = await startWebServer(t, { moderation: 'all' });
    const long = `The parent comment ${'is rather long and goes on '.repeat(8)}until the end.`;
    const parent = await s.post(demoUri(s), { text: long, author: 'Ada' });
    assert.equal(parent.status, 202, parent.text);
    const parentId: string = parent.body.comment.id;
    s.advance(1000);
    const reply = await s.post(demoUri(s), { text: 'I disagree', author: 'Bob', parent: parentId });
    assert.equal(reply.status, 202, reply.text);

    const { page } = await adminLogin(t, s);
    const queue = page.getByRole('list', { name: /^Awaiting moderation/ });
    const answer = queue.locator(`article[data-id="${reply.body.comment.id}"]`);
    const context = answer.locator('.reply-to');
    await hasText(context, /^In reply to Ada: “The parent comment is rather long/);
    const shown = (await context.textContent()) ?? '';
    assert.ok(shown.length < 200, `an excerpt, not the whole text (${shown.length} characters)`);
    const link = context.getByRole('link');
    assert.match((await link.getAttribute('href')) ?? '', new RegExp(`#comment-${parentId}$`));
    assert.equal(
      await queue.locator(`article[data-id="${parentId}"] .reply-to`).count(),
      0,
      'a top-level comment answers nobody',
    );
    await screenshots(page, 'admin-queue', [375, 1024, 1440]);
  });
});
