import { createHash } from 'node:crypto';
import type { PublicComment } from '../api-types.js';
import type { CommentRecord } from '../store/records.js';
import type { Hmacs } from '../store/secret.js';

/**
 * Avatars (issue 15): the widget draws an identicon from each comment's `avatar`, a keyed hash that nobody
 * without the server secret can compute or invert, so it gives away neither the e-mail address nor a hash of
 * it that could be matched against a list of addresses (a Gravatar hash can). Its input, in this order of
 * preference: the e-mail address (case-folded: one reader, one picture across the site), else the name (public
 * anyway), else the comment's id (a picture of its own). docs/widget.md says what this reveals.
 */

/** Hex characters of an avatar key: 64 bits, plenty to draw from and to tell readers apart. */
const AVATAR_HEX = 16;

/** The e-mail address as one reader's key: trimmed, lower case (as Gravatar folds it too). */
function foldEmail(email: string): string {
  return email.trim().toLowerCase();
}

type Keys = { avatar: string | undefined; gravatar?: string | undefined };

/**
 * Keys already computed, per secret and record object: a thread view's records are shared by every request until
 * the thread changes, so a page costs an HMAC only for comments new since the last view (one costs a few µs).
 */
const known = new WeakMap<Hmacs, WeakMap<CommentRecord, Keys>>();

/** The identicon key of a comment (see above); absent for a tombstone. */
export function avatarOf(hmacs: Hmacs, id: string, r: CommentRecord): string | undefined {
  if (r.status === 'deleted' || r.status === 'spam') return undefined;
  const input =
    r.email !== null
      ? `e\0${foldEmail(r.email)}`
      : r.author !== null
        ? `n\0${r.author.normalize('NFKC')}`
        : `c\0${id}`;
  return hmacs.hex('avatar', input, AVATAR_HEX);
}

/** The Gravatar key (SHA-256 of the folded address, as gravatar.com takes it), for `avatars.gravatar` only. */
export function gravatarOf(r: CommentRecord): string | undefined {
  if (r.email === null || r.status === 'deleted' || r.status === 'spam') return undefined;
  return createHash('sha256').update(foldEmail(r.email)).digest('hex');
}

/** What adds the avatar fields to public comments. */
export interface AvatarSource {
  hmacs: Hmacs;
  /** `avatars.gravatar`: also send the Gravatar key of comments with an e-mail address. */
  gravatar: boolean;
}

/**
 * Adds `avatar` (and with Gravatar on, `gravatar`) to a page of public comments and their replies; `recordOf`
 * finds each comment's record by id. Iterative: no recursion depth to exhaust.
 */
export function addAvatars(
  src: AvatarSource,
  comments: readonly PublicComment[],
  recordOf: (id: string) => CommentRecord | undefined,
): void {
  let cache = known.get(src.hmacs);
  if (cache === undefined) {
    cache = new WeakMap();
    known.set(src.hmacs, cache);
  }
  const stack = [...comments];
  for (let c = stack.pop(); c !== undefined; c = stack.pop()) {
    stack.push(...c.replies);
    const r = c.status === 'deleted' ? undefined : recordOf(c.id);
    if (r === undefined) continue;
    let keys = cache.get(r);
    if (keys === undefined) {
      keys = { avatar: avatarOf(src.hmacs, c.id, r) };
      cache.set(r, keys);
    }
    if (src.gravatar && !('gravatar' in keys)) keys.gravatar = gravatarOf(r);
    if (keys.avatar !== undefined) c.avatar = keys.avatar;
    if (src.gravatar && keys.gravatar !== undefined) c.gravatar = keys.gravatar;
  }
}
