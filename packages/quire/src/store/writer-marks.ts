import { hostId, isProcessAlive, stampAsync } from '@quire/fs';

/**
 * How old another host's mark must be to count as its writer's: a writer that lives refreshes or removes its mark
 * well within this (a pid of another host, or of an earlier boot of this one, cannot be asked).
 */
export const FOREIGN_MARK_MS = 3_600_000;

/**
 * Whether the writer that left the mark `file`, named by its `host` (hostId()) and `pid`, is gone: on this host,
 * when no process has its pid (a recycled pid looks alive: the mark waits for that one too); of another host or
 * an earlier boot, when the mark is older than FOREIGN_MARK_MS. Used by the status index's per-write marks and the
 * recent-comments index's per-process ones.
 */
export async function writerGone(file: string, host: string, pid: number): Promise<boolean> {
  if (host === hostId()) return pid !== process.pid && !isProcessAlive(pid);
  const st = (await stampAsync(file)).st;
  return st != null && Date.now() - Number(st.mtimeMs) > FOREIGN_MARK_MS;
}
