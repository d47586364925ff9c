import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { checkNotReserved, cleanName } from '../src/server/fields.js';
import {
  countLinks,
  MarkdownError,
  prepareMarkdown,
  renderEscaped,
  renderMarkdown,
  renderMarkdownAsync,
  SYNC_CHARS,
  setMarkdownBudget,
} from '../src/server/markdown.js';
import { renderFull } from '../src/server/markdown-render.js';
import { hashPassword, LoginBusyError, verifyPassword } from '../src/server/password.js';
import { ProblemError } from '../src/server/problem.js';

/** micromark needs many seconds for this (emphasis delimiters that never match): the worst input found. */
const SLOW = '*_'.repeat(10_000);
let unique = 0;
/** A long text with Markdown that renders in a millisecond or two. */
function fastLong(): string {
  return `${'Some *emphasis* and a [link](https://example.org/). '.repeat(20)}${++unique}`;
}

test('a text past the render budget is refused with markdown-too-complex, off the event loop', async () => {
  setMarkdownBudget({ timeoutMs: 1000 });
  let settled = false;
  const p = renderMarkdownAsync(`${SLOW}${++unique}`).finally(() => {
    settled = true;
  });
  // Rendered on the spot, the call would have finished before the event loop turned once.
  await tick();
  assert.equal(settled, false);
  await assert.rejects(
    p,
    (err: unknown) => err instanceof MarkdownError && err.code === 'markdown-too-complex',
  );
  // The killed worker was replaced: the next text renders.
  const text = fastLong();
  assert.equal(await renderMarkdownAsync(text), renderFull(text));
});

test('renderMarkdown never runs micromark on a long text it has not rendered before', () => {
  const text = `${SLOW}${++unique}`;
  assert.equal(renderMarkdown(text), renderEscaped(text));
  assert.doesNotMatch(renderEscaped('<b>x</b> "&"\n\n<i>'), /<b>|<i>/);
  const short = '*a* [b](https://x.org)';
  assert.ok(short.length <= SYNC_CHARS);
  assert.equal(renderMarkdown(short), renderFull(short));
});

test('prepareMarkdown renders stored texts on workers, then renderMarkdown serves them; too complex ones escaped', async () => {
  setMarkdownBudget({ timeoutMs: 1000 });
  const ok = fastLong();
  const slow = `${SLOW}${++unique}`;
  await prepareMarkdown([ok, slow, 'plain words']);
  assert.equal(renderMarkdown(ok), renderFull(ok));
  assert.match(renderMarkdown(ok), /<em>emphasis<\/em>/);
  assert.equal(renderMarkdown(slow), renderEscaped(slow));
  assert.equal(countLinks(ok), 20);
});

test('a render whose caller goes away is stopped; a flood past the queue is refused as busy', async () => {
  setMarkdownBudget({ timeoutMs: 5000, workers: 1, maxQueue: 2 });
  const ac = new AbortController();
  const running = renderMarkdownAsync(`${SLOW}${++unique}`, ac.signal);
  const outcomes: string[] = [];
  const flood = Array.from({ length: 6 }, () =>
    renderMarkdownAsync(`${SLOW}${++unique}`, ac.signal).then(
      () => outcomes.push('rendered'),
      (e: unknown) =>
        outcomes.push(e instanceof MarkdownError ? e.code : ((e as { code?: string }).code ?? '?')),
    ),
  );
  await tick();
  // One runs, two wait: the other four were refused at once, while the first was still rendering.
  assert.deepEqual(outcomes, Array(4).fill('markdown-busy'));
  ac.abort();
  await assert.rejects(running, (err: unknown) => (err as { code?: string }).code === 'task-aborted');
  await Promise.all(flood);
  assert.deepEqual(outcomes.slice(4), ['task-aborted', 'task-aborted']);
  const text = fastLong();
  assert.equal(await renderMarkdownAsync(text), renderFull(text));
  setMarkdownBudget({ timeoutMs: 250, workers: 1, maxQueue: 64 });
});

test('previews have workers of their own: a flood of them neither delays nor refuses content renders', async () => {
  setMarkdownBudget({ timeoutMs: 5000, workers: 1, maxQueue: 1 });
  const ac = new AbortController();
  const previews = Array.from({ length: 4 }, () =>
    renderMarkdownAsync(`${SLOW}${++unique}`, ac.signal, 'preview').catch((e: unknown) => e),
  );
  // The preview lane is full (one running, one waiting, two refused); a comment's text still renders at once.
  const text = fastLong();
  assert.equal(await renderMarkdownAsync(text), renderFull(text));
  ac.abort();
  const outcomes = (await Promise.all(previews)).map((e) => (e as { code?: string }).code);
  assert.deepEqual(outcomes.filter((c) => c === 'markdown-busy').length, 2);
  // Previews are not cached: they cannot push pages' HTML out of the cache.
  const previewed = fastLong();
  await renderMarkdownAsync(previewed, undefined, 'preview');
  assert.equal(renderMarkdown(previewed), renderEscaped(previewed));
  setMarkdownBudget({ timeoutMs: 250, workers: 1, maxQueue: 64 });
});

test('author names lose bidi controls and invisible characters; moderator names cannot be taken', () => {
  assert.equal(cleanName('\u202eadmin'), 'admin');
  assert.equal(cleanName('Admin\u200b'), 'Admin');
  assert.equal(cleanName('\u2066Eve\u2069 \u200d \u00ad'), 'Eve');
  assert.equal(cleanName('ｆｕｌｌ  width'), 'full width');
  assert.equal(cleanName('\u200b\u200c'), null);
  const reserved = ['Admin'];
  for (const n of ['admin', 'A.D.M.I.N', 'ａｄｍｉｎ', cleanName('Admin\u200b')]) {
    assert.throws(
      () => checkNotReserved(n, reserved),
      (e: unknown) => e instanceof ProblemError && e.code === 'reserved-name',
    );
  }
  checkNotReserved('Administrator', reserved);
  checkNotReserved(null, reserved);
  // Printable ASCII takes a short way; it must end where the long one does (NFKC, spaces, case, punctuation).
  for (const n of ['  a  b  c ', 'x\u00a0y', "Ann-Marie O'Neil", 'A_D_M_I_N!', '~admin~', 'ad min']) {
    const long = n
      .replace(/\p{Cf}/gu, '')
      .normalize('NFKC')
      .replace(/\s+/gu, ' ')
      .trim();
    assert.equal(cleanName(n), long, JSON.stringify(n));
  }
  for (const n of ['A_D_M_I_N!', '~admin~', 'ad min', 'ADMIN\u00a0']) {
    assert.throws(
      () => checkNotReserved(n, reserved),
      (e: unknown) => e instanceof ProblemError,
      n,
    );
  }
});

test('password checks run one at a time off the threadpool; a flood past the queue is refused at once', async () => {
  const hash = await hashPassword('correct horse battery');
  assert.equal(await verifyPassword('correct horse battery', hash), true);
  assert.equal(await verifyPassword('wrong password!', hash), false);
  const flood = await Promise.allSettled(
    Array.from({ length: 40 }, () => verifyPassword('wrong password!', hash)),
  );
  const busy = flood.filter((r) => r.status === 'rejected' && r.reason instanceof LoginBusyError).length;
  const checked = flood.filter((r) => r.status === 'fulfilled' && r.value === false).length;
  // One running and sixteen waiting were checked; the rest were refused without costing a scrypt.
  assert.equal(checked, 17);
  assert.equal(busy, 23);
});
