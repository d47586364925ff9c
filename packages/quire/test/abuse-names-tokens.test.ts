import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isProblem, listComments, PAGE, startTestServer } from './fixtures/srv-helpers.js';

test('author names lose bidi controls and zero-width characters (NFKC) on post and on edit', async (t) => {
  const s = await startTestServer(t);
  const r = await s.post({ text: 'hi', author: 'Ma\u202eria\u200b \uff2a\uff4f  \u2066Ann\u2069' });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.comment.author, 'Maria Jo Ann');
  const edit = await s.request(
    'PATCH',
    `/api/comments/${r.body.comment.id}`,
    { author: '\u200fBo\ufeffb\u200d' },
    { 'x-quire-edit-token': r.body.editToken },
  );
  assert.equal(edit.status, 200, edit.text);
  assert.equal(edit.body.comment.author, 'Bob');
  assert.equal((await listComments(s)).comments[0].author, 'Bob');
});

test("a moderator's display name cannot be taken by others, however it is dressed up", async (t) => {
  const s = await startTestServer(t, { moderatorNames: ['Site Editor'] });
  for (const name of [
    'Site Editor',
    '\u202eSite Editor',
    'site editor\u200b',
    'S.I.T.E. EDITOR',
    'ｓｉｔｅ editor',
  ]) {
    const r = await s.post({ text: `as ${name}`, author: name });
    assert.ok(isProblem(r, 400, 'reserved-name'), `${JSON.stringify(name)}: ${r.text}`);
  }
  const ok = await s.post({ text: 'as myself', author: 'Editor Site' });
  assert.equal(ok.status, 201);
  const steal = await s.request(
    'PATCH',
    `/api/comments/${ok.body.comment.id}`,
    { author: 'SITE-EDITOR' },
    { 'x-quire-edit-token': ok.body.editToken },
  );
  assert.ok(isProblem(steal, 400, 'reserved-name'), steal.text);
  const byDefault = await startTestServer(t);
  for (const name of ['\u202eadmin', 'Admin\u200b', 'Moderator']) {
    assert.ok(isProblem(await byDefault.post({ text: 'x', author: name }), 400, 'reserved-name'), name);
  }
});

test('a form token is good for its page and its network only, and for hours, not days', async (t) => {
  const s = await startTestServer(t, { trustProxy: true });
  const other = 'https://blog.example.org/2026/other';
  const net = { 'x-forwarded-for': '198.51.100.7' };
  const token = await s.formToken(PAGE, net);
  const send = (uri: string, ip: string, text: string) =>
    s.request('POST', '/api/comments', { uri, text, formToken: token }, { 'x-forwarded-for': ip });

  const elsewhere = await send(other, '198.51.100.7', 'on another page');
  assert.ok(isProblem(elsewhere, 400, 'form-token-invalid'), elsewhere.text);
  const farAway = await send(PAGE, '203.0.113.9', 'from another network');
  assert.ok(isProblem(farAway, 400, 'form-token-invalid'), farAway.text);
  assert.equal((await send(PAGE, '198.51.100.200', 'same /24, same page')).status, 201);
  assert.equal((await send(`${PAGE}?lang=de`, '198.51.100.7', 'the same page, a parameter off')).status, 201);

  const listed = async (uri: string) =>
    (await s.request('GET', `/api/comments?uri=${encodeURIComponent(uri)}`, undefined, net)).body.formToken;
  const fromList = await listed(PAGE);
  const r = await s.request(
    'POST',
    '/api/comments',
    { uri: PAGE, text: 'with the list token', formToken: fromList },
    net,
  );
  assert.equal(r.status, 201, r.text);
  assert.notEqual(fromList, await listed(other), 'each page its own token');

  const info = await s.request('GET', `/api/form-token?uri=${encodeURIComponent(PAGE)}`, undefined, net);
  assert.equal(Date.parse(info.body.expires) - Date.parse(info.body.notBefore), 6 * 3600_000);
  s.advance(6 * 3600_000 + 2000);
  const old = await send(PAGE, '198.51.100.7', 'six hours later');
  assert.ok(isProblem(old, 400, 'form-token-expired'), old.text);
  const noPage = await s.request('GET', '/api/form-token');
  assert.ok(isProblem(noPage, 400), 'a form token is asked for a page');
});
