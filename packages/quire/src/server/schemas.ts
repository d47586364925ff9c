import type { TSchema, TUnsafe } from 'typebox';
import type { QuireConfig } from '../config.js';
import { COMMENT_ID_PATTERN } from '../store/records.js';
import { Type } from './json-schema.js';

/**
 * JSON schemas shared by the routes, written with TypeBox so that each route's schema is also the TypeScript
 * type of what it accepts (the type provider, TypeBoxTypeProvider). Fastify's own ajv validates them, and
 * @fastify/swagger turns them into GET /api/openapi.json.
 */

/** `type: ['string', 'null']` as the wire has always said it (TypeBox would write an anyOf). */
export function nullableString(options: Record<string, unknown> = {}): TUnsafe<string | null> {
  return Type.Unsafe<string | null>({ type: ['string', 'null'], ...options });
}

/** A string out of `values` (an `enum`, as the wire has always said it). */
export function stringEnum<T extends string>(
  values: readonly T[],
  options: Record<string, unknown> = {},
): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'string', enum: values, ...options });
}

/** A reference to a shared schema registered with app.addSchema; typed as what the handler returns. */
function ref<T>(id: string): TUnsafe<T> {
  return Type.Unsafe<T>({ $ref: `${id}#` });
}

const dateTime = Type.String({ format: 'date-time' });
const nullableDateTime = nullableString({ format: 'date-time' });

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
    parent: { type: ['string', 'null'], description: 'id of the comment this one replies to' },
    author: { type: ['string', 'null'] },
    website: { type: ['string', 'null'] },
    text: { type: 'string', description: 'Markdown source' },
    html: { type: 'string', description: 'rendered, sanitised HTML' },
    created: { type: 'string', format: 'date-time' },
    edited: { type: ['string', 'null'], format: 'date-time' },
    status: { type: 'string', enum: ['approved', 'pending', 'deleted'] },
    likes: { type: 'integer' },
    avatar: {
      type: 'string',
      pattern: '^[0-9a-f]{16}$',
      description: 'identicon key: a keyed hash, of the e-mail if given, else the name, else the comment id',
    },
    gravatar: {
      type: 'string',
      pattern: '^[0-9a-f]{64}$',
      description: 'SHA-256 of the folded e-mail (gravatar.com); only with avatars.gravatar on',
    },
    replies: { type: 'array', items: { $ref: 'Comment#' } },
  },
} as const;

const replyToSchema = Type.Union(
  [
    Type.Object({
      id: Type.String(),
      author: nullableString(),
      excerpt: Type.String({
        description: 'the start of its text (Markdown source, spaces collapsed), at most 140 characters',
      }),
    }),
    Type.Null(),
  ],
  { description: 'the comment this one replies to; null at top level or when it is gone' },
);

export const adminCommentSchema = Type.Object(
  {
    id: Type.String(),
    threadId: Type.String(),
    uri: nullableString(),
    title: Type.Optional(nullableString()),
    parent: nullableString(),
    replyTo: replyToSchema,
    author: nullableString(),
    email: nullableString(),
    website: nullableString(),
    text: Type.String(),
    html: Type.String(),
    created: dateTime,
    edited: nullableDateTime,
    deleted: nullableDateTime,
    restorableUntil: nullableString({
      format: 'date-time',
      description: 'until when a deleted comment can be restored (POST .../restore); null if it cannot',
    }),
    status: stringEnum(['approved', 'pending', 'spam', 'deleted']),
    ip: nullableString({ description: '/24 or /48 network of the poster' }),
    ipHash: nullableString({ description: 'HMAC of the whole address: equal for equal addresses' }),
    likes: Type.Integer(),
  },
  {
    $id: 'AdminComment',
    description: 'A comment as the site owner sees it, with e-mail and truncated address.',
  },
);

/** The shared schemas, for app.addSchema (the Problem schema is problem.ts's). */
export const sharedSchemas: readonly TSchema[] = [
  publicCommentSchema as unknown as TSchema,
  adminCommentSchema,
];

/** `{ $ref: 'Comment#' }`. */
export const publicCommentRef = ref<unknown>('Comment');
/** `{ $ref: 'AdminComment#' }`. */
export const adminCommentRef = ref<unknown>('AdminComment');

/** OpenAPI responses of the given error statuses: problem details. */
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

export const commentIdParams = Type.Object(
  { id: Type.String({ maxLength: 120, pattern: COMMENT_ID_PATTERN }) },
  { additionalProperties: false },
);

/** Bodies of the author's edits. */
export function authorEditBody(config: QuireConfig) {
  const l = config.limits;
  return Type.Object(
    {
      text: Type.Optional(Type.String({ minLength: 1, maxLength: l.textChars })),
      author: Type.Optional(nullableString({ maxLength: l.authorChars })),
      website: Type.Optional(nullableString({ maxLength: l.websiteChars })),
    },
    { additionalProperties: false, minProperties: 1 },
  );
}

/** Bodies of the moderator's edits: the author's fields and the e-mail address. */
export function moderatorEditBody(config: QuireConfig) {
  const l = config.limits;
  return Type.Object(
    {
      text: Type.Optional(Type.String({ minLength: 1, maxLength: l.textChars })),
      author: Type.Optional(nullableString({ maxLength: l.authorChars })),
      website: Type.Optional(nullableString({ maxLength: l.websiteChars })),
      email: Type.Optional(nullableString({ maxLength: l.emailChars })),
    },
    { additionalProperties: false, minProperties: 1 },
  );
}

/**
 * The body of POST /api/comments. The honeypot field's name is configured, so it is in the schema but not in
 * the static type: the handler reads it by name (honeypotValue).
 */
export function postBodySchema(config: QuireConfig) {
  const l = config.limits;
  const body = Type.Object(
    {
      uri: Type.String({ minLength: 1, maxLength: l.uriChars, description: 'the page the comment is on' }),
      title: Type.Optional(
        Type.String({ maxLength: l.titleChars, description: 'page title, recorded with the first comment' }),
      ),
      text: Type.String({ minLength: 1, maxLength: l.textChars, description: 'Markdown' }),
      author: Type.Optional(nullableString({ maxLength: l.authorChars })),
      email: Type.Optional(nullableString({ maxLength: l.emailChars, description: 'never shown publicly' })),
      notify: Type.Optional(
        Type.Boolean({
          description: 'true: mail me replies to this comment (needs `email`); never shown publicly',
        }),
      ),
      website: Type.Optional(nullableString({ maxLength: l.websiteChars })),
      parent: Type.Optional(nullableString({ maxLength: 120, description: 'id of the comment replied to' })),
      nonce: Type.Optional(
        Type.String({
          minLength: 8,
          maxLength: 128,
          pattern: '^[A-Za-z0-9_-]+$',
          description: 'random per comment; a retried POST with the same nonce returns the first comment',
        }),
      ),
      attempt: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: 1000,
          description:
            'which attempt with this nonce this is: 1, then 2, 3 for retries. A first attempt is stored without ' +
            'a search for an earlier one (cheaper); a client that numbers attempts must number all of them',
        }),
      ),
      formToken: Type.Optional(
        Type.String({ maxLength: 256, description: 'from GET /api/form-token or the list response' }),
      ),
    },
    { additionalProperties: false },
  );
  Object.assign(body.properties, {
    [config.spam.honeypotField]: Type.String({
      maxLength: 1000,
      description: 'honeypot: the embed hides this field; it must be absent or empty',
    }),
  });
  return body;
}

/** The configured honeypot field of a POST body (the schema allows it only as a string). */
export function honeypotValue(body: object, field: string): string | undefined {
  const v: unknown = Object.hasOwn(body, field) ? (body as Record<string, unknown>)[field] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export const createdResponseSchema = Type.Object({
  comment: publicCommentRef,
  editToken: Type.String({
    description: 'send as X-Quire-Edit-Token to edit or delete this comment, and to see it while pending',
  }),
  editableUntil: dateTime,
});

/** `{ comment: Comment }`. */
export const oneCommentSchema = Type.Object({ comment: publicCommentRef });

/** `{ comment: AdminComment }`. */
export const oneAdminCommentSchema = Type.Object({ comment: adminCommentRef });
