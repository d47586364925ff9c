import { type CommentChanges, type CommentRecord, editRecord, restoreRecord, tombstone } from './records.js';
import { StoreError } from './threads.js';

/**
 * Who may change a comment, and what each change makes of its record. Each rule is a function of the record as
 * read under its lock (Threads.update), so it holds however many processes change the comment at once.
 */

/** Who asks: the comment's author (proven by an edit token) or the site's moderator. */
export type Actor =
  | {
      by: 'author';
      /** When the author's edit token expires (epoch ms). */
      tokenExpiresMs: number;
      /** How long after posting an author may change a comment. */
      editWindowMs: number;
    }
  | { by: 'moderator' };

function notFound(): StoreError {
  return new StoreError('not-found', 'there is no such comment');
}

/** For an author, deleted and spam comments do not exist: they may not even learn that one did. */
function visibleTo(actor: Actor, r: CommentRecord): boolean {
  return actor.by === 'moderator' || (r.status !== 'deleted' && r.status !== 'spam');
}

/**
 * Throws unless `actor` may change `r` at `nowMs`: an author only their visible comment, within the edit
 * window and their token's life ('edit-window-closed'); a moderator anything.
 */
export function checkMayChange(actor: Actor, r: CommentRecord | null, nowMs: number): CommentRecord {
  if (r === null || !visibleTo(actor, r)) throw notFound();
  if (actor.by === 'author') {
    const windowEnd = Date.parse(r.created) + actor.editWindowMs;
    if (nowMs > actor.tokenExpiresMs || nowMs > windowEnd) {
      throw new StoreError('edit-window-closed', 'the time to edit or delete this comment is over');
    }
  }
  return r;
}

/**
 * An edit: a tombstone cannot be edited by anyone (restore it first). With `review` (moderation: all), an
 * author's edit that changes what the public sees of an approved comment makes it pending again: hidden from
 * everyone but its author until a moderator approves it, so no text is public that no moderator has read. (The
 * record keeps one text; keeping the approved one public meanwhile would need two.) A moderator's edit, or one
 * that changes nothing shown, keeps the status.
 */
export function edited(
  actor: Actor,
  r: CommentRecord,
  changes: CommentChanges,
  nowMs: number,
  review = false,
): CommentRecord {
  if (!visibleTo(actor, r)) throw notFound();
  if (r.status === 'deleted') throw new StoreError('comment-deleted', 'a deleted comment cannot be edited');
  const allowed = actor.by === 'moderator' ? changes : { ...changes, email: undefined };
  const next = editRecord(r, allowed, new Date(nowMs).toISOString());
  const shownChanged = next.text !== r.text || next.author !== r.author || next.website !== r.website;
  if (review && actor.by === 'author' && r.status === 'approved' && shownChanged) {
    return { ...next, status: 'pending' };
  }
  return next;
}

/** A delete: the record becomes a tombstone, restorable by a moderator for `restoreWindowMs` (0: never). */
export function deleted(
  actor: Actor,
  r: CommentRecord,
  nowMs: number,
  restoreWindowMs: number,
): CommentRecord | undefined {
  if (!visibleTo(actor, r)) throw notFound();
  if (r.status === 'deleted') return undefined;
  const until = restoreWindowMs > 0 ? new Date(nowMs + restoreWindowMs).toISOString() : null;
  return tombstone(r, new Date(nowMs).toISOString(), until);
}

/** A moderator's verdict: approved or spam. A tombstone gets none. */
export function judged(r: CommentRecord, status: 'approved' | 'spam'): CommentRecord | undefined {
  if (r.status === 'deleted') {
    throw new StoreError('comment-deleted', 'a deleted comment cannot be approved or marked');
  }
  return r.status === status ? undefined : { ...r, status };
}

/** A moderator's undo of a delete, within the restore window: the comment as it was, in its status. */
export function restored(r: CommentRecord, nowMs: number): CommentRecord {
  const back = restoreRecord(r, nowMs);
  if (back === null) {
    throw new StoreError(
      'not-restorable',
      r.status === 'deleted' ? 'the time to restore this comment is over' : 'the comment is not deleted',
    );
  }
  return back;
}
