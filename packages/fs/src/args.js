import { invalidArg } from './errors.js';
/**
 * The one check of every path argument the library takes (as Node core's getValidatedPath is for node:fs): a
 * non-empty string without NUL bytes, else ERR_INVALID_ARG naming the call and the argument. Returns the path
 * as given; callers that keep it resolve it themselves (a Lock reports its path as given).
 */
export function validatePath(value, name, what) {
    if (typeof value !== 'string' || value === '') {
        throw invalidArg(`${what}: ${name} must be a non-empty string, got ${describe(value)}`);
    }
    if (value.includes('\0'))
        throw invalidArg(`${what}: ${name} must not contain NUL bytes`);
    return value;
}
/** The fields of an options argument; none when it is undefined. */
export function optionFields(what, opts) {
    if (opts === undefined)
        return {};
    if (typeof opts !== 'object' || opts === null)
        throw invalidArg(`${what}: options must be an object`);
    return opts;
}
/** A short description of a value for an error message: its type, or `''` and `null` as such. */
export function describe(value) {
    if (value === null)
        return 'null';
    if (value === '')
        return "''";
    if (typeof value === 'object')
        return value.constructor?.name ?? 'object';
    return typeof value;
}
//# sourceMappingURL=args.js.map