import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { describe, test } from 'node:test';
import { browserUnavailable, hasText, repoDir, until } from './fixtures/web-browser.js';
import { byId, demoUri, publicThread, usePages } from './fixtures/web-page.js';
import { startHostSite, startWebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();

describe('the widget on a page: loading, paging, embedding elsewhere, the demo page', {
  skip: skip ?? false,
}, () => {
  const { open } = usePages();

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
    const saved = await publicThread(s, `${host}/post.html`);
    assert.equal(saved.title, 'Ein Beitrag');
    assert.deepEqual(
      saved.comments.map((c) => c.text),
      ['Grüße von nebenan, bearbeitet'],
    );

    await mine.getByRole('button', { name: 'Löschen' }).click();
    await mine.getByRole('button', { name: 'Ja, löschen' }).click();
    await hasText(o.count, 'Noch keine Kommentare');
    assert.equal((await publicThread(s, `${host}/post.html`)).total, 0);
  });

  test('the demo page and the admin page have an icon: the browser asks for one and gets it', async (t) => {
    const s = await startWebServer(t);
    const answered: string[] = [];
    s.app.server.on('request', (req: IncomingMessage, res: ServerResponse) =>
      res.on('finish', () => answered.push(`${res.statusCode} ${req.url}`)),
    );
    const isIcon = (line: string) => /\/favicon\.(ico|svg)$/.test(line);
    for (const p of ['/', '/admin']) {
      answered.length = 0;
      await open(t, s, { path: p, onlyLocal: false });
      await until(`the browser asked ${p}'s icon`, async () => answered.some(isIcon));
      assert.deepEqual(
        answered.filter((line) => line.startsWith('404 ')),
        [],
        `nothing ${p} asks for is missing`,
      );
    }
    const icon = await s.request('GET', '/favicon.ico');
    assert.equal(icon.status, 200);
    assert.match(icon.contentType, /^image\//);
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
