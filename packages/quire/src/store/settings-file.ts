/** Run-time settings kept in a file of the data directory (DATA/settings.json), cached by their stamp. */
import { Coalescer, readComplete, replaceFile, settled, stampAsync } from '@quire/fs';
import { stampsUnchanged } from './views.js';

/** Settings changed at run time through the admin API. */
export interface Settings {
  moderation?: 'off' | 'all';
}

function parseSettings(buf: Buffer | null): Settings {
  if (buf === null) return {};
  try {
    const v = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
    return v.moderation === 'off' || v.moderation === 'all' ? { moderation: v.moderation } : {};
  } catch {
    return {};
  }
}

/**
 * Run-time settings (DATA/settings.json), read again only when its stamp changes (replaceFile gives every
 * version a new inode), under the same rule as thread views. The stat runs on the threadpool: every request
 * that needs the moderation setting checks it, and the event loop must not wait for it (issue 13).
 */
export class SettingsFile {
  /** The settings as last read, with a stat of their file shared by concurrent requests (Coalescer: each begun
   * after the calls it answers, so a change another process made before a call is seen by it). */
  private cache: { settled: boolean; value: Settings; restat: Coalescer<boolean> } | undefined;

  constructor(
    private readonly file: string,
    private readonly durable: boolean,
  ) {}

  async get(): Promise<Settings> {
    const c = this.cache;
    if (c?.settled && (await c.restat.next())) return { ...c.value };
    const started = Date.now();
    const stamps = [await stampAsync(this.file)];
    const value = parseSettings(await readComplete(this.file));
    this.cache = {
      settled: settled(stamps, started),
      value,
      restat: new Coalescer(() => stampsUnchanged(stamps)),
    };
    return { ...value };
  }

  async save(s: Settings): Promise<void> {
    this.cache = undefined;
    await replaceFile(this.file, `${JSON.stringify(s, null, 2)}\n`, { durable: this.durable });
  }
}
