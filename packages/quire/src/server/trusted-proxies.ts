import { BlockList, isIP } from 'node:net';

/** proxy-addr's names for address ranges, as Fastify's trustProxy accepts them. */
const NAMED: Record<string, string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** An IPv4 address as Node reports it on a dual-stack socket (`::ffff:10.0.0.1`) in its IPv4 form. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * Whether a peer is one of the reverse proxies of `trustProxy` (Fastify's setting: true, false, or addresses
 * and CIDRs as a list or comma-separated): such a peer carries many clients' connections, so per-client
 * connection caps do not apply to it. Unparsable entries trust nothing (Fastify refuses them at start anyway).
 */
export function trustedProxies(trustProxy: boolean | string | string[]): (address: string) => boolean {
  if (trustProxy === true) return () => true;
  if (trustProxy === false) return () => false;
  const entries = (Array.isArray(trustProxy) ? trustProxy : trustProxy.split(','))
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const list = new BlockList();
  for (const entry of entries.flatMap((e) => NAMED[e] ?? [e])) {
    const [addr = '', bits] = entry.split('/');
    const family = isIP(plain(addr));
    if (family === 0) continue;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(plain(addr), type);
    else list.addSubnet(plain(addr), Number(bits), type);
  }
  return (address) => {
    const a = plain(address);
    const family = isIP(a);
    return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  };
}
