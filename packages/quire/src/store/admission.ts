import { type AppendOptions, isQuireError, type Lock, type Spool } from '@quire/fs';
import { claimNonce, firstAttemptLook, nonceClaimed } from './nonce-claims.js';
import type { PostLocks } from './post-locks.js';
import { type CommentRecord, serialiseRecord, type ThreadMeta } from './records.js';
import { type Summaries, summarise, type ThreadSummaries } from './summaries.js';
import { type StoredComment, StoreError, stemOf, type Threads } from './threads.js';

export interface AddCommentOptions {
  /** Same text (textHash) in this thread within this many ms is refused with StoreError 'duplicate'; 0: off. */
  duplicateWindowMs: number;
  /**
   * Which attempt with this nonce the client says this is (1, 2, ...), or undefined if it does not say. A first
   * attempt makes no claim and looks for no earlier comment: one metadata change fewer per comment. A client
   * that numbers its attempts must number every attempt with a nonce; two attempts numbered 1 make two comments.
   */
  attempt?: number;
}

export interface AddResult {
  stem: string;
  record: CommentRecord;
  /** false when `record.nonce` had been used: `stem`/`record` are the earlier comment. */
  created: boolean;
}

/** One post on its way through the checks, under its locks. */
interface Post {
  readonly threadId: string;
  readonly spool: Spool;
  readonly record: CommentRecord;
  readonly opts: AddCommentOptions;
  /** Whether this post made a new claim; undefined when there is nothing to look for (a first attempt). */
  claim: Promise<boolean> | undefined;
  /**
   * A first attempt's nonce claim path, not looked at yet: its publish requires it absent, and a refusal looks
   * before it stands (overtaken). undefined once looked at, and for every other post.
   */
  unseen?: string | undefined;
  /** The thread's summaries, once a check has used them. */
  summaries?: ThreadSummaries;
  /** Whether `summaries` were brought up to date by a listing begun after every lock was granted. */
  listedUnderLocks: boolean;
}

/** What the beforePublish hook threw, as the hook threw it. */
function unwrapHook(err: unknown): unknown {
  return isQuireError(err, 'ERR_BEFORE_PUBLISH') ? err.cause : err;
}

function replay(earlier: StoredComment, attempt: CommentRecord): AddResult {
  if (earlier.record.textHash !== attempt.textHash && earlier.record.status !== 'deleted') {
    throw new StoreError('nonce-reused', 'this nonce was used for another comment');
  }
  return { stem: earlier.stem, record: earlier.record, created: false };
}

/** Adding a comment: the post locks, the nonce claims, the duplicate and parent checks, one durable publish. */
export class Admission {
  constructor(
    private readonly threads: Threads,
    private readonly locks: PostLocks,
    private readonly summaries: Summaries,
    private readonly durable: boolean,
    private readonly clock: () => number,
  ) {}

  /**
   * Adds a comment. Under the lock of its nonce and, when the duplicate check is on, of its text (byte-range
   * locks on `.post.lock`: a retry racing its first attempt, or two identical comments racing, from any
   * processes, are serialised, while different comments proceed in parallel and share fsyncs), in this order:
   * 1. a comment with the same nonce is this request's earlier attempt: returned as is (created: false), or
   *    'nonce-reused' if its text differs;
   * 2. the same text within the duplicate window: 'duplicate';
   * 3. the parent must exist in this thread and be neither deleted nor spam: 'parent-not-found';
   * 4. one durable createUnique (spool.append): the file and its name are fsynced before this resolves.
   *
   * Retries are recognised by the records themselves (each keeps its nonce's HMAC), not by a marker made
   * durable ahead of the record, so a post costs one durable publish. Two ways to know there is no earlier
   * comment with this nonce (claimNonce says why each is sound):
   * - the exact one: a summary of every comment of the thread, brought up to date by a directory listing begun
   *   after the nonce's lock was granted (whoever published with this nonce held that lock until its link(2)
   *   was done, so the listing has the name, in any process, at any later time, and after a crash: a record
   *   that survived is found, one that did not was never acknowledged);
   * - the fast one, taken when the post creates the nonce's claim `.nonces/<sha256>`: the comments listed
   *   once since this process started, without a listing per post.
   * A client that numbers its attempts (`opts.attempt`) spares first attempts both: a first attempt has no
   * earlier comment to find, so it claims nothing and looks for nothing (unless a retry overtook it: it finds the
   * retry's claim, looked for by its publish itself, `ifAbsent`, and by a refusal before it stands); a later
   * attempt claims (for first attempts still under way) and always lists.
   * Hits are confirmed by reading the file. The claim is made on the threadpool while the record is written,
   * and step 1 runs just before the record takes its name (beforePublish), unless a duplicate check or a
   * parent check comes first: a retry must get its comment back, not a refusal caused by that very comment.
   */
  async add(
    threadId: string,
    meta: ThreadMeta,
    record: CommentRecord,
    opts: AddCommentOptions,
  ): Promise<AddResult> {
    // A reply names a comment of this thread: if there is no thread, there is no parent, and a refused
    // request must create nothing (no directory, no `.thread.json` with a title of the client's choosing).
    if (record.parent !== null && (await this.threads.spool(threadId)) === null) {
      throw new StoreError('parent-not-found', 'the comment replied to does not exist on this page');
    }
    try {
      return await this.addLocked(threadId, meta, record, opts);
    } catch (err) {
      throw await this.threads.gone(err);
    }
  }

  /** add() once the thread may be created. */
  private async addLocked(
    threadId: string,
    meta: ThreadMeta,
    record: CommentRecord,
    opts: AddCommentOptions,
  ): Promise<AddResult> {
    const spool = await this.threads.ensure(threadId, meta);
    const held: Lock[] = [];
    try {
      // Text before nonce, and the nonce lock last: whoever holds it waits for no other lock, so no cycles.
      if (opts.duplicateWindowMs > 0) held.push(await this.locks.text(spool.dir, record.textHash));
      if (record.nonce !== null) held.push(await this.locks.nonce(spool.dir, record.nonce));
      const claim = record.nonce === null ? {} : await this.claim(spool.dir, record.nonce, opts);
      return await this.admit({
        threadId,
        spool,
        record,
        opts,
        claim: undefined,
        listedUnderLocks: false,
        ...claim,
      });
    } finally {
      // Off the event loop, as they were taken (post-locks.ts); both at once (a release never waits).
      await Promise.all(held.map((lock) => lock.release()));
    }
  }

  /** Steps 1 to 4 for a post holding its locks. */
  private async admit(post: Post): Promise<AddResult> {
    const { record, opts } = post;
    /** Whether step 1 has nothing to find, or was done already: then no beforePublish hook is needed. */
    let earlierRuledOut = post.claim === undefined;
    if (!earlierRuledOut && (opts.duplicateWindowMs > 0 || record.parent !== null)) {
      const replayed = await this.earlierAttempt(post);
      if (replayed !== undefined) return replayed;
      earlierRuledOut = true;
    }
    try {
      if (opts.duplicateWindowMs > 0) await this.refuseDuplicate(post);
      if (record.parent !== null) await this.requireParent(post.threadId, record.parent);
      return await this.publish(post, earlierRuledOut);
    } catch (err) {
      if (!(await this.overtaken(post, err))) throw err;
      // Claimed by a retry that came first: the way a claimed post goes, from step 1.
      return this.admit(post);
    }
  }

  /**
   * Whether a first attempt's refusal was caused by a retry that overtook it: its publish found the retry's
   * claim (ERR_PRECONDITION), or a check refused it and the claim is there (the retry's comment may be the very
   * duplicate). Then post.claim says so. Looks at most once per post.
   */
  private async overtaken(post: Post, err: unknown): Promise<boolean> {
    if (post.unseen === undefined) return false;
    post.unseen = undefined;
    const claimed =
      isQuireError(err, 'ERR_PRECONDITION') ||
      (err instanceof StoreError && (await nonceClaimed(post.spool.dir, post.record.nonce as string)));
    if (claimed) post.claim = Promise.resolve(false);
    return claimed;
  }

  /**
   * What a post with a nonce knows of its claim: `claim` (whether it made a new one, awaited later), or for a
   * first attempt `unseen` (the claim's path, for its publish to require absent), or nothing to look for.
   */
  private async claim(
    dir: string,
    nonce: string,
    opts: AddCommentOptions,
  ): Promise<Pick<Post, 'claim' | 'unseen'>> {
    if (opts.attempt !== 1) {
      // A numbered retry's claim is made durable: a first attempt delivered after a power cut must find it.
      const made = claimNonce(dir, nonce, opts.attempt !== undefined && this.durable);
      // Awaited later, or never if the post is refused first: a failed claim must not go unhandled meanwhile.
      made.catch(() => {});
      return { claim: made };
    }
    // A retry may have come first (a slow network can deliver the first attempt last): look, as a retry does,
    // in the publish's own trip (unseen) where the thread allows.
    const look = await firstAttemptLook(dir, nonce);
    if (typeof look === 'string') return { claim: undefined, unseen: look };
    return { claim: look ? Promise.resolve(false) : undefined };
  }

  /** Step 1: the earlier attempt with this post's nonce, if there is one. */
  private async earlierAttempt(post: Post): Promise<AddResult | undefined> {
    // A numbered retry cannot trust a new claim: its first attempt made none. It lists.
    post.listedUnderLocks = !(await (post.claim as Promise<boolean>)) || post.opts.attempt !== undefined;
    post.summaries = await this.summaries.of(post.threadId, post.spool, post.listedUnderLocks);
    const earlier = await this.summaries.withNonce(
      post.threadId,
      post.summaries,
      post.record.nonce as string,
    );
    return earlier === null ? undefined : replay(earlier, post.record);
  }

  /** Step 2. */
  private async refuseDuplicate(post: Post): Promise<void> {
    const since = this.clock() - post.opts.duplicateWindowMs;
    // Other processes' recent comments: a listing begun after the text's lock was granted. Only those of the
    // window are read (by their names' time): a post's cost does not grow with its thread.
    if (!post.listedUnderLocks || post.summaries === undefined) {
      post.summaries = await this.summaries.of(post.threadId, post.spool, true, since);
    }
    if (await this.summaries.hasRecentText(post.threadId, post.summaries, post.record.textHash, since)) {
      throw new StoreError('duplicate', 'the same text was posted to this page a moment ago');
    }
  }

  /** Step 3. */
  private async requireParent(threadId: string, parentStem: string): Promise<void> {
    const parent = await this.threads.comment(threadId, parentStem);
    if (parent === null || parent.status === 'deleted' || parent.status === 'spam') {
      throw new StoreError('parent-not-found', 'the comment replied to does not exist on this page');
    }
  }

  /** Step 4, with step 1 just before the name is taken unless it was done already. */
  private async publish(post: Post, earlierRuledOut: boolean): Promise<AddResult> {
    let replayed: AddResult | undefined;
    const beforePublish = async () => {
      replayed = await this.earlierAttempt(post);
      if (replayed !== undefined) throw replayed;
    };
    let id: string;
    try {
      // Step 1 done or nothing to find: no hook; a first attempt's claim looked for by the publish itself.
      let guard: AppendOptions = { beforePublish };
      if (earlierRuledOut) guard = post.unseen === undefined ? {} : { ifAbsent: post.unseen };
      id = (await post.spool.append(serialiseRecord(post.record), guard)).id;
    } catch (err) {
      if (replayed !== undefined && isQuireError(err, 'ERR_BEFORE_PUBLISH')) return replayed;
      throw unwrapHook(err);
    }
    const stem = stemOf(id);
    if (post.summaries !== undefined) this.summaries.set(post.summaries, stem, summarise(post.record));
    return { stem, record: post.record, created: true };
  }
}
