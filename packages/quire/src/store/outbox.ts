import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  createMarker,
  isQuireError,
  type Lock,
  type LockFile,
  listNames,
  makeDir,
  openLockFile,
  openSpool,
  pathExists,
  readComplete,
  replaceFile,
  Spool,
} from '@quire/fs';
import { LineBatcher, type LinePlace, linesOf } from './line-batch.js';

/** The events of issue 15. `reply` is not an event of its own: a `posted` or `approved` reply carries it. */
export type NotifyEventType = 'posted' | 'pending' | 'approved' | 'edited' | 'deleted';

/** One event in the outbox: what happened to which comment, and who is to hear of it. */
export interface OutboxEvent {
  v: 1;
  /** What makes two records one event (`new:<comment id>`, `approved:<id>`, ...): delivered once per key. */
  key: string;
  type: NotifyEventType;
  /** The public comment id. */
  comment: string;
  /** An approved reply: its parent's author may be mailed, and webhooks that want `reply` get it. */
  reply: boolean;
  at: string;
  /** `moderators`, `subscriber`, `hook:<id>`: decided when the event happens, from the settings then. */
  targets: string[];
  /** The event id this one retries (the admin's "retry" of a given-up delivery). */
  retryOf?: string;
}

/** How a target of an event ended. */
export type TargetEnd = 'delivered' | 'given-up' | 'skipped';

/** What the delivery of one event has done so far (kept per event key while it is under way). */
export interface DeliveryState {
  attempts: Record<string, number>;
  finished: Record<string, TargetEnd>;
  reasons: Record<string, string>;
  /** Epoch ms before which no process tries again. */
  next: number;
}

/** One outcome record in the outcome log. */
export interface Outcome {
  /** The outbox record's id. */
  event: string;
  key: string;
  target: string;
  outcome: 'delivered' | 'failed' | 'given-up' | 'skipped';
  attempt: number;
  reason?: string;
  at: string;
  /** The process that delivered (or tried). */
  pid: number;
}

/** An event whose delivery was given up for some target, as the admin page lists it. */
export interface GivenUp {
  id: string;
  event: OutboxEvent;
  state: DeliveryState;
}

/** An id sorting before every record: watch() from it yields every record there is, then every new one. */
const BEFORE_ALL = '19700101T000000Z-0.json';
/** The claim lock of an event: a byte of `.claims.lock` chosen by its key's hash (a collision only delays). */
const lockOffset = (h: string) => Number.parseInt(h.slice(0, 8), 16) >>> 1;

/**
 * An event's id: its record's id, with `~<n>` for the n-th event after the first of a record holding several
 * (a batch appended at once); the first keeps the plain record id, as a record of one event always had.
 */
function eventId(place: LinePlace): string {
  return place.index === 0 ? place.id : `${place.id}~${place.index}`;
}

/** The record and place an event id names; null if it is not one. */
function placeOf(id: string): LinePlace | null {
  const m = /^([^~]+)(?:~([1-9][0-9]{0,2}))?$/.exec(id);
  return m === null ? null : { id: m[1] as string, index: m[2] === undefined ? 0 : Number(m[2]) };
}

/** One line of an outbox record as an event; null if it is not one. */
function parseEvent(line: string): OutboxEvent | null {
  try {
    const v = JSON.parse(line) as OutboxEvent;
    return v.v === 1 && typeof v.key === 'string' && Array.isArray(v.targets) ? v : null;
  } catch {
    return null;
  }
}

export const emptyState = (): DeliveryState => ({ attempts: {}, finished: {}, reasons: {}, next: 0 });

/**
 * The outbox of notifications (issue 15; docs/notifications.md), in the data directory:
 *
 *   DATA/outbox/<YYYYMMDDTHHMMSSZ-N>.json   events (OutboxEvent, a JSON line each), appended before the request
 *                                           is answered: events told while a record is being written go together
 *                                           into the next (group commit); removed once all are delivered (kept if
 *                                           one is given up). Event ids: the record's, `~<n>` for the n-th after
 *                                           the first.
 *   DATA/outbox/.keys/                      keys of events appended again by retried requests (spool-keys)
 *   DATA/outbox/.claims.lock                byte-range locks: the process delivering an event holds its byte
 *   DATA/outbox/.state/<h>                  DeliveryState of the event whose key hashes to h (not fsynced)
 *   DATA/outbox/.done/<h>                   marker: every target of that event delivered, skipped or given up
 *                                           (so a second record of the key, from a retried request, is not sent)
 *   DATA/outbox/.gaveup/<id>                marker: some target of event <id> was given up
 *   DATA/outbox/.retried/<id>               marker: the admin retried event <id> (a new event took it over)
 *   DATA/outbox-log/<...>.json              outcome records: delivered, attempt N failed (why), given up
 *   DATA/notify/used/<sha256(link)>         marker: a one-click link was used
 *   DATA/notify/unsubscribed/<hmac>         marker: the address with this HMAC gets no reply mail
 *
 * Delivery is at least once: a process that dies between sending and recording sends again after restart.
 */
export class Outbox {
  private readonly claims: LockFile;
  /** First tellings go into records together (line-batch.ts): under load one publish serves many events. */
  private readonly batcher = new LineBatcher(async (body) => (await this.events.append(body)).id);
  /** The outbox again, for removals that need no fsync. */
  private readonly lazy: Spool;

  private constructor(
    private readonly dir: string,
    private readonly notifyDir: string,
    readonly events: Spool,
    readonly log: Spool,
    private readonly durable: boolean,
  ) {
    this.claims = openLockFile(path.join(dir, '.claims.lock'), { keep: 8 });
    this.lazy = new Spool(dir, { suffix: '.json', durable: false });
  }

  static async open(dataDir: string, durable: boolean): Promise<Outbox> {
    const dir = path.join(dataDir, 'outbox');
    const events = await openSpool(dir, { suffix: '.json', durable });
    const log = await openSpool(path.join(dataDir, 'outbox-log'), { suffix: '.json', durable: false });
    await makeDir(path.join(dir, '.state'), { durable });
    return new Outbox(dir, path.join(dataDir, 'notify'), events, log, durable);
  }

  /** The hash naming an event key's files. */
  static hash(key: string): string {
    return createHash('sha256').update(key).digest('hex').slice(0, 32);
  }

  /**
   * Appends an event (durable on a durable store). A first telling appends plainly (one publish); `again`, the
   * telling of a retried request, appends keyed by the event, so retries of the retry add nothing more. Two
   * records of one key are delivered once: delivery is done per key (.done/<h>).
   */
  async append(event: OutboxEvent, again: boolean): Promise<string> {
    if (again) return (await this.events.append(`${JSON.stringify(event)}\n`, { key: event.key })).id;
    return eventId(await this.batcher.add(JSON.stringify(event)));
  }

  /** The events of record `rid`, in order (a record of a batch holds several). */
  private async eventsOf(rid: string): Promise<(OutboxEvent | null)[]> {
    const b = await this.events.get(rid).catch(() => null);
    if (b === null) return [];
    return linesOf(b).map(parseEvent);
  }

  /** Every event id there is, then each new one as it is published by any process, until `signal` aborts. */
  async *watch(signal: AbortSignal, pollMs?: number): AsyncGenerator<string> {
    const opts = { after: BEFORE_ALL, signal, ...(pollMs === undefined ? {} : { pollMs }) };
    for await (const rid of this.events.watch(opts)) {
      const n = (await this.eventsOf(rid)).length;
      for (let index = 0; index < Math.max(n, 1); index++) yield eventId({ id: rid, index });
    }
  }

  /** An event, or null if there is none (or it is not one). */
  async read(id: string): Promise<OutboxEvent | null> {
    const place = placeOf(id);
    if (place === null) return null;
    return (await this.eventsOf(place.id))[place.index] ?? null;
  }

  /** Whether `id` names an event (`<record id>` or `<record id>~<n>`), not that there is one. */
  isEventId(id: string): boolean {
    const place = placeOf(id);
    return place !== null && this.events.isId(place.id);
  }

  /**
   * The claim of event key hash `h`: its lock if no other process (or delivery of this one) holds it, else
   * null. The kernel drops it when the holder dies, so a killed process leaves no claim behind.
   */
  async tryClaim(h: string): Promise<Lock | null> {
    try {
      return await this.claims.acquire({ range: { offset: lockOffset(h), length: 1 }, timeoutMs: 0 });
    } catch (err) {
      if (isQuireError(err, 'ERR_LOCK_TIMEOUT')) return null;
      throw err;
    }
  }

  /** Hashes of the events whose delivery is over. */
  async doneHashes(): Promise<Set<string>> {
    return new Set(await listNames(path.join(this.dir, '.done')).catch(() => []));
  }

  isDone(h: string): Promise<boolean> {
    return pathExists(path.join(this.dir, '.done', h));
  }

  async state(h: string): Promise<DeliveryState> {
    const b = await readComplete(path.join(this.dir, '.state', h));
    if (b === null) return emptyState();
    try {
      return { ...emptyState(), ...(JSON.parse(b.toString('utf8')) as DeliveryState) };
    } catch {
      return emptyState();
    }
  }

  /** Not fsynced: after a power cut a lost state only means another attempt (at least once). */
  async saveState(h: string, state: DeliveryState): Promise<void> {
    await replaceFile(path.join(this.dir, '.state', h), JSON.stringify(state), { durable: false });
  }

  /**
   * Marks event `id` (key hash `h`) over. A given-up event stays, listed for the admin (its retry reads it);
   * any other is removed from the outbox, so the watch's rescans and a restart list only what is under way.
   * Neither the marker nor the removal is fsynced: a power cut that loses them means another delivery (at
   * least once), never a lost one.
   */
  async finish(h: string, id: string, gaveUp: boolean): Promise<void> {
    if (gaveUp) await createMarker(path.join(this.dir, '.gaveup', id), { durable: this.durable });
    await createMarker(path.join(this.dir, '.done', h), { durable: false });
    const place = placeOf(id);
    if (!gaveUp && place !== null && (await this.allFinished(place.id))) await this.lazy.delete(place.id);
  }

  /** Whether every event of record `rid` is over and none was given up: then the record may go. */
  private async allFinished(rid: string): Promise<boolean> {
    const events = await this.eventsOf(rid);
    for (let index = 0; index < events.length; index++) {
      const event = events[index];
      if (event === null || event === undefined) continue;
      if (!(await this.isDone(Outbox.hash(event.key)))) return false;
      if (await pathExists(path.join(this.dir, '.gaveup', eventId({ id: rid, index })))) return false;
    }
    return true;
  }

  /** Appends an outcome record. */
  async record(outcome: Outcome): Promise<void> {
    await this.log.append(`${JSON.stringify(outcome)}\n`);
  }

  /** The newest `limit` outcomes, newest first. */
  async outcomes(limit: number): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const id of await this.log.list({ reverse: true, limit })) {
      const b = await this.log.get(id).catch(() => null);
      if (b === null) continue;
      try {
        out.push(JSON.parse(b.toString('utf8')) as Outcome);
      } catch {
        // A record cut by a power cut (the log is not fsynced): skipped.
      }
    }
    return out;
  }

  /** Events with a given-up target that were not retried yet, newest first, at most `limit`. */
  async givenUp(limit: number): Promise<GivenUp[]> {
    const retried = new Set(await listNames(path.join(this.dir, '.retried')).catch(() => []));
    const ids = (await listNames(path.join(this.dir, '.gaveup')).catch(() => []))
      .filter((id) => !retried.has(id) && this.isEventId(id))
      .sort()
      .reverse()
      .slice(0, limit);
    const out: GivenUp[] = [];
    for (const id of ids) {
      const event = await this.read(id);
      if (event !== null) out.push({ id, event, state: await this.state(Outbox.hash(event.key)) });
    }
    return out;
  }

  /**
   * The admin's retry of a given-up event: a new event (key `retry:<id>`) with the given-up targets, once. The
   * id of the new event, or null if `id` is not a given-up event or was retried already.
   */
  async retry(id: string): Promise<string | null> {
    if (!this.isEventId(id) || !(await pathExists(path.join(this.dir, '.gaveup', id)))) return null;
    const event = await this.read(id);
    if (event === null) return null;
    const state = await this.state(Outbox.hash(event.key));
    const targets = event.targets.filter((t) => state.finished[t] === 'given-up');
    if (!(await createMarker(path.join(this.dir, '.retried', id), { durable: this.durable }))) return null;
    const again: OutboxEvent = {
      ...event,
      key: `retry:${id}`,
      targets,
      retryOf: id,
      at: new Date().toISOString(),
    };
    return this.append(again, true);
  }

  /** Uses a one-click link once: true the first time, from any process; false ever after. */
  useLink(token: string): Promise<boolean> {
    const h = createHash('sha256').update(token).digest('hex');
    return createMarker(path.join(this.notifyDir, 'used', h), { durable: this.durable });
  }

  /** Records that the address with HMAC `addressHmac` wants no more reply mail; false if it was already. */
  unsubscribe(addressHmac: string): Promise<boolean> {
    if (!/^[0-9a-f]{32,64}$/.test(addressHmac)) throw new TypeError('unsubscribe: not an address HMAC');
    return createMarker(path.join(this.notifyDir, 'unsubscribed', addressHmac), { durable: this.durable });
  }

  isUnsubscribed(addressHmac: string): Promise<boolean> {
    return pathExists(path.join(this.notifyDir, 'unsubscribed', addressHmac));
  }

  /** Stops watch() iterations. */
  close(): void {
    this.events.close();
    this.claims.close();
  }
}
