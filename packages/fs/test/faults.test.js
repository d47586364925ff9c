/**
 * Real faults in real processes. Each test runs fixtures/fault-publish.cjs twice under strace: once to find the
 * call to strike (strace counts injections per thread and per syscall, so the N of `when=N` is the target's rank
 * among its thread's calls of that name), then with `-e inject=SYSCALL:error=ERRNO:when=N`, so the library gets
 * the error from the kernel's side of the fence. The log of the second run proves the fault hit the intended call,
 * and tells how often fsync ran: a failed fsync is never retried (the pages may already be marked clean).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isTempName } from '@quire/fs';
import { canStrace, parseStrace, requireOrSkip, sha256, spawnFixtureTraced, tempDir, waitExit, } from './helpers.js';
/** The syscalls each target can show up as, all injected alike. */
const SYSCALLS = {
    'temp-open': ['openat'],
    'temp-write': ['write', 'pwrite64'],
    'temp-second-write': ['write', 'pwrite64'],
    'temp-fsync': ['fsync', 'fdatasync'],
    link: ['link', 'linkat'],
    rename: ['rename', 'renameat', 'renameat2'],
    'dir-open': ['openat'],
    'dir-fsync': ['fsync', 'fdatasync'],
};
// '?': names this architecture lacks (link, rename, unlink, access on arm64) are skipped instead of refused.
const TRACE = 'openat,write,pwrite64,fsync,fdatasync,link,linkat,rename,renameat,renameat2,unlink,unlinkat,close'
    .split(',')
    .map((n) => `?${n}`)
    .join(',');
const OLD = 'the old content, which must survive a failed replace\n';
const isTemp = (p) => p !== undefined && isTempName(path.basename(p));
/** A call on the file being written: a named temp, or (native) the unnamed inode opened O_TMPFILE in `dir`. */
const onTemp = (c, dir) => isTemp(c.fdPath) || (c.fdPath === dir && c.fdDir === false);
/** The calls in `calls` that `target` names, in log order (for temp-second-write: the second write and on). */
function candidates(calls, target, dir) {
    const of = (names) => calls.filter((c) => names.includes(c.name));
    switch (target) {
        case 'temp-open':
            return of(SYSCALLS[target]).filter((c) => isTemp(c.paths[0]) || (c.paths[0] === dir && /\bO_TMPFILE\b/.test(c.args)));
        case 'temp-write':
            return of(SYSCALLS[target]).filter((c) => onTemp(c, dir));
        case 'temp-second-write':
            return of(SYSCALLS[target])
                .filter((c) => onTemp(c, dir))
                .slice(1);
        case 'temp-fsync':
            return of(SYSCALLS[target]).filter((c) => onTemp(c, dir));
        case 'link':
            return of(SYSCALLS[target]).filter((c) => isTemp(c.paths[0]) || c.paths[0]?.startsWith('/proc/self/fd/'));
        case 'rename':
            return of(SYSCALLS[target]).filter((c) => isTemp(c.paths[0]));
        case 'dir-open':
            return of(SYSCALLS[target]).filter((c) => c.paths[0] === dir && /\bO_DIRECTORY\b/.test(c.args));
        case 'dir-fsync':
            return of(SYSCALLS[target]).filter((c) => c.fdDir === true && c.fdPath === dir);
    }
}
async function runTraced(fault, target, log, inject) {
    const args = ['-f', '-qq', '-o', log, '-e', `trace=${TRACE}`];
    if (inject)
        args.push('-e', inject);
    // One libuv pool thread: the async API's calls then run in a fixed order on one thread, and strace's per-thread
    // counts name the same call in every run.
    const env = fault.op.endsWith('-async') ? { UV_THREADPOOL_SIZE: '1' } : {};
    const argv = [fault.op, target, ...(fault.bytes ? ['bytes'] : [])];
    const r = await waitExit(spawnFixtureTraced(args, 'fault-publish.cjs', argv, { env }));
    const exit = r.code === 0 ? '' : `fixture under strace exited ${r.code ?? r.signal}: ${r.stderr}`;
    const text = fs.readFileSync(log, 'utf8');
    return { exit, report: exit ? undefined : JSON.parse(r.stdout), calls: parseStrace(text), log: text };
}
/** A fresh target: an empty directory (and the file path in it), with the old file in place for replace. */
function prepare(root, sub, op) {
    const dir = path.join(root, sub);
    fs.mkdirSync(dir);
    const file = path.join(dir, 'target');
    if (op.startsWith('replace'))
        fs.writeFileSync(file, OLD);
    return { dir, target: op.startsWith('unique') ? dir : file };
}
function classifyFsync(c, dir) {
    if (c.fdDir)
        return 'dir';
    if (onTemp(c, dir))
        return 'temp';
    return `other fd ${c.fd} (${c.fdPath ?? 'unknown'})`;
}
/**
 * Runs the fixture with the fault aimed at `fault.target`, and returns the run in which it struck that call.
 * Node's startup now and then makes a few more openat calls on the main thread (V8 reading /proc/self/maps and
 * /proc/sys/vm/overcommit_memory: about 1 run in 20 here), which shifts the count; a run whose fault struck
 * elsewhere, or nowhere, says nothing about the library, so it is aimed afresh, up to 3 times.
 */
async function strike(t, fault, root) {
    const syscalls = SYSCALLS[fault.target];
    const misses = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
        // A clean run finds the target: its thread, and its rank among that thread's calls of that name.
        const cal = prepare(root, `calibrate-${attempt}`, fault.op);
        const clean = await runTraced(fault, cal.target, path.join(root, `calibrate-${attempt}.log`));
        assert.equal(clean.exit, '');
        assert.equal(clean.report.ok, true, `the clean run failed: ${clean.report.message}`);
        const aim = candidates(clean.calls, fault.target, cal.dir)[0];
        assert.ok(aim, `no ${fault.target} call in the clean run's log:\n${clean.log}`);
        const when = clean.calls.filter((c) => c.tid === aim.tid && c.name === aim.name && c.start <= aim.start).length;
        t.diagnostic(`${fault.target} is call ${when} to ${aim.name} on its thread`);
        // The same run with the fault.
        const dir = prepare(root, `run-${attempt}`, fault.op);
        const inject = `inject=${syscalls.map((n) => `?${n}`).join(',')}:error=${fault.errno}:when=${when}`;
        const run = await runTraced(fault, dir.target, path.join(root, `run-${attempt}.log`), inject);
        const injected = run.calls.filter((c) => c.injected);
        if (injected.length === 1 && injected[0] === candidates(run.calls, fault.target, dir.dir)[0]) {
            assert.equal(run.exit, '');
            return { ...run, ...dir };
        }
        misses.push(`${inject} struck ${injected.map((c) => `${c.name}(${c.args})`).join(', ') || 'nothing'}`);
        t.diagnostic(`attempt ${attempt} missed: ${misses.at(-1)}`);
    }
    assert.fail(`the fault never struck the ${fault.target}: ${misses.join('; ')}`);
}
async function checkFault(t, fault) {
    if (!requireOrSkip(t, canStrace(), 'strace is missing or may not trace here (ptrace denied)'))
        return;
    const root = tempDir(t, 'quire-faults-');
    const { report, calls, log, ...run } = await strike(t, fault, root);
    // The caller got the kernel's error as a QuireError with the errno name as its code.
    assert.equal(report.ok, false, `${fault.op} succeeded despite ${fault.errno}`);
    assert.equal(report.quireError, true, `not a QuireError: ${report.message}`);
    assert.equal(report.code, fault.errno, report.message);
    // fsync ran exactly as the protocol says: a failed fsync is not retried, the file is not published.
    const fsyncs = calls
        .filter((c) => c.name === 'fsync' || c.name === 'fdatasync')
        .map((c) => classifyFsync(c, run.dir));
    assert.deepEqual(fsyncs, fault.fsyncs, `fsync calls, in order:\n${log}`);
    // No temp is left, and the name holds nothing partial: no file, or the old content, or the new in full.
    const left = fs.readdirSync(run.dir);
    assert.deepEqual(left.filter(isTempName), [], 'a temp was left behind');
    if (fault.after === 'nothing') {
        assert.deepEqual(left, [], 'a record was left under a published name although the call failed');
    }
    else {
        assert.deepEqual(left, ['target']);
        const now = fs.readFileSync(run.target);
        if (fault.after === 'old')
            assert.equal(now.toString(), OLD, 'the replaced file changed');
        else
            assert.ok(now.toString() === OLD || sha256(now) === report.sha256, 'the file holds partial data');
    }
    // A name that was linked before the directory could be fsynced was really published, then taken back.
    if (fault.target.startsWith('dir-') && fault.after === 'nothing') {
        assert.ok(calls.some((c) => (c.name === 'link' || c.name === 'linkat') && c.ret === 0), 'the file was never linked, so there was nothing to roll back');
    }
}
const faults = [
    {
        title: "createUniqueSync reports EIO when the temp's fsync fails, publishes nothing and does not retry fsync",
        op: 'unique-sync',
        target: 'temp-fsync',
        errno: 'EIO',
        fsyncs: ['temp'],
        after: 'nothing',
    },
    {
        title: 'createUniqueSync reports EIO when the directory fsync fails and takes the linked name back',
        op: 'unique-sync',
        target: 'dir-fsync',
        errno: 'EIO',
        fsyncs: ['temp', 'dir'],
        after: 'nothing',
    },
    {
        title: "createExclusiveSync reports EIO when the temp's fsync fails and publishes nothing",
        op: 'exclusive-sync',
        target: 'temp-fsync',
        errno: 'EIO',
        fsyncs: ['temp'],
        after: 'nothing',
    },
    {
        title: 'createExclusiveSync reports EIO when the directory fsync fails and takes the linked name back',
        op: 'exclusive-sync',
        target: 'dir-fsync',
        errno: 'EIO',
        fsyncs: ['temp', 'dir'],
        after: 'nothing',
    },
    {
        title: "replaceFileSync reports EIO when the temp's fsync fails and leaves the old file as it was",
        op: 'replace-sync',
        target: 'temp-fsync',
        errno: 'EIO',
        fsyncs: ['temp'],
        after: 'old',
    },
    {
        // rename cannot be undone (the old inode is gone): the caller is told, the file is complete either way.
        title: 'replaceFileSync reports EIO when the directory fsync fails and the file is the old or the new, whole',
        op: 'replace-sync',
        target: 'dir-fsync',
        errno: 'EIO',
        fsyncs: ['temp', 'dir'],
        after: 'old-or-new',
    },
    {
        title: 'createUniqueSync reports ENOSPC when a write fails mid-file and leaves no partial file',
        op: 'unique-sync',
        target: 'temp-second-write',
        errno: 'ENOSPC',
        fsyncs: [],
        after: 'nothing',
    },
    {
        title: 'replaceFileSync reports ENOSPC when a write fails mid-file and leaves the old file as it was',
        op: 'replace-sync',
        target: 'temp-second-write',
        errno: 'ENOSPC',
        fsyncs: [],
        after: 'old',
    },
    {
        title: 'createUniqueSync reports EMFILE when the temp cannot be opened and creates nothing',
        op: 'unique-sync',
        target: 'temp-open',
        errno: 'EMFILE',
        fsyncs: [],
        after: 'nothing',
    },
    {
        title: 'createUniqueSync reports EMFILE when the directory cannot be opened for fsync and takes the name back',
        op: 'unique-sync',
        target: 'dir-open',
        errno: 'EMFILE',
        fsyncs: ['temp'],
        after: 'nothing',
    },
    {
        title: 'createUniqueSync reports EACCES when link is refused and removes the temp',
        op: 'unique-sync',
        target: 'link',
        errno: 'EACCES',
        fsyncs: ['temp'],
        after: 'nothing',
    },
    {
        title: 'createExclusiveSync reports EACCES when link is refused and removes the temp',
        op: 'exclusive-sync',
        target: 'link',
        errno: 'EACCES',
        fsyncs: ['temp'],
        after: 'nothing',
    },
    {
        title: 'replaceFileSync reports EIO when rename fails, removes the temp and leaves the old file as it was',
        op: 'replace-sync',
        target: 'rename',
        errno: 'EIO',
        fsyncs: ['temp'],
        after: 'old',
    },
    {
        title: "createUnique reports EIO when the temp's fsync fails, publishes nothing and does not retry fsync",
        op: 'unique-async',
        target: 'temp-fsync',
        errno: 'EIO',
        fsyncs: ['temp'],
        after: 'nothing',
    },
    {
        title: 'createUnique reports EIO when the shared directory fsync fails and takes the linked name back',
        op: 'unique-async',
        target: 'dir-fsync',
        errno: 'EIO',
        fsyncs: ['temp', 'dir'],
        after: 'nothing',
    },
    {
        title: 'createExclusive reports EACCES when link is refused and removes the temp',
        op: 'exclusive-async',
        target: 'link',
        errno: 'EACCES',
        fsyncs: ['temp'],
        after: 'nothing',
    },
    {
        title: 'replaceFile reports EIO when rename fails, removes the temp and leaves the old file as it was',
        op: 'replace-async',
        target: 'rename',
        errno: 'EIO',
        fsyncs: ['temp'],
        after: 'old',
    },
];
for (const fault of faults)
    test(fault.title, (t) => checkFault(t, fault));
// The same faults with the data as one buffer: the form the native path runs (one write, so the write fault
// strikes the first). Under QUIRE_FS_PURE_JS=1 they run the JS protocol once more.
for (const fault of faults) {
    const target = fault.target === 'temp-second-write' ? 'temp-write' : fault.target;
    const title = `${fault.title} (data as one buffer${target === fault.target ? '' : ', its only write'})`;
    test(title, (t) => checkFault(t, { ...fault, target, bytes: true }));
}
//# sourceMappingURL=faults.test.js.map