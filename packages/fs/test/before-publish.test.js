/** The beforePublish hook: when it runs, what a veto leaves behind, and how each API treats it. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createExclusive, createExclusiveSync, createUnique, createUniqueSync, implementation, isTempName, openSpool, QuireError, replaceFile, replaceFileSync, } from '@quire/fs';
import { tempDir } from './helpers.js';
/** The native path on a filesystem with O_TMPFILE (the OS temp dir here): no temp name is ever made. */
const nameless = implementation === 'native' && process.env.QUIRE_FS_NO_TMPFILE !== '1';
function linkOf(p) {
    try {
        return fs.readlinkSync(p);
    }
    catch {
        return '';
    }
}
const isCode = (code) => (err) => err instanceof QuireError && err.code === code;
test('the hook runs once the data is complete in the temp file and before the name exists', async (t) => {
    const dir = tempDir(t);
    const data = 'x'.repeat(100_000);
    let seen = [];
    const r = await createUnique(dir, data, {
        suffix: '.txt',
        beforePublish: () => {
            seen = fs.readdirSync(dir);
            if (nameless) {
                // The native path on O_TMPFILE: no name at all yet; the data is in an unnamed inode this process
                // holds open, which /proc shows as `<dir>/#<inode> (deleted)`.
                assert.deepEqual(seen, [], 'a name exists before the hook returned');
                const held = fs
                    .readdirSync('/proc/self/fd')
                    .map((fd) => ({ fd, link: linkOf(`/proc/self/fd/${fd}`) }))
                    .filter(({ link }) => link.startsWith(`${fs.realpathSync(dir)}/#`) && link.endsWith(' (deleted)'));
                assert.equal(held.length, 1, 'no unnamed file open in the directory');
                assert.equal(fs.readFileSync(`/proc/self/fd/${held[0].fd}`, 'utf8'), data);
                return;
            }
            const temps = seen.filter(isTempName);
            assert.equal(temps.length, 1, `one temp, no record yet: ${seen.join(' ')}`);
            assert.equal(fs.readFileSync(path.join(dir, temps[0]), 'utf8'), data);
        },
    });
    assert.equal(seen.length, nameless ? 0 : 1);
    assert.deepEqual(fs.readdirSync(dir), [r.name]);
});
test('the async calls wait for the promise the hook returns', async (t) => {
    const dir = tempDir(t);
    let release;
    const gate = new Promise((resolve) => {
        release = resolve;
    });
    let entered;
    const inHook = new Promise((resolve) => {
        entered = resolve;
    });
    const done = createUnique(dir, 'data', {
        beforePublish: () => {
            entered();
            return gate;
        },
    });
    await inHook;
    assert.deepEqual(fs.readdirSync(dir).filter((n) => !isTempName(n)), [], 'nothing published while it waits');
    release();
    const r = await done;
    assert.deepEqual(fs.readdirSync(dir), [r.name]);
});
test('a hook that throws or rejects vetoes the publish and leaves nothing behind', async (t) => {
    const dir = tempDir(t);
    const why = new Error('no');
    const cases = [
        [
            'createUnique, throw',
            () => createUnique(dir, 'a', {
                beforePublish: () => {
                    throw why;
                },
            }),
        ],
        ['createUnique, reject', () => createUnique(dir, 'a', { beforePublish: () => Promise.reject(why) })],
        [
            'createExclusive',
            () => createExclusive(path.join(dir, 'e'), 'a', { beforePublish: () => Promise.reject(why) }),
        ],
        [
            'createUniqueSync',
            async () => createUniqueSync(dir, 'a', {
                beforePublish: () => {
                    throw why;
                },
            }),
        ],
        [
            'createExclusiveSync',
            async () => createExclusiveSync(path.join(dir, 'e'), 'a', {
                beforePublish: () => {
                    throw why;
                },
            }),
        ],
    ];
    for (const [what, run] of cases) {
        await assert.rejects(run(), (err) => {
            assert.ok(isCode('ERR_BEFORE_PUBLISH')(err), `${what}: ${String(err)}`);
            assert.equal(err.cause, why, what);
            return true;
        });
        assert.deepEqual(fs.readdirSync(dir), [], `${what}: no record, no temp`);
    }
});
test('a vetoed replace keeps the old content', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'old');
    const veto = () => {
        throw new Error('no');
    };
    await assert.rejects(replaceFile(file, 'new', { beforePublish: veto }), isCode('ERR_BEFORE_PUBLISH'));
    assert.throws(() => replaceFileSync(file, 'new', { beforePublish: veto }), isCode('ERR_BEFORE_PUBLISH'));
    assert.equal(fs.readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(fs.readdirSync(dir), ['f']);
});
test('the sync calls refuse a hook that returns a promise, and publish nothing', (t) => {
    const dir = tempDir(t);
    assert.throws(() => createUniqueSync(dir, 'a', { beforePublish: () => Promise.resolve() }), isCode('ERR_INVALID_ARG'));
    assert.deepEqual(fs.readdirSync(dir), []);
});
test('a hook that is not a function is refused before anything is written', async (t) => {
    const dir = tempDir(t);
    const bad = { beforePublish: 'yes' };
    await assert.rejects(createUnique(dir, 'a', bad), isCode('ERR_INVALID_ARG'));
    assert.deepEqual(fs.readdirSync(dir), []);
});
test('a spool append passes the hook on: a veto appends nothing', async (t) => {
    const spool = await openSpool(tempDir(t), { suffix: '.json', create: true });
    await assert.rejects(spool.append('{}', {
        beforePublish: () => {
            throw new Error('no');
        },
    }), isCode('ERR_BEFORE_PUBLISH'));
    assert.deepEqual(await spool.ids(), []);
    let ran = false;
    const r = await spool.append('{}', {
        beforePublish: () => {
            ran = true;
        },
    });
    assert.ok(ran);
    assert.deepEqual(await spool.ids(), [r.id]);
});
//# sourceMappingURL=before-publish.test.js.map