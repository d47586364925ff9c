import { constants } from 'node:os';
/** Every error of this library: a stable `code`, and for system errors `syscall`, `path` and `cause`. */
export class QuireError extends Error {
    name = 'QuireError';
    code;
    syscall;
    path;
    dest;
    errno;
    /** Set when a read-only call was tried more than once (ESTALE, ENOTCONN) before this error. */
    attempts;
    constructor(code, message, details = {}) {
        super(message, details.cause === undefined ? undefined : { cause: details.cause });
        this.code = code;
        if (details.syscall !== undefined)
            this.syscall = details.syscall;
        if (details.path !== undefined)
            this.path = details.path;
        if (details.dest !== undefined)
            this.dest = details.dest;
        if (details.errno !== undefined)
            this.errno = details.errno;
        if (details.attempts !== undefined)
            this.attempts = details.attempts;
    }
}
/** Whether `err` is a QuireError, and when `code` is given, one with that code. */
export function isQuireError(err, code) {
    return err instanceof QuireError && (code === undefined || err.code === code);
}
// libuv names only the errnos it knows; others come out as code 'Unknown system error -116' (ESTALE on Linux, the
// one a network filesystem gives most). The OS's own table names them.
const errnoNames = new Map(Object.entries(constants.errno).map(([name, n]) => [-n, name]));
/** The errno name of a Node system error (`'EEXIST'`, `'ESTALE'`), or undefined for anything else. */
export function errnoCode(err) {
    if (typeof err !== 'object' || err === null || !('code' in err) || typeof err.code !== 'string')
        return undefined;
    if (err.code.startsWith('Unknown system error') && 'errno' in err && typeof err.errno === 'number') {
        return errnoNames.get(err.errno) ?? err.code;
    }
    return err.code;
}
/** ERR_INVALID_ARG with `message`. */
export function invalidArg(message) {
    return new QuireError('ERR_INVALID_ARG', message);
}
/** Turns whatever a step threw into a QuireError, keeping the errno name as the code. */
export function toQuireError(err, what) {
    if (err instanceof QuireError)
        return err;
    const e = err;
    const code = errnoCode(err);
    if (code === undefined)
        return new QuireError('ERR_UNEXPECTED', `${what}: ${String(err)}`, { cause: err });
    const where = e.dest ? `${e.path} -> ${e.dest}` : e.path;
    const details = { cause: err };
    if (e.syscall)
        details.syscall = e.syscall;
    if (e.path)
        details.path = e.path;
    if (e.dest)
        details.dest = e.dest;
    if (typeof e.errno === 'number')
        details.errno = e.errno;
    const attempts = err.attempts;
    if (typeof attempts === 'number' && attempts > 1)
        details.attempts = attempts;
    return new QuireError(code, `${what} failed: ${code}${e.syscall ? ` in ${e.syscall}` : ''}${where ? ` (${where})` : ''}${details.attempts ? ` after ${details.attempts} attempts` : ''}`, details);
}
//# sourceMappingURL=errors.js.map