import path from 'node:path';
import { invalidArg } from './errors.js';

/**
 * The one check of every path argument the library takes (as Node core's getValidatedPath is for node:fs): a
 * non-empty string without NUL bytes, else ERR_INVALID_ARG naming the call and the argument. Returns the path
 * as given; callers that keep it resolve it themselves (a Lock reports its path as given).
 */
export function validatePath(value: unknown, name: string, what: string): string {
  if (typeof value !== 'string' || value === '') {
    throw invalidArg(`${what}: ${name} must be a non-empty string, got ${describe(value)}`);
  }
  if (value.includes('\0')) throw invalidArg(`${what}: ${name} must not contain NUL bytes`);
  return value;
}

// The last absolute path resolved, and its result: a caller writing again and again into one directory (the
// common case) resolves it once. Only absolute paths: a relative one depends on the working directory.
let lastAbsolute = '';
let lastResolved = '';

/**
 * path.resolve(p), remembered for the last absolute `p`: path.resolve's pass over the string was, with the CPU's
 * caches cold after a durable call's fsyncs, one of the larger parts of an async writer's event-loop time.
 */
export function resolvePath(p: string): string {
  if (p === lastAbsolute) return lastResolved;
  const resolved = isResolved(p) ? p : path.resolve(p);
  if (path.isAbsolute(p)) {
    lastAbsolute = p;
    lastResolved = resolved;
  }
  return resolved;
}

/**
 * Whether path.resolve(p) is `p` itself: absolute, no empty segment, no segment starting with a dot (so no `.`
 * or `..`), no trailing slash. Two searches of the string instead of path.resolve's pass that builds a new
 * one: a caller of createExclusive names a new file on every call, so the memory above does not serve it.
 */
export function isResolved(p: string): boolean {
  if (p.charCodeAt(0) !== 0x2f) return false;
  if (p.length === 1) return true;
  return p.charCodeAt(p.length - 1) !== 0x2f && !p.includes('//') && !p.includes('/.');
}

/** The fields of an options argument; none when it is undefined. */
export function optionFields(what: string, opts: unknown): Record<string, unknown> {
  if (opts === undefined) return {};
  if (typeof opts !== 'object' || opts === null) throw invalidArg(`${what}: options must be an object`);
  return opts as Record<string, unknown>;
}

/** A short description of a value for an error message: its type, or `''` and `null` as such. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === '') return "''";
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}
