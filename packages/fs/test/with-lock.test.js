/** withLock and lockPathFor: the sidecar lock, and read-modify-write from many processes. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { acquireLock, lockPathFor, withLock, withLockSync } from '@quire/fs';
import { fdsOpenOn, runFixture, tempDir } from './helpers.js';
import { code, holdInProcess } from './lock-holders.js';
test('lockPathFor names a dot sidecar next to the file', () => {
    assert.equal(lockPathFor('/srv/data/comments.json'), '/srv/data/.comments.json.lock');
    assert.equal(lockPathFor('comments.json'), '.comments.json.lock');
    assert.equal(lockPathFor('a/b/'), 'a/.b.lock');
    for (const bad of ['', '/', '.', 'a/..']) {
        assert.throws(() => lockPathFor(bad), code('ERR_INVALID_ARG'), bad);
    }
});
test('withLock locks the sidecar, not the file, and releases it however fn ends', async (t) => {
    const file = path.join(tempDir(t), 'counter');
    const sidecar = lockPathFor(file);
    const result = await withLock(file, async () => {
        // Held on the sidecar...
        await assert.rejects(acquireLock(sidecar, { timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
        assert.throws(() => withLockSync(file, () => 1, { timeoutMs: 0 }), code('ERR_LOCK_TIMEOUT'));
        // ...and not on the file, which withLock does not even create.
        assert.equal(fs.existsSync(file), false);
        (await acquireLock(file, { timeoutMs: 0 })).releaseSync();
        return 'done';
    });
    assert.equal(result, 'done');
    assert.ok(fs.existsSync(sidecar), 'the sidecar stays');
    const boom = new Error('boom');
    await assert.rejects(withLock(file, () => {
        throw boom;
    }), (err) => err === boom);
    assert.throws(() => withLockSync(file, () => {
        throw boom;
    }), (err) => err === boom);
    assert.equal(withLockSync(file, () => 7), 7);
    // A promise from withLockSync's fn would run partly unlocked: refused loudly.
    assert.throws(() => withLockSync(file, () => Promise.resolve(1)), code('ERR_INVALID_ARG'));
    assert.equal(fdsOpenOn(sidecar), 0);
    // Another process holding the sidecar keeps withLock out.
    const holder = await holdInProcess(t, file, { sidecar: true });
    await assert.rejects(withLock(file, () => { }, { timeoutMs: 50 }), code('ERR_LOCK_TIMEOUT'));
    await holder.release();
    await withLock(file, () => { }, { timeoutMs: 0 });
});
test('8 processes incrementing one counter 500 times each under withLock and withLockSync lose no update', async (t) => {
    const file = path.join(tempDir(t), 'counter');
    fs.writeFileSync(file, '0');
    await Promise.all(Array.from({ length: 8 }, (_, i) => runFixture('lock-counter', [file, '500', i % 2 ? 'write-sync' : 'write'])));
    assert.equal(fs.readFileSync(file, 'utf8'), '4000');
});
test('4 processes that replaceFile a counter 200 times each under withLock lose no update', async (t) => {
    // A lock on the counter itself would fail here: each replaceFile puts a new inode under the name, and the
    // next writer locks that one while the previous holder still works on the old.
    const file = path.join(tempDir(t), 'counter');
    fs.writeFileSync(file, '0');
    await Promise.all(Array.from({ length: 4 }, () => runFixture('lock-counter', [file, '200', 'replace'])));
    assert.equal(fs.readFileSync(file, 'utf8'), '800');
});
//# sourceMappingURL=with-lock.test.js.map