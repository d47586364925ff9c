import { isIPv4, isIPv6 } from 'node:net';

/** The eight 16-bit groups of an IPv6 address, or null. Handles `::` and an embedded IPv4 tail. */
function ipv6Groups(addr: string): number[] | null {
  let a = addr.toLowerCase();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (!isIPv6(a)) return null;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const octets = (v4[1] as string).split('.').map(Number);
    a = `${a.slice(0, -(v4[1] as string).length)}${(((octets[0] ?? 0) << 8) | (octets[1] ?? 0)).toString(16)}:${(((octets[2] ?? 0) << 8) | (octets[3] ?? 0)).toString(16)}`;
  }
  const [head, tail] = a.includes('::') ? (a.split('::') as [string, string]) : [a, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const groups = [...h, ...Array<string>(fill).fill('0'), ...t].map((g) => Number.parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : null;
}

function mappedV4(groups: number[]): string | null {
  // ::ffff:a.b.c.d
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const hi = groups[6] ?? 0;
    const lo = groups[7] ?? 0;
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return null;
}

/** `203.0.113.7` -> `203.0.113.0/24`; `2001:db8:1:2::5` -> `2001:db8:1::/48`. What may be stored or logged. */
export function truncateIp(addr: string | undefined): string | null {
  if (addr === undefined) return null;
  if (isIPv4(addr)) {
    const octets = addr.split('.');
    return `${octets[0]}.${octets[1]}.${octets[2]}.0/24`;
  }
  const g = ipv6Groups(addr);
  if (g === null) return null;
  const v4 = mappedV4(g);
  if (v4 !== null) return truncateIp(v4);
  return `${g
    .slice(0, 3)
    .map((x) => x.toString(16))
    .join(':')}::/48`;
}

/**
 * The key a client is counted under (rate limits, votes): a whole IPv4 address, or an IPv6 /64 (one host
 * usually has a whole /64, so counting single IPv6 addresses would count nothing). Kept in memory or hashed;
 * never stored as is.
 */
export function clientKey(addr: string | undefined): string {
  if (addr === undefined) return 'unknown';
  if (isIPv4(addr)) return addr;
  const g = ipv6Groups(addr);
  if (g === null) return addr;
  const v4 = mappedV4(g);
  if (v4 !== null) return v4;
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}
