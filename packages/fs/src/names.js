import { invalidArg } from './errors.js';
// The regex rules out impossible fields; daysIn() the 30th of February. Both are cheap: list() parses every name.
const NAME = /^(\d{4})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3])([0-5]\d)([0-5]\d)Z-(0|[1-9]\d{0,14})(\.[A-Za-z0-9_.-]{1,32})?$/;
const SUFFIX = /^\.[A-Za-z0-9_.-]{1,32}$/;
/** A record-name suffix, checked: '' for none. */
export function checkSuffix(suffix) {
    if (suffix === undefined || suffix === '')
        return '';
    if (typeof suffix !== 'string' || !SUFFIX.test(suffix)) {
        throw invalidArg(`suffix must be '.' followed by 1-32 of [A-Za-z0-9_.-], got ${JSON.stringify(suffix)}`);
    }
    return suffix;
}
/** The epoch milliseconds a TimeSource stands for (now when undefined), checked. */
export function resolveTime(time) {
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
export function formatStamp(ms) {
    const second = Math.floor(ms / 1000);
    if (second === lastSecond)
        return lastStamp;
    lastSecond = second;
    lastStamp = formatSecond(ms);
    return lastStamp;
}
function formatSecond(ms) {
    // toISOString gives 'YYYY-MM-DDTHH:MM:SS.sssZ'; keep the digits to the second.
    const iso = new Date(ms).toISOString();
    return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}
/** `<stamp>-<counter><suffix>`. */
export function formatName(stamp, counter, suffix = '') {
    return `${stamp}-${counter}${suffix}`;
}
/** Parses a record name; null for anything else (temps, dot files, stray names). */
export function parseName(name) {
    const m = NAME.exec(name);
    if (!m)
        return null;
    const [, y, mo, d, h, mi, s, counter, suffix] = m;
    const year = Number(y);
    const month = Number(mo);
    if (Number(d) > daysIn(year, month))
        return null;
    const time = Date.UTC(year, month - 1, Number(d), Number(h), Number(mi), Number(s));
    return { name, stamp: name.slice(0, 16), time, counter: Number(counter), suffix: suffix ?? '' };
}
function daysIn(year, month) {
    if (month === 2)
        return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
    return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
/** Whether `name` is a record name (parseName would parse it). */
export function isRecordName(name) {
    return parseName(name) !== null;
}
/**
 * Orders record names by (timestamp, counter as a number), then by suffix; names that are not record names
 * sort after all record names, by plain string order. Use it with Array.prototype.sort.
 */
export function compareNames(a, b) {
    const pa = parseName(a);
    const pb = parseName(b);
    if (pa && pb) {
        if (pa.stamp !== pb.stamp)
            return pa.stamp < pb.stamp ? -1 : 1;
        if (pa.counter !== pb.counter)
            return pa.counter - pb.counter;
    }
    else if (pa || pb) {
        return pa ? -1 : 1;
    }
    return a < b ? -1 : a > b ? 1 : 0;
}
const MAX_SPREAD = 1 << 16;
const MAX_TRACKED = 4096;
const probes = new Map();
/** Counter guesses for one (directory, suffix) in one second, sharing the process-wide ProbeState above. */
export class CounterProbe {
    state;
    constructor(key, stamp) {
        let state = probes.get(key);
        if (state === undefined) {
            if (probes.size >= MAX_TRACKED)
                probes.clear();
            state = { stamp, issued: -1, taken: -1, spread: 1 };
            probes.set(key, state);
        }
        else if (state.stamp !== stamp) {
            // A new second starts dense at 0 again; a burst's spread would only leave gaps in a quiet second.
            state.stamp = stamp;
            state.issued = -1;
            state.taken = -1;
            state.spread = 1;
        }
        this.state = state;
    }
    guess() {
        const state = this.state;
        const counter = Math.max(state.issued, state.taken) + 1 + Math.floor(Math.random() * state.spread);
        state.issued = counter;
        return counter;
    }
    /** The first counter to try. */
    first() {
        return this.guess();
    }
    /** The counter to try after `taken` turned out to be in use. */
    next(taken) {
        const state = this.state;
        if (taken > state.taken)
            state.taken = taken;
        state.spread = Math.min(MAX_SPREAD, state.spread * 2);
        return this.guess();
    }
    /** The highest counter known taken and the spread, for a native publish that probes on its own. */
    snapshot() {
        return { taken: this.state.taken, spread: this.state.spread };
    }
    /** What a native publish learned: it guessed up to `last`, found `taken` in use, ended with `spread`. */
    learn(last, taken, spread) {
        const state = this.state;
        if (last > state.issued)
            state.issued = last;
        if (taken > state.taken)
            state.taken = taken;
        state.spread = spread;
    }
    /** `counter` was linked after `attempts` tries. */
    won(counter, attempts) {
        const state = this.state;
        if (counter > state.taken)
            state.taken = counter;
        if (attempts === 1)
            state.spread = Math.max(1, state.spread - Math.ceil(state.spread / 8));
    }
}
//# sourceMappingURL=names.js.map