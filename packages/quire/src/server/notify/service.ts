import type { QuireConfig } from '../../config.js';
import { Outbox } from '../../store/outbox.js';
import type { CommentStore } from '../../store/store.js';
import { mailEnabled, outboxSink } from './events.js';
import { Mailer } from './mailer.js';
import { DeliveryWorker, type WorkerLog } from './worker.js';

/**
 * Notifications (issue 15, docs/notifications.md): the outbox, the store's event sink that fills it, and the
 * delivery worker that empties it. Off (no outbox written, no worker) without SMTP settings and webhooks.
 */
export class Notifications {
  private worker: DeliveryWorker | undefined;

  private constructor(
    readonly config: QuireConfig,
    readonly store: CommentStore,
    readonly outbox: Outbox,
    readonly mailer: Mailer | null,
    private readonly clock: () => number,
  ) {}

  /** Opens the outbox and, when anything is to be sent, sets the store's event sink. */
  static async open(config: QuireConfig, store: CommentStore, clock: () => number): Promise<Notifications> {
    const outbox = await Outbox.open(store.dataDir, store.durable);
    const mail = mailEnabled(config);
    const mailer = mail
      ? new Mailer({ ...config.smtp, url: config.smtp.url as string, from: config.smtp.from as string })
      : null;
    const n = new Notifications(config, store, outbox, mailer, clock);
    if (n.enabled) store.events = outboxSink(config, outbox, clock);
    return n;
  }

  /** Whether anything is sent at all: mail (SMTP settings) or webhooks. */
  get enabled(): boolean {
    return this.mailer !== null || this.config.notify.webhooks.length > 0;
  }

  /** Starts delivering; `baseUrl` is where the one-click links in mail point. */
  async start(baseUrl: string, log: WorkerLog): Promise<void> {
    if (!this.enabled || !this.config.notify.deliver || this.worker !== undefined) return;
    const outbox = this.outbox;
    this.worker = new DeliveryWorker(
      outbox,
      {
        config: this.config,
        store: this.store,
        mailer: this.mailer,
        baseUrl: this.config.publicUrl ?? baseUrl,
        clock: this.clock,
        isUnsubscribed: (h) => outbox.isUnsubscribed(h),
      },
      log,
    );
    await this.worker.start();
  }

  async close(): Promise<void> {
    await this.worker?.close();
    this.outbox.close();
    this.mailer?.close();
  }
}
