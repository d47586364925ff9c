import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { browserUnavailable, hasText } from './fixtures/web-browser.js';
import { demoUri, publicThread, screenshots, usePages } from './fixtures/web-page.js';
import { ADMIN_PASSWORD, startWebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();
const DAY_MS = 86_400_000;

describe('a deleted comment can be restored on the admin page for a while', { skip: skip ?? false }, () => {
  const { adminLogin } = usePages();

  test('right after a delete the row offers Restore, and restoring brings the comment back as it was', async (t) => {
    const s = await startWebServer(t);
    const c = await s.post(demoUri(s), { text: 'Deleted by mistake', author: 'Ada' });
    assert.equal(c.status, 201, c.text);
    const { page } = await adminLogin(t, s);
    const recent = page.getByRole('list', { name: 'Recent comments' });
    const row = recent.locator(`article[data-id="${c.body.comment.id}"]`);
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByRole('button', { name: 'Yes, delete' }).click();
    await hasText(page.getByRole('status'), 'Deleted.');
    await hasText(row.locator('.badge'), 'deleted');
    assert.equal((await publicThread(s, demoUri(s))).total, 0);
    const restore = row.getByRole('button', { name: 'Restore' });
    assert.equal(
      await restore.evaluate((el) => el === el.ownerDocument.activeElement),
      true,
      'focus on the undo',
    );

    await restore.press('Enter');
    await hasText(page.getByRole('status'), 'Restored.');
    await hasText(row.locator('.badge'), 'approved');
    await hasText(row.locator('.body'), 'Deleted by mistake');
    assert.equal(await row.getByRole('button', { name: 'Restore' }).count(), 0);
    const back = await publicThread(s, demoUri(s));
    assert.deepEqual(
      back.comments.map((x) => x.text),
      ['Deleted by mistake'],
    );
  });

  test('a comment deleted from the queue stays there, deleted, with its Restore button, through refreshes', async (t) => {
    const s = await startWebServer(t, { moderation: 'all' });
    const c = await s.post(demoUri(s), { text: 'Not spam after all', author: 'Ada' });
    assert.equal(c.status, 202, c.text);
    const { page } = await adminLogin(t, s);
    const queue = page.getByRole('list', { name: /^Awaiting moderation/ });
    const row = queue.locator(`article[data-id="${c.body.comment.id}"]`);
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByRole('button', { name: 'Yes, delete' }).click();
    await hasText(page.getByRole('heading', { name: /^Awaiting moderation/ }), 'Awaiting moderation (0)');
    await hasText(row.locator('.badge'), 'deleted');
    const refreshed = page.waitForResponse((r) => r.url().includes('/api/admin/comments?status=pending'));
    await page.clock.fastForward(15_000);
    await refreshed;
    await row.getByRole('button', { name: 'Restore' }).click();
    await hasText(page.getByRole('status'), 'Restored.');
    await hasText(row.locator('.badge'), 'pending');
    await hasText(page.getByRole('heading', { name: /^Awaiting moderation/ }), 'Awaiting moderation (1)');
    await hasText(row.locator('.body'), 'Not spam after all');
  });

  test('the deleted view lists deleted comments; those within the window can be restored, older ones cannot', async (t) => {
    const s = await startWebServer(t, { moderation: 'all' });
    const old = await s.post(demoUri(s), { text: 'Deleted long ago' });
    const recentOne = await s.post(demoUri(s), { text: 'Deleted yesterday' });
    const kept = await s.post(demoUri(s), { text: 'Never deleted' });
    const bearer = async () => {
      const login = await s.request('POST', '/api/admin/login', { password: ADMIN_PASSWORD });
      return { authorization: `Bearer ${login.body.token}` };
    };
    const del = async (id: string) => {
      const r = await s.request('DELETE', `/api/admin/comments/${id}`, undefined, await bearer());
      assert.equal(r.status, 200, r.text);
    };
    await del(old.body.comment.id);
    s.advance(29 * DAY_MS);
    await del(recentOne.body.comment.id);
    s.advance(2 * DAY_MS); // the first is past the 30-day window now, the second is not

    const { page } = await adminLogin(t, s);
    await page.getByLabel('Show').selectOption('deleted');
    const recent = page.getByRole('list', { name: 'Recent comments' });
    const oldRow = recent.locator(`article[data-id="${old.body.comment.id}"]`);
    const newRow = recent.locator(`article[data-id="${recentOne.body.comment.id}"]`);
    await newRow.waitFor();
    await oldRow.waitFor();
    assert.equal(await recent.locator(`article[data-id="${kept.body.comment.id}"]`).count(), 0);
    assert.equal(await oldRow.getByRole('button', { name: 'Restore' }).count(), 0, 'past the window');
    await hasText(oldRow.locator('.deleted-note'), /It can no longer be restored\.$/);
    await hasText(newRow.locator('.deleted-note'), /It can be restored until /);
    await screenshots(page, 'admin-deleted', [375, 1024, 1440]);
    await newRow.getByRole('button', { name: 'Restore' }).click();
    await hasText(page.getByRole('status'), 'Restored.');
    // It was awaiting moderation when deleted, and goes back to the queue.
    const queue = page.getByRole('list', { name: /^Awaiting moderation/ });
    await queue.locator(`article[data-id="${recentOne.body.comment.id}"]`).waitFor();
    const restored = await s.request(
      'GET',
      `/api/admin/comments/${recentOne.body.comment.id}`,
      undefined,
      await bearer(),
    );
    assert.equal(restored.body.comment.status, 'pending');
    assert.equal(restored.body.comment.text, 'Deleted yesterday');
  });
});
