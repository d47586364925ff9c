/**
 * The admin page's import form (issue 14): a format and a file, uploaded as the body of POST /api/admin/import
 * (application/octet-stream, the session's CSRF token as on every action); while it runs, GET /api/admin/import
 * every second shows the counts so far; at the end, the summary.
 */
import { CSRF_HEADER, explain, session } from './admin-session.js';
import { ApiError, isProblem, NetworkError } from './api.js';
import { h } from './dom.js';

const FORMATS: [string, string][] = [
  ['disqus', 'Disqus (XML export)'],
  ['wordpress', 'WordPress (WXR)'],
  ['isso', 'Isso (SQLite database)'],
  ['remark42', 'Remark42 (backup, gzip)'],
  ['quire', 'quire (our own export)'],
];
const POLL_MS = 1000;

interface Counts {
  threads: number;
  comments: number;
  byState: { approved: number; pending: number; spam: number; deleted: number };
  created: number;
  existing: number;
  orphans: number;
  skipped: number;
}
interface ImportState {
  status: 'idle' | 'running' | 'done' | 'failed';
  summary: Counts | null;
  error: string | null;
}

/** One line of counts, the same words as `quire import`'s summary. */
export function describe(s: Counts): string {
  const b = s.byState;
  return (
    `${s.comments} comments in ${s.threads} threads: ${b.approved} public, ${b.pending} pending, ${b.spam} spam, ` +
    `${b.deleted} deleted; ${s.created} written now, ${s.existing} already there; ${s.orphans} replies ` +
    `without their parent kept at top level; ${s.skipped} skipped.`
  );
}

async function upload(format: string, file: File): Promise<ImportState> {
  let res: Response;
  try {
    res = await fetch(`/api/admin/import?format=${encodeURIComponent(format)}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        'content-type': 'application/octet-stream',
        [CSRF_HEADER]: session.csrf,
      },
      body: file,
    });
  } catch {
    throw new NetworkError('unreachable');
  }
  const data: unknown = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, isProblem(data) ? data : null);
  return data as ImportState;
}

/** The form, in a section of its own. */
export function importSection(): HTMLElement {
  const format = h(
    'select',
    { id: 'quire-import-format', name: 'format' },
    ...FORMATS.map(([v, label]) => h('option', { value: v }, label)),
  );
  const file = h('input', { id: 'quire-import-file', type: 'file', name: 'file', required: true });
  const submit = h('button', { type: 'submit' }, 'Import');
  const progress = h('p', { class: 'status', role: 'status', id: 'quire-import-progress' });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'import', 'aria-labelledby': 'quire-import-h' },
    h('h2', { id: 'quire-import-h' }, 'Import comments'),
    h('label', { for: 'quire-import-format' }, 'Format'),
    format,
    h('label', { for: 'quire-import-file' }, 'File'),
    file,
    submit,
    progress,
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const chosen = file.files?.[0];
    if (chosen === undefined) return;
    submit.disabled = true;
    error.textContent = '';
    progress.textContent = `Uploading ${chosen.name}…`;
    let finished = false;
    const poll = async () => {
      if (finished) return;
      try {
        const res = await fetch('/api/admin/import', { credentials: 'same-origin' });
        const s = (await res.json()) as ImportState;
        if (!finished && s.status === 'running' && s.summary !== null)
          progress.textContent = `Importing: ${describe(s.summary)}`;
      } catch {
        // the next poll, or the upload's answer, tells
      }
      if (!finished) setTimeout(poll, POLL_MS);
    };
    setTimeout(poll, POLL_MS);
    try {
      const s = await upload(format.value, chosen);
      progress.textContent = s.summary === null ? 'Imported.' : `Imported ${describe(s.summary)}`;
    } catch (err) {
      progress.textContent = '';
      error.textContent = `Import failed: ${explain(err)}`;
    } finally {
      finished = true;
      submit.disabled = false;
    }
  });
  return h('section', null, form);
}
