import type { QuireConfig } from '../config.js';
import { COMMENT_ID_PATTERN } from '../store/records.js';

/**
 * JSON schemas shared by the routes. Each route declares its own body/querystring/params/response schema with
 * these parts; @fastify/swagger turns them into GET /api/openapi.json.
 */

const nullableString = { type: ['string', 'null'] } as const;

export const publicCommentSchema = {
  $id: 'Comment',
  type: 'object',
  description:
    'A comment as the public sees it. Tombstones (status "deleted") keep their place when replies hang off them.',
  required: [
    'id',
    'parent',
    'author',
    'website',
    'text',
    'html',
    'created',
    'edited',
    'status',
    'likes',
    'replies',
  ],
  properties: {
    id: { type: 'string', pattern: COMMENT_ID_PATTERN },
    parent: { ...nullableString, description: 'id of the comment this one replies to' },
    author: nullableString,
    website: nullableString,
    text: { type: 'string', description: 'Markdown source' },
    html: { type: 'string', description: 'rendered, sanitised HTML' },
    created: { type: 'string', format: 'date-time' },
    edited: { type: ['string', 'null'], format: 'date-time' },
    status: { type: 'string', enum: ['approved', 'pending', 'deleted'] },
    likes: { type: 'integer' },
    replies: { type: 'array', items: { $ref: 'Comment#' } },
  },
} as const;

export const adminCommentSchema = {
  $id: 'AdminComment',
  type: 'object',
  description: 'A comment as the site owner sees it, with e-mail and truncated address.',
  required: [
    'id',
    'threadId',
    'uri',
    'parent',
    'author',
    'email',
    'website',
    'text',
    'html',
    'created',
    'edited',
    'deleted',
    'status',
    'ip',
    'ipHash',
    'likes',
  ],
  properties: {
    id: { type: 'string' },
    threadId: { type: 'string' },
    uri: nullableString,
    title: nullableString,
    parent: nullableString,
    author: nullableString,
    email: nullableString,
    website: nullableString,
    text: { type: 'string' },
    html: { type: 'string' },
    created: { type: 'string', format: 'date-time' },
    edited: { type: ['string', 'null'], format: 'date-time' },
    deleted: { type: ['string', 'null'], format: 'date-time' },
    status: { type: 'string', enum: ['approved', 'pending', 'spam', 'deleted'] },
    ip: { ...nullableString, description: '/24 or /48 network of the poster' },
    ipHash: { ...nullableString, description: 'HMAC of the whole address: equal for equal addresses' },
    likes: { type: 'integer' },
  },
} as const;

export function problemResponses(...statuses: number[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of statuses) {
    out[String(s)] = {
      description: 'problem details (application/problem+json)',
      content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } },
    };
  }
  return out;
}

export const commentIdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', maxLength: 120, pattern: COMMENT_ID_PATTERN } },
} as const;

/** Bodies of the author's and the admin's edits; which fields exist depends on the config. */
export function editBodySchema(config: QuireConfig, admin: boolean): Record<string, unknown> {
  const l = config.limits;
  const properties: Record<string, unknown> = {
    text: { type: 'string', minLength: 1, maxLength: l.textChars },
    author: { type: ['string', 'null'], maxLength: l.authorChars },
    website: { type: ['string', 'null'], maxLength: l.websiteChars },
  };
  if (admin) properties.email = { type: ['string', 'null'], maxLength: l.emailChars };
  return { type: 'object', additionalProperties: false, minProperties: 1, properties };
}

export function postBodySchema(config: QuireConfig): Record<string, unknown> {
  const l = config.limits;
  return {
    type: 'object',
    additionalProperties: false,
    required: ['uri', 'text'],
    properties: {
      uri: { type: 'string', minLength: 1, maxLength: l.uriChars, description: 'the page the comment is on' },
      title: {
        type: 'string',
        maxLength: l.titleChars,
        description: 'page title, recorded with the first comment',
      },
      text: { type: 'string', minLength: 1, maxLength: l.textChars, description: 'Markdown' },
      author: { type: ['string', 'null'], maxLength: l.authorChars },
      email: { type: ['string', 'null'], maxLength: l.emailChars, description: 'never shown publicly' },
      website: { type: ['string', 'null'], maxLength: l.websiteChars },
      parent: { type: ['string', 'null'], maxLength: 120, description: 'id of the comment replied to' },
      nonce: {
        type: 'string',
        minLength: 8,
        maxLength: 128,
        pattern: '^[A-Za-z0-9_-]+$',
        description: 'random per comment; a retried POST with the same nonce returns the first comment',
      },
      attempt: {
        type: 'integer',
        minimum: 1,
        maximum: 1000,
        description:
          'which attempt with this nonce this is: 1, then 2, 3 for retries. A first attempt is stored without a ' +
          'search for an earlier one (cheaper); a client that numbers attempts must number all of them',
      },
      formToken: {
        type: 'string',
        maxLength: 256,
        description: 'from GET /api/form-token or the list response',
      },
      [config.spam.honeypotField]: {
        type: 'string',
        maxLength: 1000,
        description: 'honeypot: the embed hides this field; it must be absent or empty',
      },
    },
  };
}

export const createdResponseSchema = {
  type: 'object',
  required: ['comment', 'editToken', 'editableUntil'],
  properties: {
    comment: { $ref: 'Comment#' },
    editToken: {
      type: 'string',
      description: 'send as X-Quire-Edit-Token to edit or delete this comment, and to see it while pending',
    },
    editableUntil: { type: 'string', format: 'date-time' },
  },
} as const;
