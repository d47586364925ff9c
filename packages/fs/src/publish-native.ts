/**
 * The writers' native path: when the addon is loaded and the data is one buffer with no beforePublish hook, a
 * whole publish is one step (one pool job for the async API); see native-publish.ts. Anything else (chunk
 * iterables, hooks, no addon) runs the JS protocol in publish.ts. Both report alike: same codes, same paths.
 */
import path from 'node:path';
import type { Content } from './data.js';
import { makeDirSteps } from './dir.js';
import { errnoCode, preconditionFailed, QuireError } from './errors.js';
import { CounterProbe, formatName } from './names.js';
import { hasNative, type NativeRequest, type NativeResult } from './native-publish.js';
import { call, type Steps } from './steps.js';
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
interface Placed {
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

/**
 * One native publish into `dir`, as the step that runs it; with `mkdir`, a missing directory is created (by
 * the JS steps, durably when durable) and the publish tried once more. `unique` names a createUnique.
 */
export function* nativeSteps(
  kind: 'unique' | 'exclusive' | 'replace',
  dir: string,
  request: NativeCall,
  unique?: { stamp: string; suffix: string },
): Steps<Placed> {
  const { what, target, settings, content } = request;
  if (content.kind !== 'bytes') throw new Error('nativeSteps needs the data as one buffer');
  // One guess for both tries: a retry after mkdir names into a new directory, which the guess fits as well.
  const probe = unique && new CounterProbe(`${dir}\0${unique.suffix}`, unique.stamp);
  const counter = probe ? probe.first() : 0;
  for (let retried = false; ; retried = true) {
    const { taken, spread } = probe ? probe.snapshot() : { taken: -1, spread: 1 };
    let done: NativeResult;
    try {
      done = yield* runNative(
        {
          kind,
          dir,
          target,
          tmp: path.join(dir, tempName()),
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
        },
        settings.beforePublish,
      );
    } catch (err) {
      const code = errnoCode(err);
      const {
        path: at,
        syscall,
        afterPlace,
      } = err as { path?: string; syscall?: string; afterPlace?: boolean };
      if (code === 'ENOENT' && at === dir && syscall === 'open' && afterPlace !== true && !retried) {
        if (!settings.mkdir) throw missingDir(what, dir, err);
        yield* makeDirSteps(dir, settings.durable, what);
        continue;
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
    if (probe && unique) {
      probe.learn(done.counter, done.taken, done.spread);
      probe.won(done.counter, done.attempts);
      const name = formatName(unique.stamp, done.counter, unique.suffix);
      return { name, path: path.join(dir, name), attempts: done.attempts };
    }
    return { name: path.basename(target), path: target, attempts: 1 };
  }
}
