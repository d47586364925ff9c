import type { OutgoingHttpHeaders } from 'node:http';
import { isQuireError } from '@quire/fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerContext } from './context.js';
import { PROBLEM_CONTENT_TYPE, ProblemError, problem } from './problem.js';

/**
 * Server-side deadlines (issue 13). On a network filesystem a request can wait for minutes (a brick healing, a
 * lock held by a stalled host); the client should hear "try again" instead. Two deadlines, both answered with
 * a problem+json 503 `deadline-exceeded` and Retry-After (deadlines.retryAfterSeconds):
 * - a post's lock wait (deadlines.lockWaitMs): the post gives up before it has written anything;
 * - the whole request (deadlines.requestMs): the answer is sent at the deadline while the work, which no one
 *   can take back from the filesystem, runs on to its end unobserved. A POST that publishes after its 503 is
 *   found by its retry: the same nonce returns that comment (store/admission.ts), never a second one.
 */

const CODE = 'deadline-exceeded';

/** The 503 of a lock wait past deadlines.lockWaitMs, or undefined if `err` is no lock timeout. */
export function lockWaitProblem(ctx: ServerContext, err: unknown): ProblemError | undefined {
  if (!isQuireError(err, 'ERR_LOCK_TIMEOUT')) return undefined;
  const seconds = ctx.config.deadlines.retryAfterSeconds;
  return new ProblemError(
    503,
    CODE,
    `another request held this page's lock too long; try again in ${seconds} s`,
    { 'retry-after': String(seconds) },
  );
}

/**
 * Answers a request still unanswered at its deadline: the reply is taken over from Fastify (hijack), so the
 * handler's late result or error is dropped rather than sent twice.
 */
function answerLate(ctx: ServerContext, reply: FastifyReply): void {
  if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) return;
  const seconds = ctx.config.deadlines.retryAfterSeconds;
  const body = JSON.stringify({
    ...problem(503, CODE, `the server could not answer in time; try again in ${seconds} s`),
    retryAfter: seconds,
    instance: String(reply.request.id),
  });
  reply.hijack();
  // The headers set so far (request id, CORS) go out too.
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v;
  reply.raw.writeHead(503, {
    ...headers,
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'retry-after': String(seconds),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  reply.raw.end(body);
  reply.request.log.warn(
    { code: CODE, deadlineMs: ctx.config.deadlines.requestMs },
    'request past its deadline',
  );
}

/** The request deadline: a timer per request from its arrival, cleared when its answer is done. */
export function addRequestDeadline(app: FastifyInstance, ctx: ServerContext): void {
  const ms = ctx.config.deadlines.requestMs;
  if (ms <= 0) return;
  app.addHook('onRequest', (_request, reply, done) => {
    const timer = setTimeout(() => answerLate(ctx, reply), ms);
    reply.raw.once('close', () => clearTimeout(timer));
    done();
  });
}
