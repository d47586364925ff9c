/**
 * Issue 13: cross-host freshness. A FUSE mount (bindfs) of the data directory has what a network filesystem's
 * client has by default: an attribute cache (1 s), which keeps `stat` from seeing a change made past it, while
 * a listing (readdir) sees new names at once. Instance A writes to the directory, instance B reads it through
 * the mount, as a second host would: a comment A acknowledged must be listed by B, though B's `stat` of the
 * thread directory still says nothing changed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { hasCommand, isRoot, requireOrSkip, unmountQuietly } from '@quire/testkit';
import { request, spawnServer } from './fixtures/srv-helpers.js';

const PAGE = 'https://blog.example.org/freshness';
const LIST = `/api/comments?uri=${encodeURIComponent(PAGE)}`;

/** `dir` mounted with bindfs at a fresh mount point of its own; `remove` unmounts it and removes the point. */
function bindMount(dir: string): { mnt: string; remove: () => void } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-bindfs-'));
  const mnt = path.join(base, 'mnt');
  fs.mkdirSync(mnt);
  execFileSync('bindfs', [dir, mnt]);
  return {
    mnt,
    remove: () => {
      unmountQuietly(mnt);
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

async function post(url: string, text: string): Promise<void> {
  const token = (await request(url, 'GET', `/api/form-token?uri=${encodeURIComponent(PAGE)}`)).body.formToken;
  const r = await request(url, 'POST', '/api/comments', { uri: PAGE, text, formToken: token });
  assert.equal(r.status, 201, r.text);
}

async function texts(url: string): Promise<string[]> {
  const r = await request(url, 'GET', LIST);
  assert.equal(r.status, 200, r.text);
  return (r.body.comments as { text: string }[]).map((c) => c.text);
}

test('a comment acknowledged by one instance is listed at once by another whose stat is cached', async (t) => {
  if (!requireOrSkip(t, isRoot && hasCommand('bindfs'), 'needs root and bindfs (apt install bindfs)')) return;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quire-fresh-'));
  const servers: Awaited<ReturnType<typeof spawnServer>>[] = [];
  let mount: ReturnType<typeof bindMount> | undefined;
  // One hook, in this order: after hooks run in the order they were added, and a server still running (A
  // writes its feed index after an answer) can add a file to the directory while it is being removed.
  t.after(async () => {
    for (const s of servers) {
      s.child.kill('SIGKILL');
      await s.exit;
    }
    mount?.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const a = await spawnServer(t, dataDir);
  servers.push(a);
  mount = bindMount(dataDir);
  const b = await spawnServer(t, mount.mnt, { freshness: { viewListAfterMs: 0 } });
  servers.push(b);
  await post(a.url, 'one');
  // B's cached view is trusted only once the thread directory's stamps are older than the racy-timestamp
  // margin (100 ms, @quire/fs's settled): that is the state this test is about, so wait for it.
  const threads = path.join(dataDir, 'threads');
  const dir = path.join(threads, fs.readdirSync(threads)[0] as string);
  while (Date.now() - fs.statSync(dir).ctimeMs < 200) await new Promise((r) => setImmediate(r));
  assert.deepEqual(await texts(b.url), ['one']);
  assert.deepEqual(await texts(b.url), ['one'], 'served from B’s cache');
  for (const text of ['two', 'three']) {
    await post(a.url, text);
    assert.ok((await texts(b.url)).includes(text), `B lists "${text}" as soon as A has acknowledged it`);
  }
});
