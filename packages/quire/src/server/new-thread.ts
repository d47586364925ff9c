import type { FastifyRequest } from 'fastify';
import type { QuireConfig } from '../config.js';
import { clientKey } from '../store/address.js';
import type { ServerContext } from './context.js';
import { cleanLine } from './fields.js';
import { DEFAULT_PAGE_FETCH, fetchPage, PageFetchError } from './page-fetch.js';
import { ProblemError } from './problem.js';

/**
 * What a comment for a page without a thread must pass before the thread is made (issue 12, "Nothing is
 * created by a refused or foreign request"): the page is on a configured site, the client and the site as a
 * whole are within their new-thread limits, and (verifyPages) the page exists on its own site. Each refusal is
 * a problem+json 4xx thrown before the store is asked to create anything.
 */

/** The rate-limit key under which every client's new threads are counted together. */
const ALL_CLIENTS = '*';

/** Throws 400 uri-not-allowed unless `uri` is a page of a configured origin (any page when none are set). */
export function checkOrigin(config: QuireConfig, uri: string): void {
  if (config.origins.length === 0 || config.origins.includes(new URL(uri).origin)) return;
  throw new ProblemError(
    400,
    'uri-not-allowed',
    'comments are accepted only for pages of the configured sites',
  );
}

/** Whether `threadId` has no thread yet (or one whose `.thread.json` a failed first post did not write). */
async function isNewThread(ctx: ServerContext, threadId: string): Promise<boolean> {
  return (await ctx.store.threadMeta(threadId)) === null;
}

/** The page's own title, fetched from its site (verifyPages); a 422 problem with the fetch's code if it fails. */
async function verifiedTitle(
  ctx: ServerContext,
  request: FastifyRequest,
  uri: string,
  signal: AbortSignal,
): Promise<string | null> {
  try {
    const opts = { ...DEFAULT_PAGE_FETCH, allowPrivate: ctx.config.verifyPagesAllowPrivate };
    const { title } = await fetchPage(uri, opts, signal);
    if (title === null) return null;
    // A page's title is as untrusted as a client's: one line, no control characters, within the limit.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
    const line = title.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
    return cleanLine(line.slice(0, ctx.config.limits.titleChars), 'title');
  } catch (err) {
    if (!(err instanceof PageFetchError)) throw err;
    request.log.info({ uri, code: err.code, why: err.message }, 'page not verified');
    throw new ProblemError(422, err.code, `the page could not be verified on its site: ${err.message}`);
  }
}

/**
 * The title the thread of `uri` is created with when this post makes it, after the new-thread checks:
 * rateLimits.threads (per client) and rateLimits.threadsTotal (all clients), then, with verifyPages, a 2xx from
 * the page's site, whose `<title>` then replaces the client's. For an existing thread, the client's title
 * (unused: the first post's page wins) and no check.
 */
export async function admitNewThread(
  ctx: ServerContext,
  request: FastifyRequest,
  page: { uri: string; threadId: string },
  clientTitle: string | null,
  /** The stem replied to, null at top level. */
  parent: string | null,
  /** Aborts the page fetch when the client goes away (abort.ts, clientGone). */
  signal: AbortSignal,
): Promise<string | null> {
  if (!(await isNewThread(ctx, page.threadId))) return clientTitle;
  // A reply on a page without a thread replies to nothing: refused before it costs a limit or a fetch.
  if (parent !== null) {
    throw new ProblemError(422, 'parent-not-found', 'the comment replied to does not exist on this page');
  }
  await ctx.rateLimit('threads', clientKey(request.ip));
  await ctx.rateLimit('threadsTotal', ALL_CLIENTS);
  return ctx.config.verifyPages ? verifiedTitle(ctx, request, page.uri, signal) : clientTitle;
}
