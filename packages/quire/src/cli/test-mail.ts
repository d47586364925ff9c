import { ConfigError } from '../config.js';
import { str } from './args.js';
import { type Command, EXIT, Failure, HELP_OPTION, UsageError } from './command.js';

/** `quire test-mail ADDRESS`: one mail through the configured SMTP server, to see that mail works. */
export const command: Command = {
  usage: 'quire test-mail ADDRESS [--config FILE]',
  help: `Sends one test mail to ADDRESS through the SMTP server of the settings
(smtp.url / QUIRE_SMTP_URL, smtp.from / QUIRE_SMTP_FROM; see
docs/notifications.md), waits for the server's answer and prints it. Exits 1
if the server refuses or cannot be reached.

Options:
  --config FILE    JSON config file (QUIRE_CONFIG)

Examples:
  QUIRE_SMTP_URL=smtp://mail.example.org:587 QUIRE_SMTP_FROM=comments@example.org quire test-mail me@example.org`,
  options: { ...HELP_OPTION, config: { type: 'string' } },
  async run(inv) {
    const [address, extra] = inv.operands;
    if (address === undefined) throw new UsageError('ADDRESS is required');
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    if (!/^[^\s@]+@[^\s@]+$/.test(address)) throw new UsageError(`'${address}' is not a mail address`);
    const config = str(inv, 'config');
    const { loadConfig } = await import('../server/start.js');
    const { Mailer } = await import('../server/notify/mailer.js');
    const { testMail } = await import('../server/notify/templates.js');
    let c: ReturnType<typeof loadConfig>;
    try {
      c = loadConfig(config === undefined ? {} : { config });
    } catch (err) {
      if (err instanceof ConfigError) throw new Failure(err.message, EXIT.usage);
      throw err;
    }
    const { url, from } = c.smtp;
    if (url === null || from === null)
      throw new Failure(
        'quire test-mail: no SMTP settings (smtp.url and smtp.from, QUIRE_SMTP_URL and QUIRE_SMTP_FROM)',
      );
    const mailer = new Mailer({ ...c.smtp, url, from }, false);
    try {
      const messageId = `<test-${Date.now().toString(36)}@${mailer.domain}>`;
      await mailer.send({
        to: [address],
        ...testMail(c.notify.language === 'de' ? 'de' : 'en', c.siteName),
        messageId,
      });
      process.stdout.write(`sent ${messageId} to ${address}\n`);
      return EXIT.ok;
    } catch (err) {
      throw new Failure(`quire test-mail: ${(err as Error).message}`);
    } finally {
      mailer.close();
    }
  },
};
