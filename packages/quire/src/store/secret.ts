import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { createExclusive, isQuireError, readComplete } from '@quire/fs';

/**
 * DATA/secret: 32 random bytes, created exclusively on first start, so two servers starting on an empty data
 * directory at once still end up with one secret (the loser of the race reads the winner's). Every HMAC
 * (client addresses, voters, edit, form and admin tokens) is keyed by a subkey derived from it; rotating it
 * (delete the file, restart) invalidates all tokens and makes hashed addresses incomparable with old ones.
 */
export async function loadSecret(dataDir: string, durable = true): Promise<Buffer> {
  const file = path.join(dataDir, 'secret');
  const fresh = randomBytes(32);
  try {
    await createExclusive(file, fresh, { durable, mode: 0o600 });
    return fresh;
  } catch (err) {
    if (!isQuireError(err, 'EEXIST')) throw err;
  }
  const existing = await readComplete(file);
  if (existing === null || existing.length < 32) {
    throw new Error(`${file} is unreadable or shorter than 32 bytes; remove it to make a new secret`);
  }
  return existing;
}

export type KeyPurpose =
  | 'ip'
  | 'vote'
  | 'nonce'
  | 'edit'
  | 'form'
  | 'admin'
  | 'notify-link'
  | 'unsubscribe'
  | 'avatar';

/**
 * HMACs keyed by DATA/secret, with one subkey per purpose, so a value made for one purpose is never valid for
 * another. (Nothing to do with a thread's `.keys/` directory, the nonce markers of an earlier version.)
 */
export class Hmacs {
  private readonly subkeys = new Map<string, Buffer>();

  constructor(private readonly secret: Buffer) {}

  private key(purpose: string): Buffer {
    let k = this.subkeys.get(purpose);
    if (k === undefined) {
      k = createHmac('sha256', this.secret).update(`quire:${purpose}`).digest();
      this.subkeys.set(purpose, k);
    }
    return k;
  }

  /** Hex HMAC-SHA256 of `data`, truncated to `hexChars`. */
  hex(purpose: KeyPurpose, data: string, hexChars = 32): string {
    return createHmac('sha256', this.key(purpose)).update(data).digest('hex').slice(0, hexChars);
  }

  /**
   * A token `<payload>.<signature>`: payload is a dot-free string the caller chooses, the signature is
   * base64url HMAC. `extra` binds the signature to something that is not in the token (e.g. the admin password
   * hash, so changing the password ends every session).
   */
  sign(purpose: KeyPurpose, payload: string, extra = ''): string {
    const sig = createHmac('sha256', this.key(purpose)).update(`${payload}\0${extra}`).digest('base64url');
    return `${payload}.${sig}`;
  }

  /** The payload of a token made by sign() for this purpose, or null if it is malformed or forged. */
  verify(purpose: KeyPurpose, token: string, extra = ''): string | null {
    if (typeof token !== 'string' || token.length > 1024) return null;
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return null;
    const payload = token.slice(0, dot);
    // Compare the text, not decoded bytes: base64url decoding ignores stray characters, so two spellings
    // could decode alike.
    const given = Buffer.from(token.slice(dot + 1));
    const want = Buffer.from(
      createHmac('sha256', this.key(purpose)).update(`${payload}\0${extra}`).digest('base64url'),
    );
    if (given.length !== want.length || !timingSafeEqual(given, want)) return null;
    return payload;
  }
}
