/** The admin page's notifications panel (issue 15): off without settings; given-up deliveries with a retry button. */

import type { TestContext } from 'node:test';
import { describe, test } from 'node:test';
import { startSmtp } from './fixtures/notify-sinks.js';
import { startTestServer } from './fixtures/srv-helpers.js';
import { browserUnavailable, hasText } from './fixtures/web-browser.js';
import { usePages } from './fixtures/web-page.js';
import { adminPasswordHash, type WebServer } from './fixtures/web-server.js';

const skip = browserUnavailable();

/** The whole service (startServer: outbox and delivery worker included), as the page fixtures want it. */
async function fullServer(t: TestContext, config: Record<string, unknown>): Promise<WebServer> {
  const s = await startTestServer(t, { adminPasswordHash: await adminPasswordHash(), ...config });
  return {
    url: s.url,
    app: s.server.app,
    store: s.server.store,
    now: s.now,
    advance: s.advance,
    request: s.request,
    post: (uri, fields) => s.post({ uri, ...fields }),
  };
}

describe('the admin page shows notifications', { skip: skip ?? false }, () => {
  const { adminLogin } = usePages();

  test('without SMTP settings or webhooks the panel says notifications are off', async (t) => {
    const s = await fullServer(t, {});
    const { page } = await adminLogin(t, s);
    await hasText(page.locator('#quire-admin-notify'), /Notifications are off/);
  });

  test('a given-up delivery is listed; its retry button delivers it', async (t) => {
    const smtp = await startSmtp(t);
    smtp.mode = 'reject';
    const s = await fullServer(t, {
      smtp: { url: smtp.url, from: 'comments@example.org' },
      notify: { moderators: ['mod@example.org'], retrySeconds: 0.02 },
    });
    await s.post('https://blog.example.org/2026/hello', { text: 'Refused by the mail server' });
    await smtp.until((m) => m.refused === 1, 'the refusal');
    const { page } = await adminLogin(t, s);
    const panel = page.locator('#quire-admin-notify');
    await hasText(panel, /Notifications are on: mail, 0 webhook/);
    // The worker records the give-up just after the refusal: the panel is read again until it shows.
    let shown = false;
    for (let i = 0; i < 50 && !shown; i++) {
      shown = (await panel.getByRole('button', { name: 'Retry' }).count()) === 1;
      if (!shown) await page.reload().then(() => page.getByRole('button', { name: 'Log out' }).waitFor());
    }
    await hasText(panel, /moderators \(mail\): 1 attempts, .*550/);
    smtp.mode = 'ok';
    await panel.getByRole('button', { name: 'Retry' }).click();
    await smtp.until((m) => m.mails.length === 1, 'the retried mail');
    await hasText(panel, /Nothing was given up/);
  });
});
