import { ProblemError } from './problem.js';

/**
 * Checks of submitted fields beyond what the JSON schemas say (types and lengths): characters, e-mail and
 * website shapes. Each failure is a 400 problem with its own code.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds
const CONTROL_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const LONE_SURROGATE = /\p{Cs}/u;

function bad(field: string, what: string): ProblemError {
  return new ProblemError(400, 'invalid-characters', `${field} ${what}`);
}

/** Comment text: trimmed, not empty, no control characters except tab and line breaks, well-formed Unicode. */
export function cleanText(text: string, field = 'text'): string {
  if (LONE_SURROGATE.test(text)) throw bad(field, 'contains an unpaired surrogate');
  if (CONTROL_IN_TEXT.test(text)) throw bad(field, 'contains control characters');
  const t = text.replace(/\r\n?/g, '\n').trim();
  if (t === '') throw new ProblemError(400, 'empty-text', `${field} is empty`);
  return t;
}

/** A one-line field (author, title): trimmed, no control characters; empty means absent. */
export function cleanLine(v: string | null | undefined, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (LONE_SURROGATE.test(v)) throw bad(field, 'contains an unpaired surrogate');
  if (CONTROL_IN_LINE.test(v)) throw bad(field, 'contains control characters');
  const t = v.trim();
  return t === '' ? null : t;
}

const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+$/;

export function cleanEmail(v: string | null | undefined): string | null {
  const t = cleanLine(v, 'email');
  if (t === null) return null;
  if (!EMAIL.test(t)) throw new ProblemError(400, 'invalid-email', 'email is not an e-mail address');
  return t;
}

/** An http(s) URL without credentials; `example.org` is taken as `https://example.org/`. */
export function cleanWebsite(v: string | null | undefined): string | null {
  const t = cleanLine(v, 'website');
  if (t === null) return null;
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:/i.test(t) ? t : `https://${t}`);
  } catch {
    throw new ProblemError(400, 'invalid-website', 'website is not a URL');
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username !== '' || u.password !== '') {
    throw new ProblemError(
      400,
      'invalid-website',
      'website must be an http or https URL without credentials',
    );
  }
  if (!u.hostname.includes('.') && u.hostname !== 'localhost') {
    throw new ProblemError(400, 'invalid-website', 'website has no proper host name');
  }
  return u.href;
}

/**
 * Format characters (Unicode category Cf): bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069),
 * marks (U+200E/F, U+061C), zero-width space, joiners and no-break (U+200B–200D, U+2060, U+FEFF), soft hyphen.
 * Invisible, they let `"\u202eadmin"` show as "nimda" reversed or `"Admin\u200b"` pass for "Admin".
 */
const FORMAT_CHARS = /\p{Cf}/gu;

/**
 * An author name as shown to others: cleanLine, then every format character removed, NFKC (so full-width and
 * ligature look-alikes become their plain letters), and runs of white space made one space. Emoji joined by
 * U+200D fall apart into their parts; that is the price of refusing invisible characters.
 */
export function cleanName(v: string | null | undefined, field = 'author'): string | null {
  const t = cleanLine(v, field);
  if (t === null) return null;
  // Printable ASCII holds no format character and is its own NFKC form: most names, at a fraction of the cost.
  const name = (PRINTABLE_ASCII.test(t) ? t : t.replace(FORMAT_CHARS, '').normalize('NFKC'))
    .replace(/\s+/gu, ' ')
    .trim();
  return name === '' ? null : name;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** What two names are compared by: letters and digits of their NFKC case fold, nothing else. */
function nameKey(name: string): string {
  if (PRINTABLE_ASCII.test(name)) return name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return name
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** The keys of a list of reserved names (the config's, so computed once per list). */
const reservedKeySets = new WeakMap<readonly string[], Set<string>>();

function reservedKeys(reserved: readonly string[]): Set<string> {
  let keys = reservedKeySets.get(reserved);
  if (keys === undefined) {
    keys = new Set(reserved.map(nameKey));
    reservedKeySets.set(reserved, keys);
  }
  return keys;
}

/**
 * Refuses a name that reads as one of `reserved` (the moderators' display names) once case, spacing,
 * punctuation, format characters and compatibility forms are set aside: "A.D.M.I.N", "ａｄｍｉｎ" and
 * "Admin\u200b" all read as "admin". Look-alikes from other scripts (Cyrillic "а") are not caught.
 */
export function checkNotReserved(name: string | null, reserved: readonly string[]): void {
  if (name === null) return;
  const key = nameKey(name);
  if (key !== '' && reservedKeys(reserved).has(key)) {
    throw new ProblemError(400, 'reserved-name', 'that name is reserved for the site’s moderators');
  }
}
