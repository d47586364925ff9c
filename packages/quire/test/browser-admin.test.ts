import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { browserUnavailable, hasText } from './fixtures/web-browser.js';
import { demoUri, postComment, publicThread, usePages } from './fixtures/web-page.js';
import { ADMIN_PASSWORD, startWebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();

describe('the admin page in a real browser', { skip: skip ?? false }, () => {
  const { open, adminLogin } = usePages();

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
    assert.equal((await publicThread(s, demoUri(s))).total, 0);

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
      (await publicThread(s, demoUri(s))).comments.map((c) => c.text),
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
});
