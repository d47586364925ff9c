/** Errors the disk itself gives: a full filesystem (ENOSPC) and reads that fail (EIO). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createUnique, createUniqueSync, isTempName, QuireError, replaceFile, replaceFileSync, } from '@quire/fs';
import { mountTmpfs } from '@quire/testkit';
import { canStrace, hasCommand, isRoot, requireOrSkip, sealed, spawnFixtureTraced, tempDir, unseal, waitExit, } from './helpers.js';
const NEEDS_MOUNT = 'mounting a small tmpfs needs root and mount(8)';
test('on a full tmpfs, every publish fails with ENOSPC, leaves no temp, and earlier records stay intact', async (t) => {
    if (!requireOrSkip(t, isRoot && hasCommand('mount'), NEEDS_MOUNT))
        return;
    const mnt = mountTmpfs(t, '512k');
    // Records of 20-29 KiB fill the 512 KiB in about twenty; the one that does not fit fails in mid-write.
    const written = new Map();
    let failure;
    for (let i = 0; i < 1000 && failure === undefined; i++) {
        const record = sealed(randomBytes(20000 + ((i * 1237) % 9000)));
        try {
            written.set(createUniqueSync(mnt, record, { suffix: '.rec' }).name, record);
        }
        catch (err) {
            failure = err;
        }
    }
    assert.ok(written.size > 0, 'not even the first record fitted');
    assert.ok(failure instanceof QuireError, `expected a QuireError, got ${String(failure)}`);
    assert.equal(failure.code, 'ENOSPC');
    assert.match(failure.message, /createUniqueSync failed: ENOSPC/);
    // The same for the async API, and for a replace: the old file stays as it was.
    const big = sealed(randomBytes(600 * 1024));
    await assert.rejects(createUnique(mnt, big), (err) => err instanceof QuireError && err.code === 'ENOSPC');
    const [firstName, firstRecord] = [...written][0];
    assert.throws(() => replaceFileSync(path.join(mnt, firstName), big), (err) => err instanceof QuireError && err.code === 'ENOSPC');
    await assert.rejects(replaceFile(path.join(mnt, firstName), big), (err) => err instanceof QuireError && err.code === 'ENOSPC');
    assert.deepEqual(fs.readFileSync(path.join(mnt, firstName)), firstRecord);
    // Every file there is a record reported as written, complete; no temp is left.
    const names = fs.readdirSync(mnt).sort();
    assert.deepEqual(names.filter(isTempName), [], 'a temp was left behind');
    assert.deepEqual(names, [...written.keys()].sort());
    for (const name of names) {
        const content = fs.readFileSync(path.join(mnt, name));
        assert.ok(unseal(content), `${name} does not verify`);
        assert.deepEqual(content, written.get(name));
    }
    t.diagnostic(`full tmpfs: ${written.size} records fitted before ENOSPC`);
});
test('the ENOSPC of a full disk says where: the error carries the path, and its message names it', async (t) => {
    if (!requireOrSkip(t, isRoot && hasCommand('mount'), NEEDS_MOUNT))
        return;
    const mnt = mountTmpfs(t, '512k');
    // errors.ts promises errno errors "with syscall and path telling where"; a write has no path of its own.
    const tooBig = Buffer.alloc(600 * 1024, 'x');
    const failures = [];
    for (const [name, call] of [
        ['createUniqueSync', () => createUniqueSync(mnt, tooBig)],
        ['createUnique', () => createUnique(mnt, tooBig)],
        ['replaceFileSync', () => replaceFileSync(path.join(mnt, 'file'), tooBig)],
    ]) {
        try {
            await call();
        }
        catch (err) {
            failures.push([name, err]);
        }
    }
    assert.equal(failures.length, 3);
    for (const [name, err] of failures) {
        assert.ok(err instanceof QuireError && err.code === 'ENOSPC', `${name}: ${String(err)}`);
        assert.ok(err.path?.startsWith(mnt), `${name}: err.path is ${err.path}, not a path in ${mnt}`);
        assert.ok(err.message.includes(mnt), `${name}: the message does not say where: "${err.message}"`);
    }
});
test('a read that fails with EIO is an error for every reading API, never an empty record', async (t) => {
    if (!requireOrSkip(t, canStrace(), 'strace is needed to inject read errors'))
        return;
    const dir = tempDir(t);
    const { path: file } = createUniqueSync(dir, 'the record, which must never be read as empty');
    // -P limits the injection to reads of this one file; every read(2) of it fails.
    const reads = 'read,pread64,readv,preadv';
    const r = await waitExit(spawnFixtureTraced(['-f', '-qq', '-o', '/dev/null', '-P', file, '-e', `trace=${reads}`, '-e', `inject=${reads}:error=EIO`], 'fault-read', [file]));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
        readComplete: { code: 'EIO' },
        readCompleteSync: { code: 'EIO' },
        get: { code: 'EIO' },
        update: { code: 'EIO' },
        updateSaw: null,
    });
    assert.equal(fs.readFileSync(file, 'utf8'), 'the record, which must never be read as empty');
});
//# sourceMappingURL=disk-errors.test.js.map