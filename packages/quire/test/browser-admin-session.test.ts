import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ensureWidgetBuilt } from './fixtures/web-browser.js';
import { demoUri } from './fixtures/web-page.js';
import { ADMIN_PASSWORD, startWebServer, type WebServer } from './fixtures/web-server.js';

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
