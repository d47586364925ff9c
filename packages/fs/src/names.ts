import { invalidArg } from './errors.js';

/**
 * Record names are those of the blog post quire started from ("Locking for Creating and Writing Files"): a UTC
 * timestamp to the second, a counter, and an optional suffix, `YYYYMMDDTHHMMSSZ-N[suffix]`, e.g.
 * `20261126T101500Z-3.json`. They sort by (timestamp, counter as a number).
 */
export interface RecordName {
  /** The whole file name. */
  name: string;
  /** `YYYYMMDDTHHMMSSZ`. */
  stamp: string;
  /** Milliseconds since the epoch of the stamp's second. */
  time: number;
  counter: number;
  /** `''` or a suffix such as `.json`. */
  suffix: string;
}

/** A point in time as callers give it: a Date, epoch milliseconds, or a clock to call. */
export type TimeSource = Date | number | (() => Date | number);

// The regex rules out impossible fields; daysIn() the 30th of February. Both are cheap: list() parses every name.
const NAME =
  /^(\d{4})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3])([0-5]\d)([0-5]\d)Z-(0|[1-9]\d{0,14})(\.[A-Za-z0-9_.-]{1,32})?$/;
const SUFFIX = /^\.[A-Za-z0-9_.-]{1,32}$/;

/** A record-name suffix, checked: '' for none. */
export function checkSuffix(suffix: unknown): string {
  if (suffix === undefined || suffix === '') return '';
  if (typeof suffix !== 'string' || !SUFFIX.test(suffix)) {
    throw invalidArg(`suffix must be '.' followed by 1-32 of [A-Za-z0-9_.-], got ${JSON.stringify(suffix)}`);
  }
  return suffix;
}

/** The epoch milliseconds a TimeSource stands for (now when undefined), checked. */
export function resolveTime(time: TimeSource | undefined): number {
  const t = typeof time === 'function' ? time() : (time ?? Date.now());
  const ms = t instanceof Date ? t.getTime() : t;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms >= 253402300800000) {
    throw invalidArg(`time must be a Date or epoch milliseconds between 1970 and 9999, got ${String(t)}`);
  }
  return ms;
}

// Most calls fall in the same second as the one before: remember its stamp.
let lastSecond = Number.NaN;
let lastStamp = '';

/** `YYYYMMDDTHHMMSSZ` of the UTC second holding `ms`. */
export function formatStamp(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second === lastSecond) return lastStamp;
  lastSecond = second;
  lastStamp = formatSecond(ms);
  return lastStamp;
}

function formatSecond(ms: number): string {
  // toISOString gives 'YYYY-MM-DDTHH:MM:SS.sssZ'; keep the digits to the second.
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** `<stamp>-<counter><suffix>`. */
export function formatName(stamp: string, counter: number, suffix = ''): string {
  return `${stamp}-${counter}${suffix}`;
}

/** Parses a record name; null for anything else (temps, dot files, stray names). */
export function parseName(name: string): RecordName | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, counter, suffix] = m as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  if (Number(d) > daysIn(year, month)) return null;
  const time = Date.UTC(year, month - 1, Number(d), Number(h), Number(mi), Number(s));
  return { name, stamp: name.slice(0, 16), time, counter: Number(counter), suffix: suffix ?? '' };
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Whether `name` is a record name (parseName would parse it). */
export function isRecordName(name: string): boolean {
  return parseName(name) !== null;
}

/**
 * Orders record names by (timestamp, counter as a number), then by suffix; names that are not record names
 * sort after all record names, by plain string order. Use it with Array.prototype.sort.
 */
export function compareNames(a: string, b: string): number {
  const pa = parseName(a);
  const pb = parseName(b);
  if (pa && pb) {
    if (pa.stamp !== pb.stamp) return pa.stamp < pb.stamp ? -1 : 1;
    if (pa.counter !== pb.counter) return pa.counter - pb.counter;
  } else if (pa || pb) {
    return pa ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Picks counters so that writers sharing one second rarely collide, without reading the directory.
 * Per (directory, suffix) this process remembers the highest counter it knows is taken and a spread: it guesses
 * a random slot in the `spread` counters above everything it has seen or handed out. A collision doubles the
 * spread (and raises what it knows is taken); a win at the first try shrinks it by an eighth. That is binary
 * exponential backoff, as Ethernet does it: with P writers the spread settles at a few times P, a create costs
 * about one link(2) (measured: 1.0-1.1 on average with 8 processes, also with calls in flight in each), and a
 * newcomer to a second that already holds 2000 names finds a free one in about a dozen attempts. The price is
 * gaps in a busy second's counters. Only the kernel's EEXIST decides who owns a name; this is just a good guess.
 */
interface ProbeState {
  stamp: string;
  /** Highest counter handed out by this process, so its own calls never guess the same name twice. */
  issued: number;
  /** Highest counter this process knows to be taken (its wins and its collisions). */
  taken: number;
  spread: number;
}

const MAX_SPREAD = 1 << 16;
const MAX_TRACKED = 4096;
const probes = new Map<string, ProbeState>();

// The last (directory, suffix) looked up, and its state: a caller writing into one directory (the common case)
// finds it without building the Map's key, a new string to hash on every call.
let lastDir: string | undefined;
let lastSuffix = '';
let lastState: ProbeState | undefined;

/** Counter guesses for one (directory, suffix) in one second, sharing the process-wide ProbeState above. */
export class CounterProbe {
  private readonly state: ProbeState;

  constructor(dir: string, suffix: string, stamp: string) {
    let state = dir === lastDir && suffix === lastSuffix ? lastState : probes.get(`${dir}\0${suffix}`);
    if (state === undefined) {
      if (probes.size >= MAX_TRACKED) probes.clear();
      state = { stamp, issued: -1, taken: -1, spread: 1 };
      probes.set(`${dir}\0${suffix}`, state);
    } else if (state.stamp !== stamp) {
      // A new second starts dense at 0 again; a burst's spread would only leave gaps in a quiet second.
      state.stamp = stamp;
      state.issued = -1;
      state.taken = -1;
      state.spread = 1;
    }
    lastDir = dir;
    lastSuffix = suffix;
    lastState = state;
    this.state = state;
  }

  private guess(): number {
    const state = this.state;
    const counter = Math.max(state.issued, state.taken) + 1 + Math.floor(Math.random() * state.spread);
    state.issued = counter;
    return counter;
  }

  /** The first counter to try. */
  first(): number {
    return this.guess();
  }

  /** The counter to try after `taken` turned out to be in use. */
  next(taken: number): number {
    const state = this.state;
    if (taken > state.taken) state.taken = taken;
    state.spread = Math.min(MAX_SPREAD, state.spread * 2);
    return this.guess();
  }

  /** The highest counter known taken and the spread, for a native publish that probes on its own. */
  snapshot(): { taken: number; spread: number } {
    return { taken: this.state.taken, spread: this.state.spread };
  }

  /** What a native publish learned: it guessed up to `last`, found `taken` in use, ended with `spread`. */
  learn(last: number, taken: number, spread: number): void {
    const state = this.state;
    if (last > state.issued) state.issued = last;
    if (taken > state.taken) state.taken = taken;
    state.spread = spread;
  }

  /** `counter` was linked after `attempts` tries. */
  won(counter: number, attempts: number): void {
    const state = this.state;
    if (counter > state.taken) state.taken = counter;
    if (attempts === 1) state.spread = Math.max(1, state.spread - Math.ceil(state.spread / 8));
  }
}
