/** The `site` case's rows of the site feed and the admin page's lists (issue 16), each against its bare baseline. */
import fs from 'node:fs';
import path from 'node:path';
import type { Site } from './site.js';
import {
  ADMIN_PASSWORD,
  bare,
  countOpens,
  dropCaches,
  restart,
  type SiteServer,
  send,
} from './site-probe.js';
import type { Row } from './site-report.js';

/** The site feed and the admin lists, cold, against reading the files they show. */
export async function feedAndQueue(
  o: { scratch: string },
  site: Site,
  server: SiteServer,
): Promise<{ rows: Row[]; server: SiteServer }> {
  const s = await restart(server, site);
  const feed = await send(s.url, 'GET', '/feed.atom');
  const feedWarm = (await send(s.url, 'GET', '/feed.atom')).ms;
  const big = site.threads[0] as Site['threads'][number];
  const bigDir = path.join(site.dir, 'threads', big.threadId);
  const newest = fs
    .readdirSync(bigDir)
    .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    .sort()
    .slice(-50);
  const list = path.join(o.scratch, 'files.txt');
  fs.writeFileSync(list, newest.map((n) => path.join(bigDir, n)).join('\n'));
  dropCaches();
  const feedBare = bare(['read', list]);
  const admin = await adminLists(site, s, list);
  return {
    rows: [
      {
        what: '/feed.atom, cold',
        quire: feed.ms,
        baseline: feedBare,
        baselineWhat: 'read of 50 comment files, cold',
      },
      { what: '/feed.atom, warm', quire: feedWarm, baseline: null, baselineWhat: '' },
      ...admin.rows,
    ],
    server: admin.server,
  };
}

/**
 * The admin page's two lists after a restart: the queue of every pending comment (against reading their files,
 * cold) and the newest 50 comments of any status, each cold then warm.
 */
async function adminLists(
  site: Site,
  server: SiteServer,
  list: string,
): Promise<{ rows: Row[]; server: SiteServer }> {
  const s = await restart(server, site);
  const login = await send(s.url, 'POST', '/api/admin/login', { password: ADMIN_PASSWORD });
  const auth = { authorization: `Bearer ${(JSON.parse(login.body) as { token: string }).token}` };
  const queueUrl = '/api/admin/comments?status=pending&limit=1000';
  let queue = { status: 0, body: '', ms: 0 };
  // Files the queue opens under the data directory (strace): O(queue), whatever the site's size.
  const opened = await countOpens(s.pid, site.dir, async () => {
    queue = await send(s.url, 'GET', queueUrl, undefined, auth);
  });
  const queueWarm = await send(s.url, 'GET', queueUrl, undefined, auth);
  // A list that ran past the request deadline (deadlines.requestMs) is a 503: told, not read.
  const ids =
    queue.status === 200
      ? (JSON.parse(queue.body) as { comments: { id: string; threadId: string }[] }).comments
      : [];
  const file = (c: { id: string; threadId: string }) =>
    path.join(site.dir, 'threads', c.threadId, `${c.id.slice(c.id.lastIndexOf('_') + 1)}.json`);
  fs.writeFileSync(list, ids.map(file).join('\n'));
  dropCaches();
  const queueBare = ids.length > 0 ? bare(['read', list]) : null;
  const recentUrl = '/api/admin/comments?status=all&limit=50';
  const recent = await send(s.url, 'GET', recentUrl, undefined, auth);
  const recentWarm = await send(s.url, 'GET', recentUrl, undefined, auth);
  const row = (
    what: string,
    a: { status: number; ms: number },
    baseline: number | null = null,
    baselineWhat = '',
  ) => ({
    what,
    quire: a.ms,
    baseline,
    baselineWhat,
    ...(a.status === 200 ? {} : { note: `answered ${a.status}` }),
  });
  return {
    rows: [
      {
        ...row(
          `admin queue, ${site.pending} pending, cold`,
          queue,
          queueBare,
          `read of the ${ids.length} pending files, cold`,
        ),
        note: `${ids.length} shown; files opened: ${opened ?? 'strace n/a'} (strace)${queue.status === 200 ? '' : `; answered ${queue.status}`}`,
      },
      row(`admin queue, ${site.pending} pending, warm`, queueWarm),
      row('admin list of all statuses, newest 50 (after the queue)', recent),
      row('admin list of all statuses, newest 50, warm', recentWarm),
    ],
    server: s,
  };
}
