/**
 * Every string the widget shows, in one place. The language is the page's `<html lang>` (or the thread
 * element's `data-lang`); languages other than these fall back to English. To add one, copy `en`.
 */

const en = {
  lang: 'en',
  heading: 'Comments',
  count: (n: number) => (n === 0 ? 'No comments yet' : n === 1 ? '1 comment' : `${n} comments`),
  loading: 'Loading comments…',
  loadFailed: 'The comments could not be loaded.',
  retry: 'Try again',
  more: 'Show more comments',
  newComment: 'Write a comment',
  name: 'Name',
  email: 'E-mail',
  website: 'Website',
  optional: '(optional)',
  emailNote: '(optional, never shown)',
  emailNeeded: '(needed for reply mail, never shown)',
  notify: 'Notify me of replies by e-mail',
  sortBy: 'Sort',
  sortOldest: 'Oldest first',
  sortNewest: 'Newest first',
  sortLiked: 'Most liked',
  text: 'Comment',
  hint: 'Markdown works: *italic*, **bold**, [link](https://…), `code`. Ctrl+Enter posts.',
  honeypot: 'Leave this field empty',
  post: 'Post comment',
  posting: 'Posting…',
  preview: 'Preview',
  write: 'Write',
  previewEmpty: 'Nothing to preview yet.',
  previewOf: 'Preview of your comment',
  cancel: 'Cancel',
  save: 'Save',
  saving: 'Saving…',
  reply: 'Reply',
  postReply: 'Post reply',
  replyTo: (name: string) => `Reply to ${name}`,
  edit: 'Edit',
  delete: 'Delete',
  confirmDelete: 'Delete this comment for good?',
  confirmYes: 'Yes, delete',
  confirmNo: 'Keep it',
  like: (n: number) => `Like (${n === 1 ? '1 like' : `${n} likes`})`,
  anonymous: 'Anonymous',
  edited: 'edited',
  pending: 'Awaiting moderation: only you can see this comment until it is approved.',
  deletedComment: 'This comment was deleted.',
  editUntil: (when: string) => `You can edit or delete it until ${when}.`,
  posted: 'Your comment was posted.',
  postedPending: 'Your comment was received and awaits moderation.',
  saved: 'Your changes were saved.',
  removed: 'Your comment was deleted.',
  unreachable: 'The comment server cannot be reached. Your text is still here; please try again.',
  refused: 'The comment server refused this:',
  tooMany: 'Too many requests.',
  serverError: 'The comment server ran into a problem. Your text is still here; please try again later.',
  windowClosed: 'The time to edit or delete this comment is over.',
};

export type Strings = typeof en;

const de: Strings = {
  lang: 'de',
  heading: 'Kommentare',
  count: (n) => (n === 0 ? 'Noch keine Kommentare' : n === 1 ? '1 Kommentar' : `${n} Kommentare`),
  loading: 'Kommentare werden geladen …',
  loadFailed: 'Die Kommentare konnten nicht geladen werden.',
  retry: 'Erneut versuchen',
  more: 'Weitere Kommentare zeigen',
  newComment: 'Kommentar schreiben',
  name: 'Name',
  email: 'E-Mail',
  website: 'Website',
  optional: '(optional)',
  emailNote: '(optional, wird nie angezeigt)',
  emailNeeded: '(nötig für Antworten per E-Mail, wird nie angezeigt)',
  notify: 'Bei Antworten per E-Mail benachrichtigen',
  sortBy: 'Sortierung',
  sortOldest: 'Älteste zuerst',
  sortNewest: 'Neueste zuerst',
  sortLiked: 'Beliebteste zuerst',
  text: 'Kommentar',
  hint: 'Markdown geht: *kursiv*, **fett**, [Link](https://…), `Code`. Strg+Enter sendet.',
  honeypot: 'Dieses Feld bitte leer lassen',
  post: 'Kommentar senden',
  posting: 'Wird gesendet …',
  preview: 'Vorschau',
  write: 'Schreiben',
  previewEmpty: 'Noch nichts für die Vorschau.',
  previewOf: 'Vorschau Ihres Kommentars',
  cancel: 'Abbrechen',
  save: 'Speichern',
  saving: 'Wird gespeichert …',
  reply: 'Antworten',
  postReply: 'Antwort senden',
  replyTo: (name) => `Antwort an ${name}`,
  edit: 'Bearbeiten',
  delete: 'Löschen',
  confirmDelete: 'Diesen Kommentar endgültig löschen?',
  confirmYes: 'Ja, löschen',
  confirmNo: 'Behalten',
  like: (n) => `Gefällt mir (${n})`,
  anonymous: 'Anonym',
  edited: 'bearbeitet',
  pending: 'Wartet auf Freigabe: nur Sie sehen diesen Kommentar, bis er freigegeben ist.',
  deletedComment: 'Dieser Kommentar wurde gelöscht.',
  editUntil: (when) => `Sie können ihn bis ${when} bearbeiten oder löschen.`,
  posted: 'Ihr Kommentar wurde veröffentlicht.',
  postedPending: 'Ihr Kommentar ist angekommen und wartet auf Freigabe.',
  saved: 'Ihre Änderungen wurden gespeichert.',
  removed: 'Ihr Kommentar wurde gelöscht.',
  unreachable:
    'Der Kommentar-Server ist nicht erreichbar. Ihr Text ist noch da; bitte versuchen Sie es erneut.',
  refused: 'Der Kommentar-Server hat das abgelehnt:',
  tooMany: 'Zu viele Anfragen.',
  serverError:
    'Der Kommentar-Server hatte ein Problem. Ihr Text ist noch da; bitte versuchen Sie es später erneut.',
  windowClosed: 'Die Zeit zum Bearbeiten oder Löschen dieses Kommentars ist abgelaufen.',
};

const LANGUAGES: Record<string, Strings> = { en, de };

/** The strings for a BCP 47 tag such as `de-AT`: its primary language if there are strings for it, else English. */
export function strings(tag: string | null | undefined): Strings {
  const primary = (tag ?? '').trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return LANGUAGES[primary] ?? en;
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
];

/** "5 minutes ago", "yesterday", "vor 5 Minuten"; anything under a minute (or in the future) is "now". */
export function relativeTime(s: Strings, iso: string, now: number): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(s.lang, { numeric: 'auto' });
  for (const [unit, size] of UNITS) {
    if (-seconds >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return rtf.format(0, 'second');
}

/** The full date and time in the page's language, for tooltips. */
export function absoluteTime(s: Strings, iso: string): string {
  return new Date(iso).toLocaleString(s.lang, { dateStyle: 'long', timeStyle: 'short' });
}
