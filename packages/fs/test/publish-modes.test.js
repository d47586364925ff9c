/** createExclusive, modes and owners, replaceFile's order, durable: false. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { replaceFile } from '@quire/fs';
import { fixturesDir, hasCommand, isRoot, requireOrSkip, tempDir, waitExit } from './helpers.js';
import { expectCode, file, list, writers } from './writers.js';
// ---- createExclusive ----
for (const w of writers.filter((x) => x.name.startsWith('createExclusive'))) {
    test(`${w.name} creates the file when the name is free`, async (t) => {
        const dir = tempDir(t);
        assert.equal(await w.call(dir, 'first'), file(dir));
        assert.equal(fs.readFileSync(file(dir), 'utf8'), 'first');
        assert.deepEqual(list(dir), ['file']);
    });
    test(`${w.name} fails with EEXIST when the file exists, leaving its content untouched and no temp`, async (t) => {
        const dir = tempDir(t);
        fs.writeFileSync(file(dir), 'already here');
        const err = await expectCode(w, 'EEXIST', dir, 'second');
        assert.equal(err.path, file(dir));
        assert.equal(fs.readFileSync(file(dir), 'utf8'), 'already here');
        assert.deepEqual(list(dir), ['file']);
    });
}
// ---- modes ----
const replacers = writers.filter((x) => x.name.startsWith('replaceFile'));
const modeOf = (p) => fs.statSync(p).mode & 0o7777;
for (const w of replacers) {
    test(`${w.name} keeps the mode of the file it replaces`, async (t) => {
        const dir = tempDir(t);
        fs.writeFileSync(file(dir), 'old');
        fs.chmodSync(file(dir), 0o640);
        await w.call(dir, 'new');
        assert.equal(fs.readFileSync(file(dir), 'utf8'), 'new');
        assert.equal(modeOf(file(dir)).toString(8), '640');
    });
    test(`${w.name} with opts.mode sets exactly that mode on an existing file`, async (t) => {
        const dir = tempDir(t);
        fs.writeFileSync(file(dir), 'old');
        fs.chmodSync(file(dir), 0o640);
        await w.call(dir, 'new', { mode: 0o604 });
        assert.equal(modeOf(file(dir)).toString(8), '604');
    });
    test(`${w.name} creates a missing file`, async (t) => {
        const dir = tempDir(t);
        await w.call(dir, 'fresh');
        assert.equal(fs.readFileSync(file(dir), 'utf8'), 'fresh');
        assert.deepEqual(list(dir), ['file']);
    });
}
test('opts.mode sets exactly that mode on a new file, whatever the umask', async (t) => {
    // 0o666 loses bits under any umask but 0 (the usual is 0o022): exact means the umask does not apply.
    for (const mode of [0o666, 0o600, 0o640]) {
        for (const w of writers) {
            const dir = tempDir(t);
            const p = await w.call(dir, 'x', { mode });
            assert.equal(modeOf(p).toString(8), mode.toString(8), w.name);
        }
    }
});
test('opts.mode keeps its setuid and setgid bits for an unprivileged caller too', async (t) => {
    if (!requireOrSkip(t, isRoot && hasCommand('setpriv'), 'running a writer as nobody needs root and setpriv(1)'))
        return;
    const dir = tempDir(t);
    fs.chmodSync(dir, 0o777);
    const child = spawn('setpriv', [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        path.join(fixturesDir, 'fault-setid-mode.js'),
        dir,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const r = await waitExit(child);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
        createUniqueSync: '6755',
        createUnique: '6755',
        createExclusiveSync: '6755',
        createExclusive: '6755',
        replaceFileSync: '6755',
        replaceFile: '6755',
        'replaceFileSync keeping 4755': '4755',
        'replaceFile keeping 4755': '4755',
    });
});
for (const w of replacers) {
    test(`${w.name} run by root keeps the owner, group and whole mode, setuid included, of another user's file`, async (t) => {
        if (!requireOrSkip(t, isRoot, "changing a file's owner needs root"))
            return;
        const dir = tempDir(t);
        fs.writeFileSync(file(dir), 'old');
        fs.chownSync(file(dir), 65534, 65534);
        fs.chmodSync(file(dir), 0o4755);
        await w.call(dir, 'new');
        const st = fs.statSync(file(dir));
        assert.equal(fs.readFileSync(file(dir), 'utf8'), 'new');
        assert.deepEqual([st.uid, st.gid], [65534, 65534], 'the owner changed');
        assert.equal((st.mode & 0o7777).toString(8), '4755');
    });
}
test('a new file without opts.mode gets the mode fs.writeFileSync would give it (0o666 less the umask)', async (t) => {
    const dir = tempDir(t);
    const reference = path.join(dir, 'reference');
    fs.writeFileSync(reference, '');
    for (const w of writers) {
        const sub = path.join(dir, w.name);
        fs.mkdirSync(sub);
        const p = await w.call(sub, 'x');
        assert.equal(modeOf(p).toString(8), modeOf(reference).toString(8), w.name);
    }
});
// ---- replaceFile ordering ----
test('async replaceFile calls to one path complete in call order, and the last content wins', async (t) => {
    const dir = tempDir(t);
    const target = path.join(dir, 'file');
    const order = [];
    const calls = Array.from({ length: 50 }, (_, i) => replaceFile(target, `content ${i}`).then(() => {
        order.push(i);
    }));
    await Promise.all(calls);
    assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i));
    assert.equal(fs.readFileSync(target, 'utf8'), 'content 49');
    assert.deepEqual(list(dir), ['file']);
});
// ---- durable: false ----
test('durable: false still publishes complete files', async (t) => {
    const content = Buffer.alloc(256 * 1024, 'q');
    for (const w of writers) {
        const dir = tempDir(t);
        const p = await w.call(dir, content, { durable: false });
        assert.deepEqual(fs.readFileSync(p), content, w.name);
        assert.deepEqual(list(dir), [path.basename(p)], w.name);
    }
});
//# sourceMappingURL=publish-modes.test.js.map