/** Where a line went: the record written, and the line's place in it (0 for the first). */
export interface LinePlace {
  id: string;
  index: number;
}

interface Waiting {
  line: string;
  resolve: (place: LinePlace) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for small records: lines added while a record is being written go together into the next one, up
 * to `max` lines a record. Alone, a line is written at once (or after `gatherMs`), as a record of its own; under
 * load, N concurrent adds cost about N / max records (one publish, one fsync each on a durable spool) instead of
 * N. Each add resolves once its record is written (rejects if that write fails), so a caller that awaits it knows
 * its line is as durable as the writer makes records.
 */
export class LineBatcher {
  private readonly queued: Waiting[] = [];
  private writing: Promise<void> | undefined;
  private gathering: NodeJS.Timeout | undefined;

  /**
   * `write(body)`: writes one record holding `body` (whole lines, each ending in `\n`) and gives its id.
   * `gatherMs`: how long a line that finds no write under way waits for others to share its record; for lines
   * nobody awaits (derived data), so that requests one at a time do not cost a record each. 0: none.
   */
  constructor(
    private readonly write: (body: string) => Promise<string>,
    private readonly max = 64,
    private readonly gatherMs = 0,
  ) {}

  /** Appends `line` (no newline of its own) to the next record. */
  add(line: string): Promise<LinePlace> {
    return new Promise<LinePlace>((resolve, reject) => {
      this.queued.push({ line, resolve, reject });
      if (this.writing !== undefined) return;
      if (this.gatherMs === 0 || this.queued.length >= this.max) this.start();
      else this.gathering ??= setTimeout(() => this.start(), this.gatherMs);
    });
  }

  /** Resolves once every line added before the call is written (or failed); lines still gathering go now. */
  async idle(): Promise<void> {
    if (this.gathering !== undefined) this.start();
    await this.writing;
  }

  private start(): void {
    clearTimeout(this.gathering);
    this.gathering = undefined;
    this.writing ??= this.writeQueued();
  }

  private async writeQueued(): Promise<void> {
    while (this.queued.length > 0) {
      const batch = this.queued.splice(0, this.max);
      try {
        const id = await this.write(batch.map((w) => `${w.line}\n`).join(''));
        for (const [index, w] of batch.entries()) w.resolve({ id, index });
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.writing = undefined;
  }
}

/** The lines of a record written by a LineBatcher, empty ones left out. */
export function linesOf(body: Buffer | string): string[] {
  return body
    .toString()
    .split('\n')
    .filter((l) => l !== '');
}
