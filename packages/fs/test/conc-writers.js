/** Writer processes and worker threads publishing into one directory at once, and the check of what they left. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { isRecordName, isTempName, parseName } from '@quire/fs';
import { fixturesDir, onLines, sha256, spawnFixtureWithStdin, unseal, waitExit } from './helpers.js';
export const SECOND = Date.UTC(2026, 10, 26, 10, 15, 0);
export const STAMP = '20261126T101500Z';
/** A writer as a child process: `ready` and `ok` lines on stdout, `go` on stdin, exit 0 when finished. */
export function startProcess(spec) {
    const child = spawnFixtureWithStdin('conc-writer', [JSON.stringify(spec)]);
    const reports = [];
    const strays = [];
    let markReady;
    const ready = new Promise((resolve) => {
        markReady = resolve;
    });
    onLines(child.stdout, (line) => {
        if (line === 'ready')
            return markReady();
        const [kind, name, sha, attempts] = line.split(' ');
        if (kind === 'ok' && name && sha)
            reports.push({ type: 'ok', name, sha, attempts: Number(attempts) });
        else
            strays.push(line);
    });
    const exit = waitExit(child);
    const done = exit.then((r) => {
        if (r.code !== 0)
            throw new Error(`writer ${spec.id} exited ${r.code ?? r.signal}: ${r.stderr}`);
        assert.deepEqual(strays, [], `writer ${spec.id} printed only ready and ok lines`);
    });
    // A writer that dies before `ready` must fail the test, not leave it waiting for the barrier.
    void exit.then(() => markReady());
    return { ready, go: () => child.stdin.end('go\n'), done, reports };
}
/** A writer as a worker thread of this process: `ready` and reports by postMessage, `go` by message. */
export function startWorker(spec) {
    const worker = new Worker(path.join(fixturesDir, 'conc-writer.js'), { workerData: spec });
    const reports = [];
    let markReady;
    const ready = new Promise((resolve) => {
        markReady = resolve;
    });
    worker.on('message', (m) => {
        if (m.type === 'ready')
            markReady();
        else
            reports.push(m);
    });
    const done = new Promise((resolve, reject) => {
        worker.on('error', reject);
        worker.on('exit', (code) => {
            markReady();
            if (code === 0)
                resolve();
            else
                reject(new Error(`worker ${spec.id} exited ${code}`));
        });
    });
    return { ready, go: () => worker.postMessage('go'), done, reports };
}
/** Starts every writer, lets them all go at once when all are ready, and returns each one's reports. */
export async function runWriters(writers) {
    const started = writers.map((w) => (w.thread ? startWorker(w.spec) : startProcess(w.spec)));
    await Promise.all(started.map((s) => s.ready));
    for (const s of started)
        s.go();
    await Promise.all(started.map((s) => s.done));
    return started.map((s) => s.reports);
}
/**
 * Checks a directory after writers with the given specs finished: only record names, no temp; exactly the
 * names the writers reported, each once; every file verifies by its embedded checksum, matches the checksum its
 * writer reported, and names a (writer, seq) that appears exactly once, so no create was lost or doubled.
 */
export function verifyDirectory(dir, specs, reports) {
    const entries = fs.readdirSync(dir);
    assert.deepEqual(entries.filter(isTempName), [], 'no temp is left behind');
    assert.deepEqual(entries.filter((n) => !isRecordName(n)), [], 'nothing but record names');
    const total = specs.reduce((n, s) => n + s.count, 0);
    assert.equal(entries.length, total, `exactly ${total} files`);
    const reported = new Map();
    const reporter = new Map();
    let attempts = 0;
    for (const [i, spec] of specs.entries()) {
        const rs = reports[i];
        assert.equal(rs.length, spec.count, `writer ${spec.id} reported every create`);
        for (const r of rs) {
            assert.ok(!reported.has(r.name), `${r.name} was reported by two creates`);
            assert.ok(r.attempts >= 1, `${r.name}: attempts ${r.attempts}`);
            reported.set(r.name, r);
            reporter.set(r.name, spec.id);
            attempts += r.attempts;
        }
    }
    assert.equal(reported.size, total, `${total} distinct names reported`);
    const seen = new Set();
    let maxCounter = 0;
    for (const name of entries) {
        const parsed = parseName(name);
        assert.equal(parsed.stamp, STAMP, `${name} carries the one second every writer used`);
        maxCounter = Math.max(maxCounter, parsed.counter);
        const buf = fs.readFileSync(path.join(dir, name));
        const body = unseal(buf);
        assert.ok(body, `${name} verifies by its embedded checksum`);
        const r = reported.get(name);
        assert.ok(r, `${name} on disk was reported by a writer`);
        assert.equal(sha256(buf), r.sha, `${name} holds what its writer wrote`);
        const header = /^(\w+) w=(\S+) seq=(\d+)\n/.exec(body.toString('latin1', 0, 100));
        assert.ok(header, `${name} has a header`);
        assert.equal(header[2], reporter.get(name), `${name} was written by the writer that reported it`);
        const key = `${header[2]}/${header[3]}`;
        assert.ok(!seen.has(key), `${key} was published twice`);
        seen.add(key);
    }
    for (const spec of specs) {
        for (let seq = 0; seq < spec.count; seq++)
            assert.ok(seen.has(`${spec.id}/${seq}`), `${spec.id}/${seq} is on disk`);
    }
    return { creates: total, attempts, maxCounter };
}
export const MODES = ['sync', 'async', 'async4', 'mixed'];
export function spec(dir, id, count, mode, tag) {
    return { dir, id, tag, count, mode, time: SECOND, minSize: 16, maxSize: 2048 };
}
//# sourceMappingURL=conc-writers.js.map