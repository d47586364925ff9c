/** The power-cut campaign's payloads: deterministic from a header line, so the checker can rebuild what a keyed
 * append was writing, and sealed, so a torn record shows. */
import { createCipheriv, createHash } from 'node:crypto';
import { sealed } from './helpers.js';
/** Record names of the campaign's spool end in this suffix. */
export const SUFFIX = '.rec';
/** Payload sizes, sealed content included, are log-uniform over this range (so most are small, some large). */
export const MIN_SIZE = 100;
export const MAX_SIZE = 64 * 1024;
/** A payload of about `size` bytes (never less than the header needs): sealed(header line + keystream). */
export function payload(header, size) {
    const head = Buffer.from(`${header}\n`);
    const fill = Math.max(0, size - 64 - head.length);
    const key = createHash('sha256').update(head).digest();
    const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
    return sealed(Buffer.concat([head, cipher.update(Buffer.alloc(fill)), cipher.final()]));
}
export function pickSize() {
    return Math.floor(MIN_SIZE * (MAX_SIZE / MIN_SIZE) ** Math.random());
}
export function keyedHeader(writer, seq) {
    return `w${writer} s${seq} keyed`;
}
export function keyOf(writer, seq) {
    return `powercut-w${writer}-s${seq}`;
}
export function updateHeader(writer, seq, target, version) {
    return `w${writer} s${seq} update ${target} v${version}`;
}
/** The version in the header line of an update target's (unsealed) body; null if it has none. */
export function versionOf(body) {
    const nl = body.indexOf(10);
    const m = / v(\d+)$/.exec(body.toString('latin1', 0, nl < 0 ? body.length : nl));
    return m ? Number(m[1]) : null;
}
//# sourceMappingURL=powercut-payloads.js.map