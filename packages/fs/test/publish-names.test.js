/** createUnique's record names: the second, the counter, the suffix, never overwriting. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createUnique, createUniqueSync, parseName } from '@quire/fs';
import { tempDir } from './helpers.js';
import { list, STAMP, T, writers } from './writers.js';
// ---- names ----
for (const [what, time] of [
    ['a Date', new Date(T)],
    ['epoch milliseconds', T],
    ['a function returning a Date', () => new Date(T)],
    ['a function returning milliseconds', () => T],
]) {
    test(`createUnique names a record YYYYMMDDTHHMMSSZ-N after the UTC second of opts.time given as ${what}`, async (t) => {
        const dir = tempDir(t);
        const a = createUniqueSync(dir, 'a', { time });
        const b = await createUnique(dir, 'b', { time });
        assert.deepEqual(a, { name: `${STAMP}-0`, path: path.join(dir, `${STAMP}-0`), attempts: 1 });
        assert.deepEqual(b, { name: `${STAMP}-1`, path: path.join(dir, `${STAMP}-1`), attempts: 1 });
        assert.equal(fs.readFileSync(a.path, 'utf8'), 'a');
        assert.equal(fs.readFileSync(b.path, 'utf8'), 'b');
    });
}
test('createUnique without opts.time names the record after the current second', async (t) => {
    const dir = tempDir(t);
    const before = Math.floor(Date.now() / 1000) * 1000;
    const { name } = await createUnique(dir, 'now');
    const after = Date.now();
    const parsed = parseName(name);
    assert.ok(parsed, `${name} is not a record name`);
    assert.ok(parsed.time >= before && parsed.time <= after, `${name} is not stamped with the current second`);
});
test('the first record in a second is -0, then -1, -2, and a new second starts again at -0', async (t) => {
    const dir = tempDir(t);
    const names = [
        createUniqueSync(dir, '0', { time: T }).name,
        (await createUnique(dir, '1', { time: T })).name,
        createUniqueSync(dir, '2', { time: T }).name,
        createUniqueSync(dir, 'next second', { time: T + 1000 }).name,
    ];
    assert.deepEqual(names, [`${STAMP}-0`, `${STAMP}-1`, `${STAMP}-2`, '20261126T101501Z-0']);
});
test('createUnique appends opts.suffix after the counter', async (t) => {
    const dir = tempDir(t);
    assert.equal(createUniqueSync(dir, 'x', { time: T, suffix: '.json' }).name, `${STAMP}-0.json`);
    assert.equal((await createUnique(dir, 'y', { time: T, suffix: '.tar.gz' })).name, `${STAMP}-0.tar.gz`);
});
for (const w of [writers[0], writers[1]]) {
    test(`${w.name} never overwrites an existing file of the candidate name`, async (t) => {
        const dir = tempDir(t);
        fs.writeFileSync(path.join(dir, `${STAMP}-0`), 'by hand 0');
        fs.writeFileSync(path.join(dir, `${STAMP}-1`), 'by hand 1');
        const r = w.sync
            ? createUniqueSync(dir, 'mine', { time: T })
            : await createUnique(dir, 'mine', { time: T });
        // Another name of the same second (which one is the counter probe's guess), the two by hand untouched.
        assert.equal(parseName(r.name)?.stamp, STAMP);
        assert.ok(![`${STAMP}-0`, `${STAMP}-1`].includes(r.name), `${r.name} was taken`);
        assert.equal(r.path, path.join(dir, r.name));
        assert.equal(fs.readFileSync(path.join(dir, `${STAMP}-0`), 'utf8'), 'by hand 0');
        assert.equal(fs.readFileSync(path.join(dir, `${STAMP}-1`), 'utf8'), 'by hand 1');
        assert.equal(fs.readFileSync(r.path, 'utf8'), 'mine');
        assert.deepEqual(list(dir), [`${STAMP}-0`, `${STAMP}-1`, r.name].sort());
    });
}
//# sourceMappingURL=publish-names.test.js.map