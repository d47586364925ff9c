/**
 * Directories: makeDir, syncDir, listNames, pathExists, and the writers' `mkdir` option and their error for a
 * missing directory.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createExclusive, createExclusiveSync, createUnique, createUniqueSync, isQuireError, listNames, makeDir, makeDirSync, pathExists, pathExistsSync, QuireError, replaceFile, replaceFileSync, syncDir, syncDirSync, } from '@quire/fs';
import { tempDir } from './helpers.js';
const isCode = (code) => (err) => err instanceof QuireError && err.code === code;
test('makeDir and makeDirSync create missing parents and return the first directory they created', async (t) => {
    const root = tempDir(t);
    for (const [label, make] of [
        ['makeDir', (d) => makeDir(d)],
        ['makeDirSync', async (d) => makeDirSync(d, { durable: false })],
    ]) {
        const top = path.join(root, label);
        const deep = path.join(top, 'b', 'c');
        assert.equal(await make(deep), top, `${label}: the first directory created`);
        assert.ok(fs.statSync(deep).isDirectory());
        assert.equal(await make(deep), undefined, `${label}: nothing created the second time`);
        assert.equal(await make(`${path.relative(process.cwd(), deep)}/d`), path.join(deep, 'd'), 'relative paths resolve');
    }
});
test('makeDir refuses a path where a file is, with ENOTDIR, and takes no bad arguments', async (t) => {
    const root = tempDir(t);
    const file = path.join(root, 'f');
    fs.writeFileSync(file, '');
    await assert.rejects(makeDir(file), isCode('ENOTDIR'));
    assert.throws(() => makeDirSync(file), isCode('ENOTDIR'));
    await assert.rejects(makeDir(path.join(file, 'sub')), isCode('ENOTDIR'));
    await assert.rejects(makeDir(''), isCode('ERR_INVALID_ARG'));
    await assert.rejects(makeDir(root, { durable: 'yes' }), isCode('ERR_INVALID_ARG'));
    assert.throws(() => makeDirSync('a\0b'), isCode('ERR_INVALID_ARG'));
});
test('makeDir with parents: false makes only the directory itself; a missing parent is ENOENT and nothing is made', async (t) => {
    const root = tempDir(t);
    const gone = path.join(root, 'gone');
    for (const call of [
        () => makeDir(path.join(gone, 'a'), { parents: false }),
        async () => makeDirSync(path.join(gone, 'a'), { parents: false }),
    ]) {
        await assert.rejects(call, (err) => isQuireError(err, 'ENOENT'));
    }
    assert.equal(fs.existsSync(gone), false);
    assert.equal(await makeDir(path.join(root, 'one'), { parents: false }), path.join(root, 'one'));
    assert.equal(makeDirSync(path.join(root, 'one'), { parents: false }), undefined);
    await assert.rejects(makeDir(path.join(root, 'x'), { parents: 'no' }), (err) => isQuireError(err, 'ERR_INVALID_ARG'));
});
test('makeDir where a parent refuses new entries fails instead of looping', async () => {
    await assert.rejects(makeDir('/proc/quire-no-such/dir'), (err) => err instanceof QuireError);
});
test('many concurrent makeDir calls for one tree all succeed, and exactly one reports each top directory', async (t) => {
    const root = tempDir(t);
    const deep = path.join(root, 'x', 'y', 'z');
    const results = await Promise.all(Array.from({ length: 16 }, () => makeDir(deep)));
    assert.ok(fs.statSync(deep).isDirectory());
    assert.ok(results.filter((r) => r === path.join(root, 'x')).length <= 1);
});
test('syncDir and syncDirSync fsync a directory; a missing one is ENOENT', async (t) => {
    const root = tempDir(t);
    await syncDir(root);
    syncDirSync(root);
    await Promise.all(Array.from({ length: 8 }, () => syncDir(root)));
    await assert.rejects(syncDir(path.join(root, 'none')), isCode('ENOENT'));
    assert.throws(() => syncDirSync(path.join(root, 'none')), isCode('ENOENT'));
    await assert.rejects(syncDir(''), isCode('ERR_INVALID_ARG'));
});
test('listNames lists every name but . and .., and [] for a missing directory', async (t) => {
    const root = tempDir(t);
    fs.writeFileSync(path.join(root, 'a'), '');
    fs.writeFileSync(path.join(root, '.b'), '');
    fs.mkdirSync(path.join(root, 'c'));
    assert.deepEqual((await listNames(root)).sort(), ['.b', 'a', 'c']);
    assert.deepEqual(await listNames(path.join(root, 'none')), []);
    await assert.rejects(listNames(path.join(root, 'a')), isCode('ENOTDIR'));
});
test('pathExists and pathExistsSync: true for files and directories, false for missing paths and dangling links', async (t) => {
    const root = tempDir(t);
    const file = path.join(root, 'f');
    fs.writeFileSync(file, '');
    fs.symlinkSync(path.join(root, 'none'), path.join(root, 'dangling'));
    for (const exists of [pathExists, async (p) => pathExistsSync(p)]) {
        assert.equal(await exists(file), true);
        assert.equal(await exists(root), true);
        assert.equal(await exists(path.join(root, 'none')), false);
        assert.equal(await exists(path.join(file, 'under-a-file')), false);
        assert.equal(await exists(path.join(root, 'dangling')), false);
    }
    await assert.rejects(pathExists(''), isCode('ERR_INVALID_ARG'));
});
/** Every writer, as (target path, options) => its result, given a directory that may not exist. */
const writers = [
    ['createUnique', (dir, o) => createUnique(dir, 'x', o)],
    ['createUniqueSync', async (dir, o) => createUniqueSync(dir, 'x', o)],
    ['createExclusive', (dir, o) => createExclusive(path.join(dir, 'f'), 'x', o)],
    ['createExclusiveSync', async (dir, o) => createExclusiveSync(path.join(dir, 'f'), 'x', o)],
    ['replaceFile', (dir, o) => replaceFile(path.join(dir, 'f'), 'x', o)],
    ['replaceFileSync', async (dir, o) => replaceFileSync(path.join(dir, 'f'), 'x', o)],
];
for (const [label, write] of writers) {
    test(`${label} into a missing directory: ENOENT naming the directory and the mkdir option, no temp`, async (t) => {
        const root = tempDir(t);
        const dir = path.join(root, 'comments');
        await assert.rejects(write(dir, {}), (err) => {
            assert.ok(err instanceof QuireError);
            assert.equal(err.code, 'ENOENT');
            assert.equal(err.path, dir);
            assert.match(err.message, new RegExp(`no such directory: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
            assert.match(err.message, /mkdir: true/);
            assert.doesNotMatch(err.message, /\.quire-/, 'the message names the temp');
            return true;
        });
        assert.deepEqual(fs.readdirSync(root), []);
    });
    test(`${label} with mkdir: true creates the missing directories and returns { name, path }`, async (t) => {
        const root = tempDir(t);
        const dir = path.join(root, 'a', 'comments');
        const r = await write(dir, { mkdir: true });
        assert.equal(r.path, path.join(dir, r.name));
        assert.equal(fs.readFileSync(r.path, 'utf8'), 'x');
        assert.deepEqual(fs.readdirSync(dir), [r.name]);
        assert.equal(r.attempts, 1);
        await assert.rejects(write(dir, { mkdir: 1 }), isCode('ERR_INVALID_ARG'));
    });
}
//# sourceMappingURL=dir.test.js.map