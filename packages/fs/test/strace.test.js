/**
 * The order of system calls, read from strace logs of real runs. strace prints each event while the thread making
 * it is stopped, so in the log "A returned" before "B entered" means A finished before B began, across threads.
 * The fixtures mark where each call begins and ends (or resolves) with access() of a nonexistent path naming it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { implementation, isTempName } from '@quire/fs';
import { canStrace, parseStrace, requireOrSkip, spawnFixtureTraced, tempDir, waitExit, } from './helpers.js';
// '?': names this architecture lacks (link, rename, unlink, access on arm64) are skipped instead of refused.
const TRACE = 'openat,write,pwrite64,fsync,fdatasync,link,linkat,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,close,access,faccessat,faccessat2'
    .split(',')
    .map((n) => `?${n}`)
    .join(',');
const LINKS = ['link', 'linkat'];
const RENAMES = ['rename', 'renameat', 'renameat2'];
const WRITES = ['write', 'pwrite64', 'writev', 'pwritev'];
const FSYNCS = ['fsync', 'fdatasync'];
const ACCESS = ['access', 'faccessat', 'faccessat2'];
const MKDIRS = ['mkdir', 'mkdirat'];
/** The native path on a filesystem with O_TMPFILE (the OS temp dir here): data goes into an unnamed inode. */
const nameless = implementation === 'native' && process.env.QUIRE_FS_NO_TMPFILE !== '1';
async function traceFixture(t, fixture, extra = [], straceArgs = []) {
    const root = tempDir(t, 'quire-strace-');
    const dir = path.join(root, 'records');
    const markers = path.join(root, 'markers-never-created');
    fs.mkdirSync(dir);
    const logFile = path.join(root, 'strace.log');
    const child = spawnFixtureTraced(['-f', '-o', logFile, '-e', `trace=${TRACE}`, ...straceArgs], fixture, [
        dir,
        markers,
        ...extra,
    ]);
    const r = await waitExit(child);
    assert.equal(r.code, 0, `fixture ${fixture} under strace exited ${r.code ?? r.signal}: ${r.stderr}`);
    const log = fs.readFileSync(logFile, 'utf8');
    return { dir, markers, stdout: r.stdout, calls: parseStrace(log), log };
}
/** The marker call for `<markers>/<label>`; exactly one. */
function marker(tr, label) {
    const p = path.join(tr.markers, label);
    const found = tr.calls.filter((c) => ACCESS.includes(c.name) && c.paths.includes(p));
    assert.equal(found.length, 1, `marker ${label} appears ${found.length} times in the log`);
    return found[0];
}
// The fixture runs once; every test below reads its log.
let publishTrace;
function tracePublishes(t) {
    publishTrace ??= traceFixture(t, 'trace-publish').then((tr) => ({
        tr,
        calls: JSON.parse(tr.stdout),
    }));
    return publishTrace;
}
/** The syscalls one publish made: those that entered between its begin and end markers. */
async function publishSyscalls(t, label) {
    const { tr, calls } = await tracePublishes(t);
    const call = calls.find((c) => c.label === label);
    assert.ok(call, `the fixture made no call ${label}`);
    const begin = marker(tr, `begin/${label}`);
    const end = marker(tr, `end/${label}`);
    const inside = tr.calls.filter((c) => c.start > begin.end && c.start < end.start);
    // The one link or rename that published the file, from a temp in the same directory.
    const placed = inside.filter((c) => (call.how === 'link' ? LINKS : RENAMES).includes(c.name) && c.ret === 0 && c.paths.at(-1) === call.file);
    assert.equal(placed.length, 1, `${label}: expected one successful ${call.how} to ${call.file}`);
    const place = placed[0];
    const temp = place.paths.at(-2);
    if (!(nameless && call.how === 'link')) {
        assert.ok(isTempName(path.basename(temp)), `${label} published from ${temp}, not from a temp`);
        assert.equal(path.dirname(temp), path.dirname(call.file), 'the temp lies in another directory');
    }
    return { tr, call, end, inside, place, temp };
}
/**
 * The native order on a filesystem with O_TMPFILE: the data is written (and, durable, fsynced) in an inode
 * opened with O_TMPFILE in the target directory, which has no name; linkat of /proc/self/fd/N gives it its
 * name (or, for replaceFile, a temp name that rename(2) then moves over the target); the directory is fsynced
 * after; no file is created by name, and nothing is unlinked.
 */
function checkNamelessPublish(label, durable, { call, end, inside, place }) {
    const dir = path.dirname(call.file);
    const opens = inside.filter((c) => c.name === 'openat' && c.paths[0] === dir && /\bO_TMPFILE\b/.test(c.args));
    assert.equal(opens.length, 1, `${label}: the directory was not opened O_TMPFILE exactly once`);
    const open = opens[0];
    const created = inside.filter((c) => c.name === 'openat' && /\bO_CREAT\b/.test(c.args));
    assert.deepEqual(created.map((c) => c.paths[0]), [], `${label}: a file was created by name`);
    assert.deepEqual(inside.filter((c) => c.name === 'unlink' || c.name === 'unlinkat').map((c) => c.paths[0]), [], `${label}: something was unlinked`);
    const named = inside.filter((c) => LINKS.includes(c.name) && c.paths[0] === `/proc/self/fd/${open.ret}` && c.start > open.end);
    assert.equal(named.length, 1, `${label}: the inode was not linked exactly once`);
    const link = named[0];
    assert.equal(link.ret, 0);
    assert.match(link.args, /AT_SYMLINK_FOLLOW/);
    if (call.how === 'link') {
        assert.equal(link, place, `${label}: the inode was not linked to its name`);
    }
    else {
        const temp = link.paths.at(-1);
        assert.ok(isTempName(path.basename(temp)) && path.dirname(temp) === dir, `${label}: linked to ${temp}`);
        assert.equal(place.paths[0], temp, `${label}: renamed from ${place.paths[0]}, not from the temp`);
        assert.ok(link.end < place.start);
    }
    const mine = (c) => c.fd === open.ret && c.start > open.end && c.start < link.start;
    const writes = inside.filter((c) => WRITES.includes(c.name) && mine(c));
    assert.ok(writes.length > 0, `${label}: no write to the inode`);
    const fsyncs = inside.filter((c) => FSYNCS.includes(c.name));
    if (!durable) {
        assert.deepEqual(fsyncs.map((c) => c.fdPath), [], `${label}: durable: false still fsynced`);
        return;
    }
    // The inode is fsynced after its last write and before it has any name.
    const fileSyncs = fsyncs.filter((c) => mine(c) && c.fdDir !== true);
    assert.equal(fileSyncs.length, 1, `${label}: the inode was fsynced ${fileSyncs.length} times`);
    const fileSync = fileSyncs[0];
    assert.equal(fileSync.ret, 0);
    for (const w of writes)
        assert.ok(w.end < fileSync.start, `${label}: a write ran after the fsync`);
    assert.ok(fileSync.end < link.start, `${label}: linked before the inode's fsync returned`);
    const dirSyncs = fsyncs.filter((c) => c.fdDir === true && c.fdPath === dir);
    assert.ok(dirSyncs.some((c) => c.start > place.end && c.end < end.start && c.ret === 0), `${label}: no fsync of ${dir} between the ${place.name} and the return`);
    assert.equal(fsyncs.length, 2, `${label}: unexpected fsyncs: ${fsyncs.map((c) => c.fdPath).join(', ')}`);
}
function checkDurablePublish(label, { call, end, inside, place, temp }) {
    const opens = inside.filter((c) => c.name === 'openat' && c.paths[0] === temp);
    assert.equal(opens.length, 1, `${label}: the temp was not opened exactly once`);
    assert.match(opens[0].args, /O_CREAT\|O_EXCL|O_EXCL\|O_CREAT|O_CREAT.*O_EXCL/, 'the temp is not created exclusively');
    const writes = inside.filter((c) => WRITES.includes(c.name) && c.fdPath === temp);
    assert.ok(writes.length > 0, `${label}: no write to the temp`);
    // The temp is fsynced after its last write and before it takes the name.
    const fsyncs = inside.filter((c) => FSYNCS.includes(c.name));
    const tempSyncs = fsyncs.filter((c) => c.fdPath === temp);
    assert.equal(tempSyncs.length, 1, `${label}: the temp was fsynced ${tempSyncs.length} times`);
    const tempSync = tempSyncs[0];
    assert.equal(tempSync.ret, 0);
    for (const w of writes)
        assert.ok(w.end < tempSync.start, `${label}: a write to the temp ran after its fsync`);
    assert.ok(tempSync.end < place.start, `${label}: ${place.name} began before the temp's fsync returned`);
    // The directory, opened O_DIRECTORY, is fsynced after the name is placed and before the call returns.
    const dir = path.dirname(call.file);
    const dirSyncs = fsyncs.filter((c) => c.fdDir === true && c.fdPath === dir);
    assert.ok(dirSyncs.some((c) => c.start > place.end && c.end < end.start && c.ret === 0), `${label}: no fsync of ${dir} between the ${place.name} and the return`);
    // Only those two: the file and its directory.
    assert.equal(fsyncs.length, 2, `${label}: unexpected fsyncs: ${fsyncs.map((c) => c.fdPath).join(', ')}`);
}
const durableCalls = [
    ['createUniqueSync', 'link'],
    ['createUnique', 'link'],
    ['createExclusiveSync', 'link'],
    ['createExclusive', 'link'],
    ['replaceFileSync-new', 'rename'],
    ['replaceFile-new', 'rename'],
    ['replaceFileSync-existing', 'rename'],
    ['replaceFile-existing', 'rename'],
];
for (const [label, how] of durableCalls) {
    const [fn, target] = label.split('-');
    const what = target === undefined ? '' : ` (${target} file)`;
    test(`${fn}${what} fsyncs the temp before the ${how} and fsyncs the directory after it, before returning`, async (t) => {
        if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here (ptrace denied)'))
            return;
        if (nameless)
            checkNamelessPublish(label, true, await publishSyscalls(t, label));
        else
            checkDurablePublish(label, await publishSyscalls(t, label));
    });
}
for (const [label, how] of durableCalls) {
    const [fn, target] = label.split('-');
    const what = target === undefined ? '' : ` (${target} file)`;
    test(`${fn}${what} with durable: false publishes by ${how} without any fsync`, async (t) => {
        if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here (ptrace denied)'))
            return;
        if (nameless) {
            checkNamelessPublish(`${label}-volatile`, false, await publishSyscalls(t, `${label}-volatile`));
            return;
        }
        const { inside, temp } = await publishSyscalls(t, `${label}-volatile`);
        assert.deepEqual(inside.filter((c) => FSYNCS.includes(c.name)).map((c) => c.fdPath), [], 'durable: false still fsynced');
        assert.ok(inside.some((c) => WRITES.includes(c.name) && c.fdPath === temp));
    });
}
/**
 * The fsync of the file that `link` published: of the named temp it links, or (native, O_TMPFILE) of the
 * unnamed inode /proc/self/fd/N, which is fd N on the linking thread since it was opened there.
 */
function fileSyncsBefore(calls, link) {
    const from = link.paths.at(-2);
    const fd = /^\/proc\/self\/fd\/(\d+)$/.exec(from)?.[1];
    if (fd === undefined)
        return calls.filter((c) => FSYNCS.includes(c.name) && c.fdPath === from);
    const opened = calls.filter((c) => c.tid === link.tid && c.name === 'openat' && c.ret === Number(fd) && c.end < link.start);
    const open = opened.at(-1);
    assert.ok(open && /\bO_TMPFILE\b/.test(open.args), `linked ${from}, which was not opened O_TMPFILE`);
    return calls.filter((c) => FSYNCS.includes(c.name) &&
        c.tid === link.tid &&
        c.fd === Number(fd) &&
        c.start > open.end &&
        c.start < link.start);
}
for (const form of ['chunks', 'bytes'])
    test(`32 concurrent createUnique calls (${form}) each fsync their file before linking it and resolve only after a directory fsync that began after the link`, async (t) => {
        if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here (ptrace denied)'))
            return;
        const N = 32;
        // strace holds each fsync 5 ms before letting it return. That widens the window in which calls link while a
        // directory fsync for others is running, the case where sharing that fsync would be wrong; nothing waits on it.
        const tr = await traceFixture(t, 'trace-group', [String(N), form], ['-e', 'inject=fsync:delay_exit=5ms']);
        const names = JSON.parse(tr.stdout);
        assert.equal(new Set(names).size, N);
        assert.deepEqual(fs.readdirSync(tr.dir).sort(), [...names].sort(), 'records missing, or a temp left');
        names.forEach((name, i) => {
            const expected = Array.from({ length: i + 1 }, (_, k) => `record ${i}, chunk ${k}\n`).join('');
            assert.equal(fs.readFileSync(path.join(tr.dir, name), 'utf8'), expected, `${name} is not complete`);
        });
        const dirSyncs = tr.calls.filter((c) => FSYNCS.includes(c.name) && c.fdDir === true && c.fdPath === tr.dir);
        const served = new Map();
        for (const name of names) {
            const file = path.join(tr.dir, name);
            const links = tr.calls.filter((c) => LINKS.includes(c.name) && c.ret === 0 && c.paths.at(-1) === file);
            assert.equal(links.length, 1, `${name}: expected one successful link`);
            const link = links[0];
            if (form === 'bytes' && nameless)
                assert.match(link.paths[0], /^\/proc\/self\/fd\//);
            const tempSyncs = fileSyncsBefore(tr.calls, link);
            assert.equal(tempSyncs.length, 1, `${name}: its file was fsynced ${tempSyncs.length} times`);
            assert.ok(tempSyncs[0].end < link.start, `${name}: linked before its file's fsync returned`);
            const resolved = marker(tr, `resolved/${name}`);
            const covering = dirSyncs.filter((d) => d.start > link.end && d.end < resolved.start && d.ret === 0);
            assert.ok(covering.length > 0, `${name}: resolved without a directory fsync that began after its link and finished before`);
            // The fsync that answered it: the last to finish before it resolved.
            const last = covering.reduce((a, b) => (b.end > a.end ? b : a));
            served.set(last, (served.get(last) ?? 0) + 1);
        }
        t.diagnostic(`${N} concurrent createUnique calls into one directory: ${dirSyncs.length} directory fsyncs, ` +
            `answering ${[...served]
                .sort(([a], [b]) => a.start - b.start)
                .map(([, n]) => n)
                .join(' + ')} calls in turn`);
        // Group commit: concurrent calls share directory fsyncs instead of one each.
        assert.ok(dirSyncs.length < N, `${dirSyncs.length} directory fsyncs for ${N} calls: none was shared`);
    });
test('makeDir, makeDirSync, createMarker and the writers with mkdir: true fsync the parent of every directory they create, and createMarker the directory after its link', async (t) => {
    if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here (ptrace denied)'))
        return;
    const tr = await traceFixture(t, 'trace-makedir');
    const calls = JSON.parse(tr.stdout);
    assert.equal(calls.length, 7);
    for (const { label, created, marker: markerPath } of calls) {
        const begin = marker(tr, `begin/${label}`);
        const end = marker(tr, `end/${label}`);
        const inside = tr.calls.filter((c) => c.start > begin.end && c.start < end.start);
        for (const dir of created) {
            assert.ok(fs.statSync(dir).isDirectory(), `${label}: ${dir} was not created`);
            const made = inside.filter((c) => MKDIRS.includes(c.name) && c.ret === 0 && c.paths.at(-1) === dir);
            assert.equal(made.length, 1, `${label}: ${dir} was not made by exactly one mkdir`);
            const parent = path.dirname(dir);
            assert.ok(inside.some((c) => FSYNCS.includes(c.name) &&
                c.fdDir === true &&
                c.fdPath === parent &&
                c.ret === 0 &&
                c.start > made[0].end), `${label}: no fsync of ${parent} after ${dir} was made, before the call returned`);
        }
        if (markerPath !== undefined) {
            // A durable marker, made or found: its directory is fsynced after the link, before the call returns.
            const links = inside.filter((c) => LINKS.includes(c.name) && c.paths.at(-1) === markerPath);
            const last = links.at(-1);
            assert.ok(last, `${label}: no link to ${markerPath}`);
            assert.equal(last.errno, label.endsWith('-new') ? undefined : 'EEXIST', `${label}: ${last.name} returned ${last.ret}`);
            assert.ok(inside.some((c) => FSYNCS.includes(c.name) &&
                c.fdDir === true &&
                c.fdPath === path.dirname(markerPath) &&
                c.ret === 0 &&
                c.start > last.end), `${label}: no fsync of the marker's directory after its link`);
        }
    }
});
//# sourceMappingURL=strace.test.js.map