/**
 * Writers SIGKILLed at random moments: whatever instant a kill lands on (mid-write, before or after fsync,
 * between link and unlink, between two creates), no published name holds partial data, every acknowledged
 * create is there with its content, and sweepTemps removes what the dead writers left, never a live writer's temp.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isRecordName, isTempName, readCompleteSync, sweepTemps, sweepTempsSync } from '@quire/fs';
import { onLines, sha256, spawnFixture, tempDir, unseal, waitExit } from './helpers.js';
const KILLS = 240;
const LANES = 4;
const MODES = ['sync', 'async', 'async3', 'mixed'];
function tempPid(name) {
    return Number(/^\.quire-(\d+)-/.exec(name)?.[1]);
}
/**
 * Calls `fn` now, after a few turns of the event loop, or after a timer of a few milliseconds, at random. This only
 * spreads the kills over the writer's steps; no outcome of the test depends on when the kill lands.
 */
function jitter(fn) {
    const how = randomInt(3);
    if (how === 0) {
        fn();
    }
    else if (how === 1) {
        let turns = randomInt(1, 40);
        const step = () => {
            if (--turns <= 0)
                fn();
            else
                setImmediate(step);
        };
        setImmediate(step);
    }
    else {
        setTimeout(fn, randomInt(0, 6));
    }
}
/**
 * One round: start a writer, kill it with SIGKILL upon its k-th acknowledgement (k random, 0 meaning upon
 * `ready`), wait until it is gone, then sweep while the other lanes' writers are still running.
 */
async function round(c) {
    const spec = {
        dir: c.dir,
        mode: MODES[randomInt(MODES.length)],
        durable: randomInt(4) !== 0,
        maxSize: 256 * 1024,
    };
    const k = randomInt(0, 9);
    const child = spawnFixture('kill-writer', [JSON.stringify(spec)]);
    const pid = child.pid;
    let acked = 0;
    let fired = false;
    const fire = () => {
        if (fired)
            return;
        fired = true;
        jitter(() => child.kill('SIGKILL'));
    };
    onLines(child.stdout, (line) => {
        if (line === 'ready') {
            if (k === 0)
                fire();
            return;
        }
        const [kind, name, sha] = line.split(' ');
        if (kind !== 'ok' || !name || !sha) {
            c.problems.push(`writer ${pid} printed ${JSON.stringify(line)}`);
            return;
        }
        c.acks.push({ name, sha, pid });
        if (++acked === k)
            fire();
    });
    const exit = await waitExit(child);
    c.dead.add(pid);
    if (exit.signal !== 'SIGKILL') {
        c.problems.push(`writer ${pid} (${spec.mode}) ended by itself (${exit.code}) before its kill: ${exit.stderr}`);
    }
    c.kills++;
    // Classify the dead writers' temps before the sweep removes them: a temp is complete when the kill came
    // after its content was written (it may then also be linked under a record name), partial otherwise.
    for (const name of fs.readdirSync(c.dir)) {
        if (!isTempName(name) || !c.dead.has(tempPid(name)) || c.swept.has(name))
            continue;
        let buf;
        try {
            buf = fs.readFileSync(path.join(c.dir, name));
        }
        catch {
            continue; // another lane's sweep got it first
        }
        c.swept.set(name, unseal(buf) ? 'complete' : 'partial');
    }
    for (const s of await sweepTemps(c.dir)) {
        if (!c.dead.has(tempPid(s.name)))
            c.problems.push(`sweepTemps removed ${s.name}, a live writer's temp`);
        if (s.reason !== 'writer-dead')
            c.problems.push(`sweepTemps removed ${s.name} as ${s.reason}`);
    }
}
/** Every record verifies, and every acknowledged create is present with the checksum its writer reported. */
function verifyRecords(c, records) {
    for (const name of records) {
        const buf = readCompleteSync(path.join(c.dir, name));
        assert.ok(buf, `${name} reads`);
        assert.ok(unseal(buf), `${name} holds complete data (${buf.length} bytes that do not verify)`);
    }
    const present = new Set(records);
    for (const a of c.acks) {
        assert.ok(present.has(a.name), `${a.name}, acknowledged by writer ${a.pid}, is present`);
        assert.equal(sha256(fs.readFileSync(path.join(c.dir, a.name))), a.sha, `${a.name} holds what ${a.pid} wrote`);
    }
}
test(`${KILLS} writers SIGKILLed at random moments leave no partial record, lose no acknowledged create, and leave only temps that sweepTemps removes`, {
    timeout: 240_000,
}, async (t) => {
    const c = {
        dir: tempDir(t),
        kills: 0,
        acks: [],
        dead: new Set(),
        swept: new Map(),
        problems: [],
    };
    let started = 0;
    const lane = async () => {
        while (started < KILLS) {
            started++;
            await round(c);
        }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    assert.deepEqual(c.problems, []);
    assert.equal(c.kills, KILLS);
    const names = new Set(c.acks.map((a) => a.name));
    assert.equal(names.size, c.acks.length, 'no record name was acknowledged twice');
    let entries = fs.readdirSync(c.dir);
    assert.deepEqual(entries.filter((n) => !isRecordName(n) && !isTempName(n)), [], 'nothing but records and temps');
    const records = entries.filter(isRecordName);
    verifyRecords(c, records);
    // Every lane swept after its kill; a last sweep takes whatever the last kills left.
    const left = entries.filter(isTempName);
    for (const name of left) {
        assert.ok(c.dead.has(tempPid(name)), `${name} belongs to a killed writer`);
        c.swept.set(name, unseal(fs.readFileSync(path.join(c.dir, name))) ? 'complete' : 'partial');
    }
    const swept = sweepTempsSync(c.dir);
    assert.deepEqual(swept.map((s) => s.name).sort(), [...left].sort(), 'the last sweep removes every leftover temp');
    entries = fs.readdirSync(c.dir);
    assert.deepEqual(entries.filter(isTempName), [], 'no temp remains after sweepTemps');
    assert.deepEqual(entries.filter(isRecordName).sort(), [...records].sort(), 'sweepTemps removes no record');
    verifyRecords(c, records);
    const partial = [...c.swept.values()].filter((v) => v === 'partial').length;
    const unacked = records.filter((n) => !names.has(n)).length;
    console.log(`# crash: ${c.kills} kills, ${c.acks.length} acknowledged creates verified, ${records.length} records (${unacked} published but not acknowledged), ${c.swept.size} temps swept (${partial} partial, ${c.swept.size - partial} complete)`);
    // Without any temp left behind, no kill landed mid-publish and the campaign would prove nothing.
    assert.ok(partial > 0, 'some kills landed while a temp was half written');
});
//# sourceMappingURL=crash.test.js.map