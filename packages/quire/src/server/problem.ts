import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError, type StoreErrorCode } from '../store/store.js';
import { UriError } from '../store/uri.js';
import { faultOf } from './health.js';
import { MarkdownError } from './markdown.js';
import { LoginBusyError } from './password.js';
import { TaskPoolError } from './task-pool.js';

/**
 * RFC 9457 problem details. Every error answer of the service is `application/problem+json` with `type`,
 * `title`, `status`, `detail` and a stable `code` that clients may switch on (docs/comment-service.md lists them).
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  /** Seconds until a rate-limited client may try again. */
  retryAfter?: number;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  499: 'Client Closed Request',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

export function problemType(code: string): string {
  return `urn:quire:problem:${code}`;
}

/** Throw one of these from a handler; the error handler answers with its problem. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export function problem(status: number, code: string, detail: string): Problem {
  return { type: problemType(code), title: TITLES[status] ?? 'Error', status, detail, code };
}

/** The JSON schema of a problem, shared by every route's 4xx/5xx responses in the OpenAPI document. */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', description: 'urn:quire:problem:<code>' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: 'stable machine-readable reason' },
    instance: { type: 'string', description: 'the request id' },
    retryAfter: { type: 'integer' },
  },
} as const;

export function sendProblem(
  reply: FastifyReply,
  p: Problem,
  headers: Record<string, string> = {},
): FastifyReply {
  const body: Problem = { ...p, instance: String(reply.request.id) };
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.code(p.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

/** The status of each refusal of the store; the problem's code is the store's. */
const STORE_STATUS: Record<StoreErrorCode, number> = {
  duplicate: 409,
  'parent-not-found': 422,
  'nonce-reused': 409,
  'not-found': 404,
  'comment-deleted': 409,
  'edit-window-closed': 403,
  'not-restorable': 409,
};

/** A problem with Retry-After, header and member. */
function retryLater(status: number, code: string, detail: string, seconds: number): Answer {
  const p = problem(status, code, detail);
  p.retryAfter = seconds;
  return { problem: p, headers: { 'retry-after': String(seconds) }, log: false };
}

type Answer = { problem: Problem; headers: Record<string, string>; log: boolean };

/** A refusal that is the client's to fix: no headers, nothing logged. */
function refusal(status: number, code: string, detail: string): Answer {
  return { problem: problem(status, code, detail), headers: {}, log: false };
}

/** Fastify's and the body parser's own errors, by their code: [status, problem code, detail]. */
const FRAMEWORK_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body-too-large', 'the request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported-media-type', 'send the body as application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid-request', 'the Content-Length does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid-json', 'the JSON body is empty'],
  FST_ERR_BAD_URL: [400, 'invalid-url', 'the request URL is malformed'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'invalid-url', 'the request URL is malformed'],
  ERR_QUIRE_INVALID_UTF8: [400, 'invalid-utf8', 'the body is not valid UTF-8'],
};

/** The service's own typed errors, or undefined for anything else. */
function knownError(err: unknown): Answer | undefined {
  if (err instanceof ProblemError) {
    const p = problem(err.status, err.code, err.detail);
    const retry = err.headers['retry-after'];
    if (retry !== undefined) p.retryAfter = Number(retry);
    return { problem: p, headers: err.headers, log: false };
  }
  if (err instanceof MarkdownError) {
    // Too complex is the text's fault (the author simplifies it); busy is the server's (the author retries).
    if (err.code === 'markdown-too-complex') return refusal(422, err.code, err.message);
    return retryLater(503, err.code, err.message, 2);
  }
  if (err instanceof LoginBusyError) return retryLater(503, err.code, err.message, 5);
  if (err instanceof TaskPoolError && err.code === 'task-aborted') {
    // The client went away: nobody reads this answer, and it is no failure of the server.
    return refusal(499, 'client-gone', 'the client went away');
  }
  if (err instanceof StoreError) return refusal(STORE_STATUS[err.code], err.code, err.message);
  if (err instanceof UriError) return refusal(400, 'invalid-uri', err.message);
  return undefined;
}

/** Maps anything a handler or Fastify threw to a problem; unknown errors are 500 and get logged. */
export function toProblem(err: unknown): Answer {
  const known = knownError(err);
  if (known !== undefined) return known;
  const e = err as Partial<FastifyError> & { validationContext?: string };
  if (e.validation !== undefined) {
    return refusal(400, 'invalid-request', e.message ?? 'the request does not match its schema');
  }
  const framework = e.code === undefined ? undefined : FRAMEWORK_ERRORS[e.code];
  if (framework !== undefined) return refusal(...framework);
  if (e.code === 'ERR_QUIRE_INVALID_JSON') return refusal(400, 'invalid-json', e.message ?? 'invalid JSON');
  // A storage fault is the operator's to fix, not a bug: told as such (never `500 internal`), and logged.
  const fault = faultOf(err);
  if (fault !== undefined)
    return { ...retryLater(fault.status, fault.code, fault.detail, fault.retryAfterSeconds), log: true };
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500)
    return refusal(status, 'bad-request', e.message ?? 'the request was refused');
  return {
    problem: problem(500, 'internal', 'the server failed; the request id identifies it in the logs'),
    headers: {},
    log: true,
  };
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { problem: p, headers, log } = toProblem(err);
  if (log) request.log.error({ err }, 'request failed');
  else request.log.info({ code: p.code, status: p.status }, 'request refused');
  return sendProblem(reply, p, headers);
}

/**
 * Answers connection-level errors (a request Node's HTTP parser cannot read: bad headers, headers too large)
 * with a problem+json response where the socket still allows it, instead of Fastify's plain JSON.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const p = problem(status, status === 431 ? 'headers-too-large' : 'bad-request', 'the request is malformed');
  const body = JSON.stringify(p);
  socket.end(
    `HTTP/1.1 ${status} ${p.title}\r\nConnection: close\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
