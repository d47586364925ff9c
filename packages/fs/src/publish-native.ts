/**
 * The writers' native path: when the addon is loaded and the data is one buffer with no beforePublish hook, a
 * whole publish is one step (one pool job for the async API); see native-publish.ts. Anything else (chunk
 * iterables, hooks, no addon) runs the JS protocol in publish.ts. Both report alike: same codes, same paths.
 */
import path from 'node:path';
import type { Content } from './data.js';
import { makeDirSteps } from './dir.js';
import { errnoCode, preconditionFailed, QuireError, toQuireError } from './errors.js';
import { CounterProbe, formatName } from './names.js';
import { hasNative, type NativeRequest, type NativeResult, nativePublishThen } from './native-publish.js';
import { call, runAsync, type Steps } from './steps.js';
import { tempName } from './temp.js';

/** What the native path needs of a writer call's checked arguments. */
export interface NativeCall {
  what: string;
  target: string;
  content: Content;
  settings: {
    durable: boolean;
    syncDir: boolean;
    mkdir: boolean;
    mode: number | undefined;
    beforePublish: (() => unknown) | undefined;
    ifAbsent: string | undefined;
  };
}

/** Where a publish is written and named. */
export interface Placed {
  name: string;
  path: string;
  attempts: number;
}

/** Whether this call can run natively: the addon is loaded and the data is one buffer. */
export function runsNatively(request: NativeCall): boolean {
  return hasNative() && request.content.kind === 'bytes';
}

/**
 * The publish as one step; with a beforePublish hook, in two (one pool job each for the async API): the data
 * written and fsynced, then the hook, then the name; a hook that throws drops the file and nothing is named.
 */
function* runNative(req: NativeRequest, hook: (() => unknown) | undefined): Steps<NativeResult> {
  if (hook === undefined) return yield* call({ op: 'native', req });
  const handle = yield* call({ op: 'nativePrepare', req });
  try {
    yield* call({ op: 'hook', fn: hook });
  } catch (err) {
    yield* call({ op: 'nativeAbort', handle });
    throw err;
  }
  return yield* call({ op: 'nativePlace', req, handle });
}

/** A writer's missing directory, named as such (a temp's name would only confuse). */
export function missingDir(what: string, dir: string, cause: unknown): QuireError {
  return new QuireError('ENOENT', `${what}: no such directory: ${dir} (pass { mkdir: true } to create it)`, {
    path: dir,
    syscall: 'open',
    cause,
  });
}

/** A publish the addon runs whole: into `dir`; `unique` names a createUnique (its stamp and suffix). */
export interface NativePlan {
  kind: 'unique' | 'exclusive' | 'replace';
  dir: string;
  request: NativeCall;
  unique?: { stamp: string; suffix: string };
}

/** What a writer call does: a native publish, or the JS protocol's steps. */
export type Plan = NativePlan | Steps<Placed>;

function isSteps(plan: Plan): plan is Steps<Placed> {
  return 'next' in plan;
}

/** path.join(dir, name) for a resolved `dir` and a plain name, without join's pass over the whole string. */
function inDir(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** A createUnique's counter guess and the probe that made it (none for the other writers). */
interface Guess {
  probe: CounterProbe | undefined;
  counter: number;
}

function firstGuess({ dir, unique }: NativePlan): Guess {
  const probe = unique && new CounterProbe(dir, unique.suffix, unique.stamp);
  return { probe, counter: probe ? probe.first() : 0 };
}

function nativeRequest({ kind, dir, request, unique }: NativePlan, { probe, counter }: Guess): NativeRequest {
  const { target, settings, content } = request;
  if (content.kind !== 'bytes') throw new Error('a native publish needs the data as one buffer');
  const { taken, spread } = probe ? probe.snapshot() : { taken: -1, spread: 1 };
  return {
    kind,
    dir,
    target,
    tmp: inDir(dir, tempName()),
    stamp: unique?.stamp ?? '',
    suffix: unique?.suffix ?? '',
    bytes: content.bytes,
    durable: settings.durable,
    syncDir: settings.syncDir,
    mode: settings.mode,
    counter,
    taken,
    spread,
    ifAbsent: settings.ifAbsent,
  };
}

/** Where a native publish placed the file; a createUnique's probe learns what the addon found. */
function placed({ dir, request, unique }: NativePlan, { probe }: Guess, done: NativeResult): Placed {
  if (probe && unique) {
    probe.learn(done.counter, done.taken, done.spread);
    probe.won(done.counter, done.attempts);
    const name = formatName(unique.stamp, done.counter, unique.suffix);
    return { name, path: inDir(dir, name), attempts: done.attempts };
  }
  return { name: path.basename(request.target), path: request.target, attempts: 1 };
}

/**
 * A native publish that failed: throws what the caller gets, or returns when the directory is missing and the
 * call may create it (`mkdir`, not yet `retried`): then it is made and the publish tried once more.
 */
function mustMakeDir({ kind, dir, request }: NativePlan, err: unknown, retried: boolean): void {
  const { what, target, settings } = request;
  const code = errnoCode(err);
  const { path: at, syscall, afterPlace } = err as { path?: string; syscall?: string; afterPlace?: boolean };
  if (code === 'ENOENT' && at === dir && syscall === 'open' && afterPlace !== true && !retried) {
    if (!settings.mkdir) throw missingDir(what, dir, err);
    return;
  }
  if ((err as { ifAbsent?: boolean }).ifAbsent === true && code === 'EEXIST') {
    throw preconditionFailed(what, settings.ifAbsent as string, err);
  }
  if (kind === 'exclusive' && code === 'EEXIST') {
    throw new QuireError('EEXIST', `${what}: ${target} already exists`, {
      path: target,
      syscall: 'link',
      cause: err,
    });
  }
  throw err;
}

/**
 * A native publish as steps; with `mkdir`, a missing directory is created (by the JS steps, durably when
 * durable) and the publish tried once more, with the same guess (`made`: the directory is to be made first).
 * One guess for both tries: a retry after mkdir names into a new directory, which the guess fits as well.
 */
export function* nativeSteps(plan: NativePlan, guess = firstGuess(plan), made = false): Steps<Placed> {
  const { settings, what } = plan.request;
  if (made) yield* makeDirSteps(plan.dir, settings.durable, what);
  let done: NativeResult;
  try {
    done = yield* runNative(nativeRequest(plan, guess), settings.beforePublish);
  } catch (err) {
    mustMakeDir(plan, err, made);
    return yield* nativeSteps(plan, guess, true);
  }
  return placed(plan, guess, done);
}

/** A plan as steps, for the sync API. */
export function planSteps(plan: Plan): Steps<Placed> {
  return isSteps(plan) ? plan : nativeSteps(plan);
}

/**
 * The async API's driver for a writer call: a native publish with no hook (the common call) is one call of
 * the addon, whose answer settles the returned promise, without the step driver: its generators, promises and
 * turns of the microtask queue are event-loop time on the path of a caller making one call at a time, several
 * times more with the caches cold after a durable call's wait (bench/README, issue 17, wave 6). Anything else
 * runs as steps. Whatever it rejects with comes out a QuireError, as wrapAsync's do.
 */
export function writeAsync(what: string, make: () => Plan): Promise<Placed> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => reject(toQuireError(err, what));
    const steps = (s: Steps<Placed>) => void runAsync(s).then(resolve, fail);
    try {
      const plan = make();
      if (isSteps(plan)) return steps(plan);
      if (plan.request.settings.beforePublish !== undefined) return steps(nativeSteps(plan));
      const guess = firstGuess(plan);
      // The addon's answer settles the caller's promise itself: no promise of the job's own in between.
      nativePublishThen(nativeRequest(plan, guess), (done, err) => {
        try {
          if (done) return resolve(placed(plan, guess, done));
          mustMakeDir(plan, err, false);
          steps(nativeSteps(plan, guess, true));
        } catch (e) {
          fail(e);
        }
      });
    } catch (err) {
      fail(err);
    }
  });
}
