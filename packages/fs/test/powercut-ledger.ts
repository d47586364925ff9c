/**
 * The check after a cut: the writers' logs (what was begun, what was acknowledged before the cut) against the
 * replayed spool, then repair and the retry of every keyed append.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isTempName, type Spool } from '@quire/fs';
import { readStamped } from '@quire/testkit';
import { sha256, unseal } from './helpers.js';
import { keyedHeader, keyOf, payload, versionOf } from './powercut-payloads.js';

interface Ack {
  id: string;
  sha: string;
  what: string;
}

interface KeyedOp {
  writer: number;
  seq: number;
  size: number;
  sha: string;
  acked?: string;
}

/** What the writers' logs say was begun and acknowledged, and the findings of the check. */
export class Ledger {
  acked = 0;
  /** Acknowledgements stamped after the cut began, not counted (see read()). */
  late = 0;
  /** Acknowledged appends and keyed appends. */
  readonly acks: Ack[] = [];
  /** sha256 of every payload a writer was about to append (plain or keyed). */
  readonly begun = new Set<string>();
  readonly keyed = new Map<string, KeyedOp>();
  /** Per update target: the last acknowledged version, and every version begun after it (version -> shas). */
  readonly lastAcked = new Map<string, { v: number; sha: string }>();
  readonly updBegun = new Map<string, Map<number, Set<string>>>();
  readonly errors: Record<string, number> = {};
  readonly findings: string[] = [];

  constructor(targets: Map<string, string>) {
    for (const [id, sha] of targets) {
      this.lastAcked.set(id, { v: 0, sha });
      this.updBegun.set(id, new Map());
    }
  }

  /**
   * Reads one writer's log (readStamped). Only acknowledgements stamped before `cutAt` (the moment just before
   * the shutdown was asked for) count; later ones are treated as operations in flight at the cut.
   */
  read(writer: number, text: string, cutAt: bigint): void {
    for (const { before, fields: f, line } of readStamped(text, cutAt)) {
      const [op, a = '', b = '', c = ''] = f;
      if (!before && (op === 'A' || op === 'K' || op === 'R' || op === 'U')) {
        this.late++;
        continue;
      }
      switch (op) {
        case 'a':
          this.begun.add(b);
          break;
        case 'A':
          this.acked++;
          this.acks.push({ id: a, sha: b, what: `append by writer ${writer}` });
          break;
        case 'k':
          this.begun.add(c);
          this.keyed.set(`${writer}:${a}`, { writer, seq: Number(a), size: Number(b), sha: c });
          break;
        case 'K': {
          this.acked++;
          this.acks.push({ id: b, sha: c, what: `keyed append ${keyOf(writer, Number(a))}` });
          const k = this.keyed.get(`${writer}:${a}`);
          if (k) k.acked = b;
          else this.findings.push(`other: writer ${writer} acknowledged keyed seq ${a} it never began`);
          break;
        }
        case 'R':
          this.acked++;
          break;
        case 'u': {
          const versions = this.updBegun.get(a);
          if (!versions) {
            this.findings.push(`other: writer ${writer} updated ${a}, not a target`);
            break;
          }
          const v = Number(b);
          const shas = versions.get(v) ?? new Set();
          if (shas.size > 0 && before) {
            this.findings.push(
              `other: two updates of ${a} both began version ${v}: the record lock let both in`,
            );
          }
          versions.set(v, shas.add(c));
          break;
        }
        case 'U': {
          this.acked++;
          const v = Number(b);
          const last = this.lastAcked.get(a);
          if (last && v > last.v) this.lastAcked.set(a, { v, sha: c });
          break;
        }
        case 'E':
          this.errors[b] = (this.errors[b] ?? 0) + 1;
          if (before)
            this.findings.push(`other: writer ${writer} failed before the cut: ${f.slice(1).join(' ')}`);
          break;
        case 'X':
          // A live reader cannot exist after a real power cut: what a writer saw after the shutdown is noted only.
          this.findings.push(
            `${before ? 'other' : 'late'}: writer ${writer} saw${before ? '' : ' after the cut'}: ${f.slice(1).join(' ')}`,
          );
          break;
        default:
          this.findings.push(`other: writer ${writer} logged ${JSON.stringify(line)}`);
      }
    }
  }
}

/** Checks the replayed spool against the ledger, before any repair. */
export async function verify(spool: Spool, ledger: Ledger): Promise<{ lost: number; partial: number }> {
  let lost = 0;
  let partial = 0;
  const f = ledger.findings;
  const content = new Map<string, { sha: string; whole: boolean; bytes: number }>();
  const holders = new Map<string, string[]>();
  for (const id of await spool.ids()) {
    const buf = await spool.get(id);
    if (buf === null) {
      f.push(`other: ${id} is listed but cannot be read`);
      continue;
    }
    const whole = unseal(buf) !== null;
    const sha = sha256(buf);
    content.set(id, { sha, whole, bytes: buf.length });
    holders.set(sha, [...(holders.get(sha) ?? []), id]);
    if (!whole) {
      partial++;
      f.push(`partial: ${id} holds ${buf.length} bytes that do not verify`);
    }
  }

  for (const a of ledger.acks) {
    const c = content.get(a.id);
    if (c === undefined) {
      lost++;
      f.push(`lost: ${a.id} (${a.what}, acknowledged) is missing`);
    } else if (c.sha !== a.sha && c.whole) {
      lost++;
      f.push(`lost: ${a.id} (${a.what}, acknowledged) holds other content`);
    }
  }

  for (const [id, last] of ledger.lastAcked) {
    const c = content.get(id);
    if (c === undefined) {
      lost++;
      f.push(`lost: update target ${id} (last acknowledged v${last.v}) is missing`);
      continue;
    }
    if (!c.whole) continue; // counted as partial above
    const body = unseal((await spool.get(id)) as Buffer) as Buffer;
    const v = versionOf(body);
    if (v === null) {
      f.push(`other: update target ${id} holds a record without a version`);
    } else if (v < last.v) {
      lost++;
      f.push(`lost: update target ${id} holds v${v}, but v${last.v} was acknowledged`);
    } else if (v === last.v ? c.sha !== last.sha : !ledger.updBegun.get(id)?.get(v)?.has(c.sha)) {
      f.push(`other: update target ${id} holds a v${v} that no writer was writing`);
    }
  }

  for (const [sha, ids] of holders) {
    if (ids.length > 1) f.push(`other: ${ids.join(', ')} hold the same content: a duplicate`);
    for (const id of ids) {
      if (!ledger.lastAcked.has(id) && !ledger.begun.has(sha) && content.get(id)?.whole) {
        f.push(`other: ${id} holds a record that no writer was appending`);
      }
    }
  }
  return { lost, partial };
}

/**
 * check({ repair: true }), which must leave check() clean; then every keyed append is retried and must return
 * the one record that holds its data. Returns how many issues the repair fixed.
 */
export async function repairAndRetry(spool: Spool, ledger: Ledger): Promise<number> {
  const f = ledger.findings;
  const report = await spool.check({ repair: true });
  for (const i of report.issues) {
    if (!i.repaired && i.problem !== 'live-temp') {
      f.push(`other: check({ repair: true }) left ${i.problem} ${i.name}: ${i.detail}`);
    }
  }
  const after = await spool.check();
  if (!after.clean || after.issues.length > 0) {
    f.push(`other: check() after repair: ${JSON.stringify(after.issues)}`);
  }
  f.push(...leftovers(spool.dir));

  const before = new Set(await spool.ids());
  for (const k of ledger.keyed.values()) {
    const data = payload(keyedHeader(k.writer, k.seq), k.size);
    if (sha256(data) !== k.sha) {
      f.push(`other: keyed ${keyOf(k.writer, k.seq)}: the payload does not rebuild`);
      continue;
    }
    const r = await spool.append(data, { key: keyOf(k.writer, k.seq) });
    const what = `retry of keyed ${keyOf(k.writer, k.seq)} after the cut`;
    if (k.acked !== undefined && (r.id !== k.acked || r.created)) {
      f.push(`other: ${what} returned ${JSON.stringify(r)}, not the acknowledged ${k.acked}`);
    } else if (!r.created && !before.has(r.id)) {
      f.push(`other: ${what} returned created: false and ${r.id}, which did not exist`);
    }
  }
  if (ledger.keyed.size > 0) {
    const holders = new Map<string, string[]>();
    for (const id of await spool.ids()) {
      const sha = sha256((await spool.get(id)) ?? Buffer.alloc(0));
      holders.set(sha, [...(holders.get(sha) ?? []), id]);
    }
    for (const k of ledger.keyed.values()) {
      const ids = holders.get(k.sha) ?? [];
      if (ids.length !== 1) {
        f.push(`other: after retrying keyed ${keyOf(k.writer, k.seq)}, ${ids.length} records hold its data`);
      }
    }
    const last = await spool.check();
    if (!last.clean) f.push(`other: check() after the keyed retries: ${JSON.stringify(last.issues)}`);
  }
  return report.issues.filter((i) => i.repaired).length;
}

/**
 * What a clean spool must not hold, looked for in the directory itself rather than taken from check(): temps
 * (every writer is dead by now) in the spool or in .keys/, and key id files left empty by the cut (an id
 * is written without fsync; as a symlink it is made whole or not at all, but an earlier version's file could
 * keep its name and lose its content).
 */
function leftovers(dir: string): string[] {
  const out: string[] = [];
  for (const sub of ['', '.keys']) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(dir, sub));
    } catch {
      continue;
    }
    for (const name of names) {
      const rel = path.join(sub, name);
      if (isTempName(name)) {
        out.push(`unclean: temp: check({ repair: true }) left the dead writer's temp ${rel}, unreported`);
      } else if (sub === '.keys' && name.endsWith('.id') && fs.lstatSync(path.join(dir, rel)).size === 0) {
        // lstat: an id is a symlink (its size the target's length), or an earlier version's file.
        out.push(`unclean: empty id: ${rel} is empty after check({ repair: true }), unreported`);
      }
    }
  }
  return out;
}
