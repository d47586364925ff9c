/**
 * The native publish: the addon in native/ (built by scripts/build-native.mjs) runs a whole createUnique,
 * createExclusive or replaceFile (open, write, fsync, link or rename with counter probing, directory fsync) in
 * one C function, so the async API makes one trip to libuv's pool instead of about seven, and on filesystems
 * with O_TMPFILE no temp name ever appears. It is loaded once; where it cannot be (not Linux, not built,
 * QUIRE_FS_PURE_JS=1) every call runs the JS protocol in publish.ts, which keeps every guarantee the same.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { getSystemErrorName } from 'node:util';
function load() {
    if (process.env.QUIRE_FS_PURE_JS === '1' || process.platform !== 'linux')
        return undefined;
    try {
        // dist/src/ -> the package root, where node-gyp leaves build/Release.
        return createRequire(import.meta.url)('../../build/Release/quire_fs.node');
    }
    catch {
        return undefined;
    }
}
const binding = load();
/**
 * Which publish protocol this process runs: 'native' (the addon, one pool job per call, O_TMPFILE where the
 * filesystem has it) or 'js' (the pure-JS protocol: not Linux, the addon not built or not loadable, or
 * QUIRE_FS_PURE_JS=1). Both keep every guarantee of the README.
 */
export const implementation = binding ? 'native' : 'js';
// Named temps instead of O_TMPFILE on every filesystem: how the tests reach the fallback on filesystems that
// have O_TMPFILE. Not part of the API.
const noTmpfile = process.env.QUIRE_FS_NO_TMPFILE === '1';
const KINDS = { unique: 0, exclusive: 1, replace: 2 };
const SYSCALLS = [
    '',
    'open',
    'write',
    'fsync',
    'fchmod',
    'fchown',
    'close',
    'link',
    'rename',
    'unlink',
    'stat',
];
function args(req, out) {
    return [
        KINDS[req.kind],
        req.dir,
        req.target,
        req.tmp,
        req.stamp,
        req.suffix,
        req.bytes,
        req.durable,
        req.durable,
        req.mode ?? -1,
        req.counter,
        req.taken,
        req.spread,
        noTmpfile,
        out,
    ];
}
/** The result in `out`, or the failure as Node's own fs errors look (code, errno, syscall, path). */
function settle(req, out) {
    const [err, syscall, where, attempts, tmpfile, counter, taken, spread] = out;
    if (err) {
        const code = getSystemErrorName(-err);
        const named = path.join(req.dir, `${req.stamp}-${counter}${req.suffix}`);
        const at = [req.target, req.dir, req.tmp, named, req.dir][where];
        const name = SYSCALLS[syscall] ?? 'unknown';
        const error = Object.assign(new Error(`${code}: ${name} '${at}'`), {
            code,
            errno: -err,
            syscall: name,
            path: at,
        });
        // The directory fsync after the name was placed (and taken back): not a missing directory to create.
        if (where === 4)
            Object.defineProperty(error, 'afterPlace', { value: true });
        throw error;
    }
    return { attempts: attempts, tmpfile: tmpfile === 1, counter: counter, taken: taken, spread: spread };
}
/** Whether the addon is loaded. */
export function hasNative() {
    return binding !== undefined;
}
/** A whole publish on this thread. */
export function nativePublishSync(req) {
    const out = new Float64Array(8);
    binding.publishSync(...args(req, out));
    return settle(req, out);
}
/** A whole publish as one job on libuv's pool. */
export function nativePublish(req) {
    return new Promise((resolve, reject) => {
        const out = new Float64Array(8);
        binding.publish(...args(req, out), () => {
            try {
                resolve(settle(req, out));
            }
            catch (err) {
                reject(err);
            }
        });
    });
}
/** The first half of a publish, for a beforePublish hook: the data written and fsynced, no name yet. */
export function nativePrepareSync(req) {
    const out = new Float64Array(8);
    const handle = binding.prepareSync(...args(req, out));
    settle(req, out);
    return handle;
}
/** nativePrepareSync as one job on libuv's pool. */
export function nativePrepare(req) {
    return new Promise((resolve, reject) => {
        const out = new Float64Array(8);
        binding.prepare(...args(req, out), (handle) => {
            try {
                settle(req, out);
                resolve(handle);
            }
            catch (err) {
                reject(err);
            }
        });
    });
}
/** The second half: the prepared file takes its name (with the counter probing), then the directory fsync. */
export function nativePlaceSync(req, handle) {
    const out = new Float64Array(8);
    binding.placeSync(handle, out);
    return settle(req, out);
}
/** nativePlaceSync as one job on libuv's pool. */
export function nativePlace(req, handle) {
    return new Promise((resolve, reject) => {
        const out = new Float64Array(8);
        binding.place(handle, out, () => {
            try {
                resolve(settle(req, out));
            }
            catch (err) {
                reject(err);
            }
        });
    });
}
/** Drops a prepared publish the hook vetoed: the file is closed and (a named temp) removed; nothing is left. */
export function nativeAbort(handle) {
    binding.abort(handle);
}
//# sourceMappingURL=native-publish.js.map