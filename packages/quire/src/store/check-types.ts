import type { CheckIssue } from '@quire/fs';

/** What fsck can find. */
export type DataProblem =
  | 'not-a-data-dir'
  | 'missing'
  | 'unparsable'
  | 'incomplete'
  | 'secret-size'
  | 'secret-mode'
  | 'missing-parent'
  | 'empty-thread'
  | 'orphan-vote'
  | 'stray'
  | 'unknown'
  | 'quarantined'
  | CheckIssue['problem'];

/** One thing found; `path` is relative to the data directory. */
export interface DataIssue {
  path: string;
  problem: DataProblem;
  detail: string;
  repaired: boolean;
}

/** What checkDataDir found. */
export interface DataReport {
  dataDir: string;
  threads: number;
  comments: number;
  votes: number;
  issues: DataIssue[];
  /** True when every issue is repaired or only informative (a live writer's temp, a quarantined file, a name fsck does not know). */
  clean: boolean;
}

/** Options of checkDataDir. */
export interface DataCheckOptions {
  /**
   * Remove dead writers' temps, move unparsable comment files aside, and write every thread's index afresh from
   * its comment files (derived data, thread-index.ts). Never removes a record or a vote.
   */
  repair?: boolean;
  /** Called with the number of threads checked so far, every 1,000 threads. */
  onProgress?: (threads: number) => void;
}
