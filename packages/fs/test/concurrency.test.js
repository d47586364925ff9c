/**
 * Many real writers at once (child processes and worker threads) publishing into one directory in one second:
 * every file distinct and complete, few link attempts. Every check is a count or a checksum, never a timing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MODES, runWriters, spec, verifyDirectory } from './conc-writers.js';
import { tempDir } from './helpers.js';
test('8 processes and 4 worker threads creating 500 records each in the same second publish 6000 distinct, complete files', {
    timeout: 180_000,
}, async (t) => {
    const dir = tempDir(t);
    const writers = [];
    for (let i = 0; i < 8; i++)
        writers.push({ thread: false, spec: spec(dir, `p${i}`, 500, MODES[i % 4], 'storm') });
    for (let i = 0; i < 4; i++)
        writers.push({ thread: true, spec: spec(dir, `t${i}`, 500, MODES[i], 'storm') });
    const reports = await runWriters(writers);
    const tally = verifyDirectory(dir, writers.map((w) => w.spec), reports);
    assert.equal(tally.creates, 6000);
    console.log(`# storm: ${tally.creates} creates, ${(tally.attempts / tally.creates).toFixed(3)} link attempts per create, highest counter ${tally.maxCounter}`);
});
/** 8 processes x 1000 createUnique in one second, the i-th in modes[i % modes.length]: the average link attempts. */
async function probeRun(t, modes, label) {
    const dir = tempDir(t);
    const writers = Array.from({ length: 8 }, (_, i) => ({
        thread: false,
        spec: spec(dir, `p${i}`, 1000, modes[i % modes.length], 'probe'),
    }));
    const reports = await runWriters(writers);
    const tally = verifyDirectory(dir, writers.map((w) => w.spec), reports);
    assert.equal(tally.creates, 8000);
    const perCreate = tally.attempts / tally.creates;
    const byMode = [...new Set(modes)].map((m) => {
        const rs = reports.filter((_, i) => writers[i].spec.mode === m).flat();
        return `${m} ${(rs.reduce((n, r) => n + r.attempts, 0) / rs.length).toFixed(3)}`;
    });
    console.log(`# ${label}: ${perCreate.toFixed(3)} link attempts per create (${byMode.join(', ')}), highest counter ${tally.maxCounter}`);
    return perCreate;
}
test('8 processes creating 1000 records each in the same second need at most 2 link attempts per create on average', {
    timeout: 180_000,
}, async (t) => {
    // Two processes each: sync, async one at a time, async with 4 in flight, and sync and async alternating.
    const perCreate = await probeRun(t, MODES, '8x1000');
    assert.ok(perCreate <= 2, `${perCreate.toFixed(3)} link attempts per create, the target is at most 2`);
});
test('8 processes each keeping 4 async creates in flight in the same second need at most 2 link attempts per create on average', {
    timeout: 180_000,
}, async (t) => {
    // A server handling concurrent requests: each process has 4 createUnique calls in flight at any time.
    const perCreate = await probeRun(t, ['async4'], '8x1000, 4 in flight each');
    assert.ok(perCreate <= 2, `${perCreate.toFixed(3)} link attempts per create, the target is at most 2`);
});
//# sourceMappingURL=concurrency.test.js.map