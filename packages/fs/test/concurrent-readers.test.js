/** Readers racing real writers and replacers in other processes never see a partial, torn or missing file. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isTempName, replaceFileSync } from '@quire/fs';
import { MODES, runWriters, SECOND, STAMP, verifyDirectory } from './conc-writers.js';
import { onLines, sealed, sha256, spawnFixtureWithStdin, tempDir, unseal, waitExit } from './helpers.js';
/** A reader process: `ready` once started, then reads until its stdin ends; resolves with what it saw. */
function startReader(args) {
    const child = spawnFixtureWithStdin('conc-reader', [JSON.stringify(args)]);
    const r = {
        seen: new Map(),
        passes: 0,
        reads: 0,
        nulls: 0,
        listedNulls: 0,
        bad: 0,
        during: 0,
    };
    let markReady;
    const ready = new Promise((resolve) => {
        markReady = resolve;
    });
    let finished = false;
    onLines(child.stdout, (line) => {
        const [kind, ...rest] = line.split(' ');
        if (kind === 'ready')
            markReady();
        else if (kind === 'seen')
            r.seen.set(rest[0], rest[1]);
        else if (kind === 'done') {
            const n = rest.map(Number);
            Object.assign(r, {
                passes: n[0],
                reads: n[1],
                nulls: n[2],
                listedNulls: n[3],
                bad: n[4],
                during: n[5],
            });
            finished = true;
        }
    });
    const exit = waitExit(child);
    void exit.then(() => markReady());
    const result = exit.then((e) => {
        if (e.code !== 0 || !finished)
            throw new Error(`reader exited ${e.code ?? e.signal}: ${e.stderr}`);
        if (e.stderr)
            console.log(`# reader: ${e.stderr.trim().split('\n').slice(0, 5).join(' | ')}`);
        return r;
    });
    return { ready, stop: () => child.stdin.end(), result };
}
test('readers listing and reading while writers publish 1 MiB records never see a partial file', {
    timeout: 180_000,
}, async (t) => {
    const dir = tempDir(t);
    const readers = [0, 1].map(() => startReader({ dir, stamp: STAMP, ahead: 4 }));
    await Promise.all(readers.map((r) => r.ready));
    const MiB = 1024 * 1024;
    // 1 MiB per file: the 64-byte checksum, a header of under 40 bytes, the rest random; handed over in 64 KiB
    // chunks, so each temp is written by many write(2) calls while the readers run.
    const writers = [0, 1, 2].map((i) => ({
        thread: false,
        spec: {
            dir,
            id: `p${i}`,
            tag: 'big',
            count: 40,
            mode: MODES[i],
            time: SECOND,
            minSize: MiB - 104,
            maxSize: MiB - 104,
            chunk: 64 * 1024,
        },
    }));
    let reports;
    try {
        reports = await runWriters(writers);
    }
    finally {
        for (const r of readers)
            r.stop();
    }
    const results = await Promise.all(readers.map((r) => r.result));
    const tally = verifyDirectory(dir, writers.map((w) => w.spec), reports);
    const shas = new Map(reports.flat().map((r) => [r.name, r.sha]));
    for (const [i, r] of results.entries()) {
        assert.equal(r.bad, 0, `reader ${i} read no torn or changed file`);
        assert.equal(r.listedNulls, 0, `reader ${i} never got null for a name it had listed`);
        assert.equal(r.seen.size, tally.creates, `reader ${i} read every record in its last pass`);
        for (const [name, sha] of r.seen)
            assert.equal(sha, shas.get(name), `reader ${i} read ${name} as written`);
    }
    const during = results.reduce((n, r) => n + r.during, 0);
    const reads = results.reduce((n, r) => n + r.reads, 0);
    const nulls = results.reduce((n, r) => n + r.nulls, 0);
    console.log(`# 1 MiB race: ${tally.creates} files, ${reads} reads (${during} complete reads while writers ran, ${nulls} nulls for names not yet linked), ${results.map((r) => r.passes).join('+')} passes`);
    assert.ok(during > 0, 'the readers read records while the writers were still publishing');
});
test('two processes replacing one file 1000 times each, one sync and one async, never show a reader a torn or missing file', {
    timeout: 180_000,
}, async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'state.bin');
    replaceFileSync(file, sealed('replace w=init seq=0\n'));
    const reader = spawnFixtureWithStdin('conc-replace-reader', [file]);
    let readerDone;
    let readerReady;
    const readerStarted = new Promise((resolve) => {
        readerReady = resolve;
    });
    onLines(reader.stdout, (line) => {
        if (line === 'ready')
            readerReady();
        else if (line.startsWith('done '))
            readerDone = line.split(' ').slice(1).map(Number);
    });
    const readerExit = waitExit(reader);
    void readerExit.then(() => readerReady());
    await readerStarted;
    const specs = [
        { file, id: 'sync', count: 1000, mode: 'sync', maxSize: 16 * 1024 },
        { file, id: 'async', count: 1000, mode: 'async', maxSize: 16 * 1024 },
    ];
    const writers = specs.map((spec) => {
        const child = spawnFixtureWithStdin('conc-replacer', [JSON.stringify(spec)]);
        const shas = new Map();
        let ready;
        const started = new Promise((resolve) => {
            ready = resolve;
        });
        onLines(child.stdout, (line) => {
            if (line === 'ready')
                return ready();
            const [, seq, sha] = line.split(' ');
            shas.set(Number(seq), sha);
        });
        const exit = waitExit(child);
        void exit.then(() => ready());
        return { child, shas, started, exit };
    });
    await Promise.all(writers.map((w) => w.started));
    for (const w of writers)
        w.child.stdin.end('go\n');
    let exits;
    try {
        exits = await Promise.all(writers.map((w) => w.exit));
    }
    finally {
        reader.stdin.end();
    }
    const r = await readerExit;
    for (const [i, e] of exits.entries()) {
        assert.equal(e.code, 0, `writer ${specs[i].id} exited ${e.code ?? e.signal}: ${e.stderr}`);
        assert.equal(writers[i].shas.size, 1000, `writer ${specs[i].id} completed 1000 replaces`);
    }
    assert.equal(r.code, 0, `reader exited ${r.code ?? r.signal}: ${r.stderr}`);
    assert.ok(readerDone, 'the reader reported');
    const [reads, nulls, torn, regressions, distinct] = readerDone;
    assert.equal(torn, 0, `torn reads: ${r.stderr}`);
    assert.equal(nulls, 0, `reads that found no file: ${r.stderr}`);
    assert.equal(regressions, 0, `reads that went back to an older write of one writer: ${r.stderr}`);
    // The last rename of all is the last write of one writer, whose renames happen in call order.
    const final = fs.readFileSync(file);
    const body = unseal(final);
    assert.ok(body, 'the final file verifies by its embedded checksum');
    const header = /^replace w=(\S+) seq=(\d+)\n/.exec(body.toString('latin1', 0, 64));
    assert.ok(header, 'the final file is one of the writes');
    assert.equal(Number(header[2]), 999, `the final file is a writer's last write, not ${header[1]} #${header[2]}`);
    const w = writers[specs.findIndex((s) => s.id === header[1])];
    assert.ok(w, `the final file comes from a writer, not ${header[1]}`);
    assert.equal(sha256(final), w.shas.get(999), 'the final file holds exactly what that write wrote');
    assert.deepEqual(fs.readdirSync(dir).filter(isTempName), [], 'no temp is left behind');
    console.log(`# replace race: 2000 replaces, ${reads} reads saw ${distinct} distinct versions, final ${header[1]} #999`);
    assert.ok(distinct > 1, 'the reader saw the file change while it read');
});
//# sourceMappingURL=concurrent-readers.test.js.map