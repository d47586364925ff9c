import { PortError, type SourceItem } from './source.js';

/** The part of better-sqlite3 this module uses (loaded only for an Isso import). */
interface Statement {
  get(): unknown;
  iterate(): IterableIterator<Record<string, unknown>>;
}
interface Database {
  prepare(sql: string): Statement;
  close(): void;
}
type DatabaseClass = new (file: string, opts: { readonly: boolean; fileMustExist: boolean }) => Database;

const MODES: Readonly<Record<number, 'approved' | 'pending' | 'deleted'>> = {
  1: 'approved',
  2: 'pending',
  4: 'deleted',
};

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

async function openDb(file: string): Promise<Database> {
  let Db: DatabaseClass;
  try {
    // An optional dependency without types here: the interfaces above say what is used.
    const name = 'better-sqlite3';
    Db = ((await import(name)) as { default: DatabaseClass }).default;
  } catch {
    throw new PortError(
      'unsupported',
      'importing from Isso needs the better-sqlite3 package (npm install better-sqlite3@12)',
    );
  }
  try {
    const db = new Db(file, { readonly: true, fileMustExist: true });
    db.prepare('SELECT 1 FROM comments LIMIT 1').get();
    return db;
  } catch (err) {
    throw new PortError('malformed', `${file}: not an Isso database (${(err as Error).message})`);
  }
}

/**
 * Isso's SQLite database (read only, row by row): `threads` (id, uri: the page's path, title), then `comments`
 * (tid, id, parent, created and modified in epoch seconds, mode 1 public / 2 pending / 4 deleted, remote_addr,
 * text in Markdown, author, email, website, likes). Isso keeps paths, not addresses: --site gives the host.
 * Dislikes and the voters' bloom filter are not kept (likes are, as a count).
 */
export async function* readIsso(file: string): AsyncGenerator<SourceItem> {
  const db = await openDb(file);
  try {
    for (const t of db.prepare('SELECT id, uri, title FROM threads ORDER BY id').iterate()) {
      yield {
        kind: 'thread',
        thread: { key: String(t.id), url: String(t.uri ?? ''), title: str(t.title), created: null },
      };
    }
    const rows = db.prepare(
      'SELECT tid, id, parent, created, modified, mode, remote_addr, text, author, email, website, likes FROM comments ORDER BY id',
    );
    for (const c of rows.iterate()) {
      const where = `comment ${String(c.id)}`;
      const status = MODES[num(c.mode)];
      if (status === undefined) {
        yield { kind: 'bad', where, reason: `mode ${String(c.mode)} is unknown` };
        continue;
      }
      const modified = num(c.modified);
      yield {
        kind: 'comment',
        comment: {
          key: String(c.id),
          thread: String(c.tid),
          parent: c.parent === null || c.parent === undefined ? null : String(c.parent),
          author: str(c.author),
          email: str(c.email),
          website: str(c.website),
          text: typeof c.text === 'string' ? c.text : '',
          status,
          created: num(c.created) * 1000,
          edited: Number.isFinite(modified) ? modified * 1000 : null,
          address: str(c.remote_addr),
          likes: Math.max(0, Math.floor(num(c.likes)) || 0),
          where,
        },
      };
    }
  } catch (err) {
    if (err instanceof PortError) throw err;
    if ((err as { code?: string }).code?.startsWith('SQLITE_')) {
      throw new PortError('malformed', `${file}: ${(err as Error).message}`);
    }
    throw err;
  } finally {
    db.close();
  }
}
