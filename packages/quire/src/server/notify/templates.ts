/** The words of the mail, English and German (as the widget's i18n.ts), and the mail built from them. */

export type Language = 'en' | 'de';

const WORDS = {
  en: {
    newComment: 'New comment',
    pendingComment: 'Comment awaiting approval',
    on: 'on',
    by: 'by',
    anonymous: 'Anonymous',
    approve: 'Approve',
    delete: 'Delete',
    spam: 'Mark as spam',
    linksExpire: 'These links work once each and expire',
    reply: 'replied to your comment on',
    yourComment: 'Your comment',
    view: 'View the conversation',
    unsubscribe: 'Unsubscribe from reply notifications',
    why: 'You get this mail because you asked to be notified of replies.',
    test: 'Test mail',
    testBody: 'This is a test mail from quire. If you read it, mail works.',
  },
  de: {
    newComment: 'Neuer Kommentar',
    pendingComment: 'Kommentar wartet auf Freigabe',
    on: 'zu',
    by: 'von',
    anonymous: 'Anonym',
    approve: 'Freigeben',
    delete: 'Löschen',
    spam: 'Als Spam markieren',
    linksExpire: 'Jeder Link funktioniert einmal und läuft ab am',
    reply: 'hat auf Ihren Kommentar geantwortet zu',
    yourComment: 'Ihr Kommentar',
    view: 'Zur Unterhaltung',
    unsubscribe: 'Keine Benachrichtigungen über Antworten mehr',
    why: 'Sie erhalten diese Mail, weil Sie um Benachrichtigung über Antworten gebeten haben.',
    test: 'Testmail',
    testBody: 'Dies ist eine Testmail von quire. Wenn Sie sie lesen, funktioniert der Mailversand.',
  },
} as const;

const ESCAPES: Record<string, string> = {
  '"': '&quot;',
  '&': '&amp;',
  "'": '&#39;',
  '<': '&lt;',
  '>': '&gt;',
};

/** Text made safe for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/["&'<>]/g, (c) => ESCAPES[c] ?? c);
}

/** A rendered mail: subject, plain text and HTML. */
export interface MailBody {
  subject: string;
  text: string;
  html: string;
}

/** What both comment mails show of the comment. */
export interface CommentShown {
  author: string | null;
  /** The Markdown source, shown as is in the plain text. */
  text: string;
  /** The server's rendering of it (sanitised, as the widget shows it). */
  html: string;
  pageTitle: string | null;
  pageUrl: string;
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`;
}

function heading(lang: Language, c: CommentShown): { line: string; html: string } {
  const w = WORDS[lang];
  const title = c.pageTitle ?? c.pageUrl;
  const author = c.author ?? w.anonymous;
  return {
    line: `${w.by} ${author} ${w.on} ${title}`,
    html: `<p>${w.by} <b>${escapeHtml(author)}</b> ${w.on} <a href="${escapeHtml(c.pageUrl)}">${escapeHtml(title)}</a></p>`,
  };
}

/** The moderators' mail about a new comment, with its one-click links (absent ones are not offered). */
export function moderatorMail(
  lang: Language,
  site: string,
  c: CommentShown,
  pending: boolean,
  links: { approve?: string; delete: string; spam: string; expires: string },
): MailBody {
  const w = WORDS[lang];
  const what = pending ? w.pendingComment : w.newComment;
  const h = heading(lang, c);
  const actions: [string, string][] = [
    ...(links.approve === undefined ? [] : [[w.approve, links.approve] as [string, string]]),
    [w.delete, links.delete],
    [w.spam, links.spam],
  ];
  const text = [
    `${what} ${h.line}`,
    c.pageUrl,
    '',
    c.text,
    '',
    ...actions.map(([label, url]) => `${label}: ${url}`),
    '',
    `${w.linksExpire} ${links.expires}.`,
  ].join('\n');
  const html = page(
    what,
    `<h3>${escapeHtml(what)}</h3>${h.html}<blockquote>${c.html}</blockquote><p>${actions
      .map(([label, url]) => `<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>`)
      .join(' · ')}</p><p><small>${escapeHtml(`${w.linksExpire} ${links.expires}.`)}</small></p>`,
  );
  return { subject: `[${site}] ${what}: ${c.pageTitle ?? c.pageUrl}`, text, html };
}

/** The mail to a subscribed author about a reply to their comment. */
export function replyMail(lang: Language, site: string, c: CommentShown, unsubscribeUrl: string): MailBody {
  const w = WORDS[lang];
  const author = c.author ?? w.anonymous;
  const title = c.pageTitle ?? c.pageUrl;
  const text = [
    `${author} ${w.reply} ${title}:`,
    '',
    c.text,
    '',
    `${w.view}: ${c.pageUrl}`,
    '',
    w.why,
    `${w.unsubscribe}: ${unsubscribeUrl}`,
  ].join('\n');
  const html = page(
    title,
    `<p><b>${escapeHtml(author)}</b> ${escapeHtml(w.reply)} <a href="${escapeHtml(c.pageUrl)}">${escapeHtml(title)}</a>:</p>` +
      `<blockquote>${c.html}</blockquote><p><a href="${escapeHtml(c.pageUrl)}">${escapeHtml(w.view)}</a></p>` +
      `<p><small>${escapeHtml(w.why)} <a href="${escapeHtml(unsubscribeUrl)}">${escapeHtml(w.unsubscribe)}</a></small></p>`,
  );
  return { subject: `[${site}] ${author} ${w.reply} ${title}`, text, html };
}

/** `quire test-mail`'s mail. */
export function testMail(lang: Language, site: string): MailBody {
  const w = WORDS[lang];
  return {
    subject: `[${site}] ${w.test}`,
    text: w.testBody,
    html: page(w.test, `<p>${escapeHtml(w.testBody)}</p>`),
  };
}
