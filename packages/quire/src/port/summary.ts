import type { CommentStatus } from '../store/records.js';

/** Skipped records listed one by one in a summary; past this, only counted by reason. */
const LISTED = 100;

/** What an import did, so far and in the end. */
export class Summary {
  /** Comments taken, by state (a dry run counts what it would write). */
  readonly byState: Record<CommentStatus, number> = { approved: 0, pending: 0, spam: 0, deleted: 0 };
  comments = 0;
  /** Written by this run. */
  created = 0;
  /** Found from an earlier run (a re-run, or a run after a crash). */
  existing = 0;
  /** Replies whose parent was missing, kept at top level. */
  orphans = 0;
  /** Deleted comments without replies: nothing to keep a tombstone for. */
  droppedDeleted = 0;
  readonly skippedByReason = new Map<string, number>();
  readonly skippedList: { where: string; reason: string }[] = [];
  skipped = 0;
  private readonly threadIds = new Set<string>();
  readonly startedAt = Date.now();

  count(state: CommentStatus): void {
    this.comments++;
    this.byState[state]++;
  }

  /** A thread the import wrote to (or would). */
  thread(threadId: string): void {
    this.threadIds.add(threadId);
  }

  note(threadId: string, outcome: 'created' | 'exists' | 'conflict'): void {
    this.threadIds.add(threadId);
    if (outcome === 'created') this.created++;
    else if (outcome === 'exists') this.existing++;
  }

  skip(where: string, reason: string): void {
    this.skipped++;
    // Reasons that name a value are grouped by their first words.
    const group = reason.replace(/ ".*$| [0-9a-f-]{8,}.*$/i, '');
    this.skippedByReason.set(group, (this.skippedByReason.get(group) ?? 0) + 1);
    if (this.skippedList.length < LISTED) this.skippedList.push({ where, reason });
  }

  get threads(): number {
    return this.threadIds.size;
  }

  /** Comments per second since the start. */
  rate(now = Date.now()): number {
    return this.comments / Math.max((now - this.startedAt) / 1000, 0.001);
  }

  toJSON(): object {
    return {
      threads: this.threads,
      comments: this.comments,
      byState: this.byState,
      created: this.created,
      existing: this.existing,
      orphans: this.orphans,
      droppedDeleted: this.droppedDeleted,
      skipped: this.skipped,
      skippedByReason: Object.fromEntries(this.skippedByReason),
      skippedRecords: this.skippedList,
    };
  }

  /** The final report, for people. */
  text(dryRun: boolean): string {
    const s = this.byState;
    const lines = [
      `${dryRun ? 'would import' : 'imported'} ${this.comments} comments in ${this.threads} threads: ` +
        `${s.approved} public, ${s.pending} pending, ${s.spam} spam, ${s.deleted} deleted (tombstones)`,
      `${this.created} written now, ${this.existing} already there from an earlier run`,
      `${this.orphans} replies without their parent kept at top level; ` +
        `${this.droppedDeleted} deleted comments without replies left out`,
      `${this.skipped} records skipped${this.skipped === 0 ? '' : ':'}`,
    ];
    for (const { where, reason } of this.skippedList) lines.push(`  ${where}: ${reason}`);
    if (this.skipped > this.skippedList.length) {
      lines.push(`  ... and ${this.skipped - this.skippedList.length} more`);
      for (const [r, n] of this.skippedByReason) lines.push(`  ${n} × ${r}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
