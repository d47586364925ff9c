import fs from 'node:fs';
import path from 'node:path';
import { validatePath } from './args.js';
import { durableOption, makeDirSteps } from './dir.js';
import { errnoCode, invalidArg, QuireError } from './errors.js';
import { call, type Steps, wrapAsync } from './steps.js';

/** Options of createMarker. */
export interface MarkerOptions {
  /**
   * Default true: the directory (and the parents of any directory created) is fsynced before the call returns,
   * whether this call made the marker or found it, so the marker survives a power cut. false: no fsync; the
   * marker is still visible to every process of the host at once, but a power cut may lose it.
   */
  durable?: boolean;
}

const ANCHOR_PREFIX = '.anchor-';
/**
 * How many links an anchor gets before this process moves on to another: well under the smallest cap we know,
 * GlusterFS's 100 links per inode (`storage.max-hardlinks`, its own handle counting one), leaving room for the
 * markers other processes and hosts make before they notice. Past a cap GlusterFS does not always say EMLINK:
 * when the bricks of a replica disagree on the count (one was down while links were made), it answers ESTALE
 * to every link to that anchor.
 */
const ROLL_AT = 64;

/** Per directory, the anchor this process links markers to, and whether it has looked at its link count. */
interface AnchorState {
  k: number;
  checked: boolean;
  /** Markers this process linked to anchor k: its link count is looked at after every CHECK_EVERY-th. */
  linked: number;
  /** Anchor k's link count when last looked at, plus the links this process made since. */
  count: number;
}
/**
 * Between two looks at an anchor's link count each process links at most CHECK_EVERY - 1 more, so with 8
 * processes an anchor stays under 64 + 8 × 3 = 88 links, below GlusterFS's 100, at a quarter of the lstat(2)s.
 */
const CHECK_EVERY = 4;
const anchors = new Map<string, AnchorState>();
/** Enough to pass the anchors of any link-count limit (each try at least doubles k) and a few races. */
const MAX_TRIES = 64;
/**
 * Anchors one call gives up for ESTALE before it reports it: a cap reached on some bricks costs one or two, while
 * ESTALE from every anchor means something else is wrong, and each new anchor is a file made for nothing.
 */
const MAX_STALE = 3;

/** Makes the directory (if missing) and the anchor `.anchor-<k>`: several processes may at once; any will do. */
function* makeAnchor(dir: string, anchor: string, durable: boolean): Steps<void> {
  yield* makeDirSteps(dir, durable, 'createMarker');
  const fd = yield* call({
    op: 'open',
    path: anchor,
    flags: fs.constants.O_WRONLY | fs.constants.O_CREAT,
    mode: 0o666,
  });
  try {
    // The anchor's inode is what every durable marker names: it must be on disk before they are.
    if (durable) yield* call({ op: 'fsync', fd });
  } finally {
    yield* call({ op: 'close', fd });
  }
}

/**
 * Leaves anchor `k` of `dir` for 2k+1: any anchor with room will do, so the gaps are harmless, and a process that
 * starts late finds room in a few tries. Only if no other call of this process has moved on already.
 */
function moveOn(state: AnchorState, k: number): void {
  if (state.k !== k) return;
  state.k = 2 * k + 1;
  state.checked = false;
  state.linked = 0;
  state.count = 0;
}

/** The link count of `file`, or Infinity when it cannot be had (taken as an anchor not to use). */
function* linksOf(file: string): Steps<number> {
  try {
    return (yield* call({ op: 'lstat', path: file })).nlink;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * Whether anchor `k` is one to link to: on its first use by this process, an anchor others filled already is
 * passed over without a link (one lstat per anchor and process), and a missing one is made.
 */
function* usable(dir: string, state: AnchorState, k: number, durable: boolean): Steps<boolean> {
  if (state.checked) return true;
  const anchor = path.join(dir, `${ANCHOR_PREFIX}${k}`);
  let links: number;
  try {
    links = (yield* call({ op: 'lstat', path: anchor })).nlink;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ESTALE') links = Number.POSITIVE_INFINITY;
    else if (code !== 'ENOENT') throw err;
    else {
      yield* makeAnchor(dir, anchor, durable);
      links = 1;
    }
  }
  if (links >= ROLL_AT) {
    moveOn(state, k);
    return false;
  }
  if (state.k === k) {
    state.checked = true;
    state.count = links;
  }
  return true;
}

function* markerSteps(file: string, durable: boolean): Steps<boolean> {
  const dir = path.dirname(file);
  let state = anchors.get(dir);
  if (state === undefined) {
    state = { k: 0, checked: false, linked: 0, count: 0 };
    anchors.set(dir, state);
  }
  let stale = 0;
  for (let tries = 0; ; tries++) {
    if (tries > MAX_TRIES) throw new QuireError('EMLINK', `createMarker: no anchor in ${dir} takes a link`);
    const { k } = state;
    if (!(yield* usable(dir, state, k, durable))) continue;
    const anchor = path.join(dir, `${ANCHOR_PREFIX}${k}`);
    try {
      yield* call({ op: 'link', from: anchor, to: file });
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EEXIST') {
        // Whoever made it may not have fsynced yet: a durable "it exists" must be as durable as a "made it".
        if (durable) yield* call({ op: 'syncDir', dir });
        return false;
      }
      if (tries >= MAX_TRIES || (code === 'ESTALE' && ++stale > MAX_STALE)) throw err;
      // Never the same link again: a full anchor stays full, and ESTALE here is GlusterFS's word for it when
      // its bricks disagree on the count. Had the link been made on some bricks, the next one finds the name
      // (EEXIST, false): a marker nobody was told they made, which costs its user a slower path, never a double.
      if (code === 'EMLINK' || code === 'ESTALE') moveOn(state, k);
      else if (code === 'ENOENT') state.checked = false;
      else throw err;
      continue;
    }
    // Looked at when this process's own links may have filled it, and every CHECK_EVERY-th link for others'.
    if (state.k === k && (++state.count >= ROLL_AT || ++state.linked % CHECK_EVERY === 0)) {
      const links = yield* linksOf(file);
      if (links >= ROLL_AT) moveOn(state, k);
      else if (state.k === k) state.count = links;
    }
    if (durable) yield* call({ op: 'syncDir', dir });
    return true;
  }
}

/**
 * Makes the empty name `file` if it does not exist: true if this call made it, false if it existed. Exactly one
 * of any number of concurrent calls for one name (threads, processes, hosts sharing the filesystem) gets true.
 * The directory is created when missing. Markers are never removed by the library.
 *
 * A marker is a hard link to an empty anchor file in its directory, `.anchor-<k>`: link(2) refuses an existing
 * name just as an exclusive create (O_EXCL) does, but allocates no inode (measured on ext4 without a journal:
 * 10 µs against 250 µs for an empty file). A filesystem caps the links of one inode (ext4: 65,000; btrfs: far
 * fewer within one directory; GlusterFS: 100 by default), so this process moves on to another anchor, 2k+1
 * after k, once an anchor has 64 links (an lstat of the new marker tells), at EMLINK, and at ESTALE from the
 * link (GlusterFS past its cap); it never makes the same link twice. Never write to a marker: all markers of an
 * anchor share its (empty) content.
 *
 * Whether a marker is there is the same for every process of the host the moment the call returns; with
 * `durable`, it also survives a power cut. Across hosts the filesystem must apply namespace operations in order
 * (NFS: a `sync` export). The link is a metadata change, which on a journaled filesystem may wait for the
 * journal: the call runs it on the threadpool, never on the event loop.
 */
export function createMarker(file: string, opts?: MarkerOptions): Promise<boolean> {
  return wrapAsync('createMarker', () => {
    const target = path.resolve(validatePath(file, 'file', 'createMarker'));
    if (path.basename(target).startsWith(ANCHOR_PREFIX)) {
      throw invalidArg(`createMarker: ${ANCHOR_PREFIX}* names are the markers' anchors, not markers`);
    }
    return markerSteps(target, durableOption('createMarker', opts));
  });
}
