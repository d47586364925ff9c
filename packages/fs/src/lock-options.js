import { optionFields } from './args.js';
import { invalidArg, QuireError } from './errors.js';
/** Checks the options of a lock call named `what`; the sync calls take no signal. */
export function checkLockOptions(what, opts, allowSignal) {
    const { shared, timeoutMs, signal, range } = optionFields(what, opts);
    if (range !== undefined && !isRange(range)) {
        throw invalidArg(`${what}: range must be { offset, length } of whole numbers >= 0`);
    }
    if (shared !== undefined && typeof shared !== 'boolean')
        throw invalidArg(`${what}: shared must be a boolean`);
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
        throw invalidArg(`${what}: timeoutMs must be a number >= 0`);
    }
    if (signal !== undefined) {
        if (!allowSignal)
            throw invalidArg(`${what}: takes no signal, since nothing can wake a blocked thread`);
        if (!(signal instanceof AbortSignal))
            throw invalidArg(`${what}: signal must be an AbortSignal`);
    }
    return {
        range: range ?? WHOLE,
        shared: shared ?? false,
        timeoutMs: timeoutMs === Number.POSITIVE_INFINITY ? undefined : timeoutMs,
        signal,
    };
}
/** ERR_LOCK_TIMEOUT for `file`. */
export function timedOut(what, file, timeoutMs) {
    return new QuireError('ERR_LOCK_TIMEOUT', `${what}: lock on ${file} not granted within ${timeoutMs} ms`, {
        path: file,
    });
}
/** ERR_ABORTED for `file`, with the signal's reason as cause. */
export function aborted(what, file, signal) {
    return new QuireError('ERR_ABORTED', `${what}: wait for the lock on ${file} was aborted`, {
        path: file,
        cause: signal.reason,
    });
}
/** A range that locks the whole file. */
const WHOLE = { offset: 0, length: 0 };
function isRange(r) {
    if (typeof r !== 'object' || r === null)
        return false;
    const { offset, length } = r;
    return (Number.isSafeInteger(offset) && Number.isSafeInteger(length) && Number(offset) >= 0 && Number(length) >= 0);
}
//# sourceMappingURL=lock-options.js.map