import type { Hmacs } from '../../store/secret.js';

/** What a one-click link in a moderator mail does. */
export type LinkAction = 'approve' | 'delete' | 'spam';
export const LINK_ACTIONS: readonly LinkAction[] = ['approve', 'delete', 'spam'];

/** A signed action link's payload: `<action>~<comment id>~<expiry ms, base 36>` (no dot: sign() splits at the last). */
export function actionToken(hmacs: Hmacs, action: LinkAction, commentId: string, expiresMs: number): string {
  return hmacs.sign('notify-link', `${action}~${commentId}~${expiresMs.toString(36)}`);
}

/** The action, comment and expiry of a genuine action token (expired or not), or null for anything else. */
export function readActionToken(
  hmacs: Hmacs,
  token: string,
): { action: LinkAction; commentId: string; expires: number } | null {
  const payload = hmacs.verify('notify-link', token);
  const parts = payload?.split('~');
  if (parts?.length !== 3) return null;
  const [action, commentId, exp] = parts as [string, string, string];
  const expires = Number.parseInt(exp, 36);
  if (!LINK_ACTIONS.includes(action as LinkAction) || !Number.isSafeInteger(expires)) return null;
  return { action: action as LinkAction, commentId, expires };
}

/** The HMAC an address is known by once unsubscribed: the address itself is never stored for it. */
export function addressHmac(hmacs: Hmacs, address: string): string {
  return hmacs.hex('unsubscribe', address.trim().toLowerCase(), 64);
}

/** An unsubscribe token: the address's HMAC, signed. It does not expire (an old mail's link must still work). */
export function unsubscribeToken(hmacs: Hmacs, address: string): string {
  return hmacs.sign('unsubscribe', `u~${addressHmac(hmacs, address)}`);
}

/** The address HMAC of a genuine unsubscribe token, or null. */
export function readUnsubscribeToken(hmacs: Hmacs, token: string): string | null {
  const payload = hmacs.verify('unsubscribe', token);
  return payload !== null && /^u~[0-9a-f]{64}$/.test(payload) ? payload.slice(2) : null;
}
