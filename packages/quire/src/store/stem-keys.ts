/** Comment stems as pairs of numbers: how a thread's index (index-rows.ts) and its snapshot hold them. */

const CHAR_0 = 0x30;

/**
 * Where readStemKey and readStemKeyOf leave the key they read: [time, seq]. One pair for every caller, read
 * before the next call: a key read per name of a listing or per row of a snapshot then makes no array (a pair
 * of doubles past the small-integer range was ~63 bytes of garbage each, as much as the rest of a load).
 */
export const KEY = new Float64Array(2);

/**
 * Reads a stem (`YYYYMMDDTHHMMSSZ-N`, COMMENT_STEM) as two exact doubles into KEY: its 14 time digits and N (at
 * most 15 digits, no leading zero). The pair orders as compareStems orders the stems and gives the stem back:
 * 16 bytes a comment instead of a string of ~40 and its slot. False for anything else. `n`: of the first n
 * characters only.
 */
export function readStemKey(stem: string, n = stem.length): boolean {
  if (n < 18 || n > 32 || stem.charCodeAt(8) !== 0x54 || stem.charCodeAt(15) !== 0x5a) return false;
  if (stem.charCodeAt(16) !== 0x2d || (stem.charCodeAt(17) === CHAR_0 && n > 18)) return false;
  let time = 0;
  let seq = 0;
  for (let i = 0; i < n; i++) {
    if (i === 8 || i === 15 || i === 16) continue;
    const d = stem.charCodeAt(i) - CHAR_0;
    if (d < 0 || d > 9) return false;
    if (i < 15) time = time * 10 + d;
    else seq = seq * 10 + d;
  }
  KEY[0] = time;
  KEY[1] = seq;
  return true;
}

/** readStemKey's key as a pair of its own, or null: for callers that keep it. */
export function stemKey(stem: string, n = stem.length): [number, number] | null {
  return readStemKey(stem, n) ? [KEY[0] as number, KEY[1] as number] : null;
}

/** The same from a stem's latin1 bytes (a snapshot's rows): no string made. */
export function readStemKeyOf(buf: Uint8Array, from: number, to: number): boolean {
  const n = to - from;
  if (n < 18 || n > 32 || buf[from + 8] !== 0x54 || buf[from + 15] !== 0x5a || buf[from + 16] !== 0x2d)
    return false;
  if (buf[from + 17] === CHAR_0 && n > 18) return false;
  let time = 0;
  let seq = 0;
  for (let i = 0; i < n; i++) {
    if (i === 8 || i === 15 || i === 16) continue;
    const d = (buf[from + i] as number) - CHAR_0;
    if (d < 0 || d > 9) return false;
    if (i < 15) time = time * 10 + d;
    else seq = seq * 10 + d;
  }
  KEY[0] = time;
  KEY[1] = seq;
  return true;
}

/** Characters of the stem of a key. */
export function stemLength(seq: number): number {
  let d = 1;
  for (let x = seq; x >= 10; x = Math.floor(x / 10)) d++;
  return 17 + d;
}

/** The stem of a key. */
export function stemOfKey(time: number, seq: number): string {
  const t = String(time).padStart(14, '0');
  return `${t.slice(0, 8)}T${t.slice(8)}Z-${seq}`;
}

/** Writes the stem of a key into `buf` at `at` as latin1; returns where it ends. */
export function writeStem(buf: Uint8Array, at: number, time: number, seq: number): number {
  const end = at + stemLength(seq);
  let t = time;
  for (let i = at + 14; i >= at; i--) {
    if (i === at + 8) {
      buf[i] = 0x54;
      continue;
    }
    buf[i] = CHAR_0 + (t % 10);
    t = Math.floor(t / 10);
  }
  buf[at + 15] = 0x5a;
  buf[at + 16] = 0x2d;
  let s = seq;
  for (let i = end - 1; i >= at + 17; i--) {
    buf[i] = CHAR_0 + (s % 10);
    s = Math.floor(s / 10);
  }
  return end;
}
