import { KEY, readStemKey, stemOfKey } from './stem-keys.js';
import { RECORD_SUFFIX } from './threads.js';

/** Bytes a name costs: two doubles (a record's stem); other names are strings besides. */
const NAME_BYTES = 16;

/**
 * A thread directory's names as one load listed them, in the order listed, kept to compare the next listing with
 * (index-marks.ts). A record's name (`<stem>.json`) is held as its stem's two numbers (16 bytes, stem-keys.ts),
 * other names (dot names, temps) as strings: a listing of 50,000 names was 2.8 MB of strings, this is 0.8.
 */
export class NameList {
  private readonly time: Float64Array;
  private readonly seq: Float64Array;
  private readonly others = new Map<number, string>();

  private constructor(readonly length: number) {
    this.time = new Float64Array(length);
    this.seq = new Float64Array(length);
  }

  static of(names: readonly string[] | NameList): NameList {
    if (names instanceof NameList) return names;
    const list = new NameList(names.length);
    for (let i = 0; i < names.length; i++) {
      const n = names[i] as string;
      if (!n.endsWith(RECORD_SUFFIX) || !readStemKey(n, n.length - RECORD_SUFFIX.length))
        list.others.set(i, n);
      else {
        list.time[i] = KEY[0] as number;
        list.seq[i] = KEY[1] as number;
      }
    }
    return list;
  }

  get bytes(): number {
    return this.length * NAME_BYTES + this.others.size * 64;
  }

  /** What NameList.of(names).bytes would be, without making it (a listing not kept is never made one). */
  static bytesOf(names: readonly string[] | NameList): number {
    if (names instanceof NameList) return names.bytes;
    let others = 0;
    for (let i = 0; i < names.length; i++) {
      const n = names[i] as string;
      if (!n.endsWith(RECORD_SUFFIX) || !readStemKey(n, n.length - RECORD_SUFFIX.length)) others++;
    }
    return names.length * NAME_BYTES + others * 64;
  }

  /** The i-th name. */
  at(i: number): string {
    return (
      this.others.get(i) ?? `${stemOfKey(this.time[i] as number, this.seq[i] as number)}${RECORD_SUFFIX}`
    );
  }

  /** Whether the i-th name is a dot name (the store's own, or a writer's temp). */
  isDot(i: number): boolean {
    return this.others.get(i)?.startsWith('.') === true;
  }

  /** Whether the i-th name is `name` (no string made for a record's name). */
  is(i: number, name: string): boolean {
    const other = this.others.get(i);
    if (other !== undefined) return other === name;
    if (!name.endsWith(RECORD_SUFFIX)) return false;
    return (
      readStemKey(name, name.length - RECORD_SUFFIX.length) &&
      KEY[0] === this.time[i] &&
      KEY[1] === this.seq[i]
    );
  }
}
