/**
 * Keyed appends: a retried append with the same key returns the first record's id and writes nothing new, also
 * when the attempts race from different processes or the first one died half-way.
 *
 *   .keys/<sha256(key)>      the intent: {"time", "sha"} of the record about to be published (durable)
 *   .keys/<sha256(key)>.id   the id of the record, once published (not fsynced: the intent finds it again)
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { toBytes, toContent } from './data.js';
import { makeDirSteps } from './dir.js';
import { invalidArg, toQuireError } from './errors.js';
import { formatStamp, resolveTime } from './names.js';
import { createExclusive, createUnique, replaceFile } from './publish.js';
import { readComplete } from './read.js';
import { KEYS_DIR } from './spool-context.js';
import { call, runAsync } from './steps.js';
function parseIntent(b) {
    try {
        const v = JSON.parse(b.toString('utf8'));
        if (typeof v.time !== 'number' || typeof v.sha !== 'string')
            return null;
        return { stamp: formatStamp(v.time), sha: v.sha };
    }
    catch {
        return null;
    }
}
/** A keyed append's content is checksummed before it is written, so it is drawn into memory first. */
async function collect(data) {
    const c = toContent(data, true);
    if (c.kind === 'bytes')
        return c.bytes;
    const parts = [];
    for await (const chunk of c.chunks)
        parts.push(toBytes(chunk));
    return Buffer.concat(parts);
}
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
/** The id recorded for a key, or null when there is none (or it is empty: cut by a crash). */
export async function readKeyId(spool, idPath) {
    const b = await readComplete(idPath);
    if (b === null || b.length === 0)
        return null;
    const id = b.toString('utf8');
    return spool.recordName(id) ? id : null;
}
/** The record stamped `stamp` whose content has checksum `sha`, if one was published. */
async function findBySum(spool, stamp, sha) {
    for (const name of await runAsync(call({ op: 'readdir', path: spool.dir }))) {
        const parsed = spool.recordName(name);
        if (parsed === null || parsed.stamp !== stamp)
            continue;
        const b = await readComplete(path.join(spool.dir, name));
        if (b !== null && sha256(b) === sha)
            return name;
    }
    return null;
}
/**
 * Keyed append, under the key's lock:
 * 1. `.keys/<h>.id` holds the id: done, return it.
 * 2. `.keys/<h>` holds an intent {time, sha256} without an id: an earlier attempt died between the intent and
 *    the id. Its record, if it was published, is a record of that second with that checksum: adopt it.
 * 3. Otherwise write the intent (durably, before the record exists, so a crash after the record cannot forget
 *    the key), publish the record stamped with the intent's second, then write the id.
 * The id file may be written without fsync: if a power cut loses it, step 2 finds the record again.
 */
export async function appendWithKey(spool, data, key, beforePublish) {
    if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key) > 1024) {
        throw invalidArg('key must be a non-empty string of at most 1024 bytes');
    }
    const bytes = await collect(data);
    const h = sha256(key);
    const keysDir = path.join(spool.dir, KEYS_DIR);
    const intentPath = path.join(keysDir, h);
    const idPath = path.join(keysDir, `${h}.id`);
    await runAsync(makeDirSteps(keysDir, spool.durable, 'append')).catch((err) => {
        throw toQuireError(err, 'append');
    });
    const lock = await spool.lock('key', h);
    try {
        const known = await readKeyId(spool, idPath);
        if (known !== null)
            return { id: known, created: false };
        const sha = sha256(bytes);
        const intent = await readComplete(intentPath);
        if (intent !== null) {
            const pending = parseIntent(intent);
            if (pending !== null && pending.sha === sha) {
                const found = await findBySum(spool, pending.stamp, sha);
                if (found !== null) {
                    await replaceFile(idPath, found, { durable: false });
                    return { id: found, created: false };
                }
            }
        }
        const time = resolveTime(spool.time);
        const next = JSON.stringify({ time, sha });
        if (intent === null)
            await createExclusive(intentPath, next, { durable: spool.durable });
        else
            await replaceFile(intentPath, next, { durable: spool.durable });
        const r = await createUnique(spool.dir, bytes, spool.writeOptions(beforePublish, time));
        await replaceFile(idPath, r.name, { durable: false });
        return { id: r.name, created: true };
    }
    finally {
        await lock.release();
    }
}
/**
 * For check(): the record a key's dead append published without recording its id, or null (the id is there,
 * or there is no intent, or its record was never published: harmless, a retry publishes it). Under the key's lock.
 */
export async function pendingKeyRecord(spool, h) {
    const keysDir = path.join(spool.dir, KEYS_DIR);
    if ((await readKeyId(spool, path.join(keysDir, `${h}.id`))) !== null)
        return null;
    const pending = parseIntent((await readComplete(path.join(keysDir, h))) ?? Buffer.alloc(0));
    return pending === null ? null : findBySum(spool, pending.stamp, pending.sha);
}
//# sourceMappingURL=spool-keys.js.map