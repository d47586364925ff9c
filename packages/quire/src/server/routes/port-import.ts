import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IMPORT_FORMATS, type ImportFormat, PortError } from '../../port/source.js';
import type { Summary } from '../../port/summary.js';
import type { ServerContext } from '../context.js';
import { ProblemError } from '../problem.js';

/** The largest upload an import takes: a Disqus export of a busy site is a few hundred MB. */
export const MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;

/** What GET /api/admin/import tells: the import running now, or the last one. */
export interface ImportState {
  status: 'idle' | 'running' | 'done' | 'failed';
  format: ImportFormat | null;
  summary: object | null;
  error: string | null;
}

/** The body, copied to `file`, refused (413) past MAX_UPLOAD_BYTES: the upload never sits in memory. */
async function saveUpload(body: Readable, file: string): Promise<void> {
  let bytes = 0;
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > MAX_UPLOAD_BYTES) {
      body.destroy(
        new ProblemError(413, 'upload-too-large', `an import file is at most ${MAX_UPLOAD_BYTES} bytes`),
      );
    }
  });
  await pipeline(body, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
}

/**
 * Imports from the admin API: one at a time per process (a second is 409 'import-running'), the upload saved to
 * a private temp file, imported as `quire import` would (same keys: the CLI and the API can resume each other),
 * then removed. `state` is what GET /api/admin/import reports, progress included.
 */
export class AdminImports {
  state: ImportState = { status: 'idle', format: null, summary: null, error: null };
  private live: Summary | null = null;

  constructor(private readonly ctx: ServerContext) {}

  /** The state, with the running import's counts so far. */
  current(): ImportState {
    return this.live === null ? this.state : { ...this.state, summary: this.live.toJSON() };
  }

  async run(body: Readable, format: string, site: string | undefined, dryRun: boolean): Promise<ImportState> {
    if (!(IMPORT_FORMATS as readonly string[]).includes(format)) {
      throw new ProblemError(400, 'invalid-request', `format must be one of ${IMPORT_FORMATS.join(', ')}`);
    }
    if (this.state.status === 'running')
      throw new ProblemError(409, 'import-running', 'an import is running');
    const f = format as ImportFormat;
    this.state = { status: 'running', format: f, summary: null, error: null };
    const dir = await mkdtemp(path.join(os.tmpdir(), 'quire-import-'));
    try {
      const file = path.join(dir, 'upload');
      await saveUpload(body, file);
      const { config, store } = this.ctx;
      // Loaded on the first import: the readers bring an XML parser (saxes) no other route needs.
      const [{ Importer }, { READERS }] = await Promise.all([
        import('../../port/importer.js'),
        import('../../port/readers.js'),
      ]);
      const importer = new Importer(store, {
        format: f,
        ...(site === undefined ? {} : { site }),
        dryRun,
        uri: config.uri,
        uriChars: config.limits.uriChars,
        textChars: config.limits.textChars,
      });
      this.live = importer.summary;
      const summary = await importer.run(READERS[f](file));
      this.state = { status: 'done', format: f, summary: summary.toJSON(), error: null };
      return this.state;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.state = { status: 'failed', format: f, summary: this.live?.toJSON() ?? null, error: message };
      if (err instanceof ProblemError) throw err;
      if (err instanceof PortError) throw new ProblemError(422, 'import-malformed', message);
      throw err;
    } finally {
      this.live = null;
      await rm(dir, { recursive: true, force: true });
    }
  }
}
