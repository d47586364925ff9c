/**
 * A least-recently-used cache bounded by bytes: each entry is put with its (estimated) size, and the oldest are
 * dropped while the sum is over the budget. The memory a cache of the service may hold is a setting
 * (config `cache`), not "everything ever read": whatever the site's size, the caches together stay within it.
 */
export class ByteLru<K, V> {
  /** Least recently used first (a Map keeps insertion order; a hit is moved to the end). */
  private readonly entries = new Map<K, { value: V; bytes: number }>();
  private total = 0;

  /** `budget`: the most bytes kept; an entry bigger than the whole budget is not kept at all. */
  constructor(readonly budget: number) {}

  /** Bytes held now (never more than the budget). */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  /** Looks without making the entry recent. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Whether an entry of `bytes` would be kept (not bigger than the whole budget). */
  fits(bytes: number): boolean {
    return bytes <= this.budget;
  }

  set(key: K, value: V, bytes: number): void {
    this.delete(key);
    if (!this.fits(bytes)) return;
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    for (const [k, e] of this.entries) {
      if (this.total <= this.budget) break;
      this.entries.delete(k);
      this.total -= e.bytes;
    }
  }

  delete(key: K): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    this.entries.delete(key);
    this.total -= e.bytes;
  }

  /** Drops every entry whose key `drop` accepts. */
  deleteWhere(drop: (key: K) => boolean): void {
    for (const k of [...this.entries.keys()]) if (drop(k)) this.delete(k);
  }
}
