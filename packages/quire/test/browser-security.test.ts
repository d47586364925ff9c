import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserUnavailable, hasText } from './fixtures/web-browser.js';
import { demoUri, usePages } from './fixtures/web-page.js';
import { startWebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();

describe('hostile comments in a real browser', { skip: skip ?? false }, () => {
  const { open, adminLogin } = usePages();

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
    // The identicons are the widget's own SVG (rectangles only); nothing else of the kind is on the list.
    assert.equal(await list.locator('script, img, iframe, style, svg:not(.quire-avatar > svg)').count(), 0);
    assert.equal(await list.locator('.quire-avatar :not(svg, rect)').count(), 0);
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
});
