import fs from 'node:fs';
import type { Transporter } from 'nodemailer';
import { ConfigError, type SmtpConfig } from '../../config.js';

/** One message to send. */
export interface Mail {
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** The idempotency id: the same event and recipient always get the same Message-ID. */
  messageId: string;
  /** Extra headers (List-Unsubscribe, List-Unsubscribe-Post). */
  headers?: Record<string, string>;
}

/** Why a send failed, and whether trying again could help (SMTP 5xx: it cannot). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** The SMTP password from smtp.passwordFile: readable by its owner only, final newline dropped. */
function readPasswordFile(file: string): string {
  let text: string;
  try {
    if ((fs.statSync(file).mode & 0o044) !== 0)
      throw new ConfigError(`smtp.passwordFile ${file} is readable by group or others; chmod 600 ${file}`);
    text = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read smtp.passwordFile ${file}: ${(err as Error).message}`);
  }
  return text;
}

/**
 * Sends mail through the configured SMTP server (nodemailer), one pooled connection set per process. nodemailer
 * is loaded with the first message, not at start: its ~100 modules cost the service ~3 MB of heap (measured)
 * that a site which sends no mail, or none yet, does not need to hold.
 */
export class Mailer {
  private readonly options: Parameters<typeof import('nodemailer').createTransport>[0];
  private transport: Promise<Transporter> | undefined;

  constructor(
    private readonly smtp: SmtpConfig & { url: string; from: string },
    pooled = true,
  ) {
    const password = smtp.passwordFile === null ? undefined : readPasswordFile(smtp.passwordFile);
    const ms = smtp.timeoutSeconds * 1000;
    const url = new URL(smtp.url);
    this.options = {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? (url.protocol === 'smtps:' ? 465 : 587) : Number(url.port),
      secure: url.protocol === 'smtps:',
      ...(pooled ? { pool: true, maxConnections: 2 } : {}),
      connectionTimeout: ms,
      greetingTimeout: ms,
      socketTimeout: ms,
      ...this.auth(url, password),
    };
  }

  private connect(): Promise<Transporter> {
    this.transport ??= import('nodemailer').then((m) => m.default.createTransport(this.options));
    return this.transport;
  }

  private auth(url: URL, password: string | undefined) {
    const user = url.username !== '' ? decodeURIComponent(url.username) : this.smtp.user;
    const pass = url.password !== '' ? decodeURIComponent(url.password) : password;
    return user === null || user === undefined ? {} : { auth: { user, pass: pass ?? '' } };
  }

  /** The domain of smtp.from, for Message-IDs. */
  get domain(): string {
    return /@([^>\s]+)>?\s*$/.exec(this.smtp.from)?.[1] ?? 'quire.invalid';
  }

  /** Sends; DeliveryError (permanent for an SMTP 5xx) on failure. */
  async send(mail: Mail): Promise<void> {
    try {
      await (await this.connect()).sendMail({
        from: this.smtp.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        ...(mail.headers === undefined ? {} : { headers: mail.headers }),
      });
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      const reason = (err as Error).message.split('\n')[0] ?? 'failed';
      throw new DeliveryError(reason, code !== undefined && code >= 500 && code < 600);
    }
  }

  close(): void {
    void this.transport?.then((t) => t.close());
  }
}
