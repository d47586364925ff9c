import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { browserUnavailable, hasText } from './fixtures/web-browser.js';
import {
  byId,
  demoUri,
  EDIT_WINDOW_MS,
  postComment,
  publicThread,
  screenshots,
  usePages,
} from './fixtures/web-page.js';
import { startWebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();

describe("a reader's own comments: edit, delete, the edit window", { skip: skip ?? false }, () => {
  const { open } = usePages();

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
    // The confirmation stands at the comment that changed, not at the top of the thread.
    await hasText(mine.getByRole('status'), 'Your changes were saved.');
    assert.equal(await o.thread.getByRole('status').filter({ hasText: 'saved' }).count(), 1);
    await screenshots(o.page, 'widget-saved', [375, 1024, 1440], o.thread);
    assert.deepEqual(
      (await publicThread(s, demoUri(s))).comments.map((c) => c.text),
      ['Someone else wrote this', 'My second draft'],
    );

    await mine.getByRole('button', { name: 'Delete' }).click();
    const confirm = mine.getByRole('group', { name: 'Delete this comment for good?' });
    await confirm.getByRole('button', { name: 'Yes, delete' }).click();
    await mine.waitFor({ state: 'detached' });
    await hasText(o.count, '1 comment');
    await hasText(o.thread.getByRole('status'), 'Your comment was deleted.');
    assert.deepEqual(
      (await publicThread(s, demoUri(s))).comments.map((c) => c.text),
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
      (await publicThread(s, demoUri(s))).comments.map((c) => c.text),
      ['Comment A', 'Comment B'],
    );
  });
});
