import { isTransientError } from '@quire/fs';

/**
 * Storage faults told, not hidden: a write that failed because of the disk is the operator's problem, not the
 * client's and not a bug, so it gets its own status and code, and /healthz says so until writes succeed again.
 */
export type StorageFaultCode = 'storage-full' | 'storage-unavailable';

export interface StorageFault {
  /** 507 for a full disk or quota (RFC 4918's Insufficient Storage), 503 for a disk that cannot be used now. */
  status: 507 | 503;
  code: StorageFaultCode;
  detail: string;
  /** For Retry-After: a full disk needs a person, a fault may pass (a remount, a network filesystem back). */
  retryAfterSeconds: number;
}

/** errno names by what they mean for the service. */
const FULL = new Set(['ENOSPC', 'EDQUOT']);
const UNAVAILABLE = new Set(['EROFS', 'EIO', 'EHOSTDOWN', 'ETIMEDOUT', 'ENODEV', 'ENXIO']);
/**
 * Retry-After for what @quire/fs calls transient (`isTransientError`: a network filesystem's stale handle or lost
 * connection, or a read it kept refusing as incomplete) after its own bounded retries: these pass in seconds, so
 * the client is told to come back soon, as after a request deadline (deadlines.retryAfterSeconds' default).
 */
const TRANSIENT_RETRY_SECONDS = 2;

function errno(err: unknown): string | undefined {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (/^E[A-Z]+$/.test(code) || isTransientError(e))) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The storage fault `err` is (it, or an error it was caused by), or undefined for anything else. */
export function storageFault(err: unknown): StorageFault | undefined {
  const code = errno(err);
  if (code === undefined) return undefined;
  if (FULL.has(code)) {
    return { status: 507, code: 'storage-full', detail: 'the server’s disk is full', retryAfterSeconds: 300 };
  }
  if (isTransientError({ code })) {
    return {
      status: 503,
      code: 'storage-unavailable',
      detail: `the server’s storage did not answer in time (${code})`,
      retryAfterSeconds: TRANSIENT_RETRY_SECONDS,
    };
  }
  if (UNAVAILABLE.has(code)) {
    return {
      status: 503,
      code: 'storage-unavailable',
      detail: `the server’s storage cannot be written now (${code})`,
      retryAfterSeconds: 30,
    };
  }
  return undefined;
}

export type HealthReport = { ok: true } | { ok: false; fault: StorageFault };

/**
 * Whether the service can write, from what requests saw and a probe: after a write failed with a storage fault,
 * /healthz reports it until a probe write (at most one per `probeEveryMs`, shared by concurrent checks) or any
 * request's write succeeds again. While writes succeed a check costs nothing but a probe now and then, so a
 * disk that fills up without any post failing is noticed too.
 */
export class StorageHealth {
  private fault: StorageFault | undefined;
  private lastProbe = Number.NEGATIVE_INFINITY;
  private probing: Promise<void> | undefined;

  constructor(
    private readonly probe: () => Promise<void>,
    private readonly probeEveryMs = 5_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** A request's write failed: remembered if it was a storage fault. Returns the fault, if it was one. */
  noteFailure(err: unknown): StorageFault | undefined {
    const f = storageFault(err);
    if (f !== undefined) this.fault = f;
    return f;
  }

  /** A request's write succeeded: the storage works. */
  noteSuccess(): void {
    this.fault = undefined;
  }

  async check(): Promise<HealthReport> {
    if (this.clock() - this.lastProbe >= this.probeEveryMs || this.fault !== undefined) await this.runProbe();
    return this.fault === undefined ? { ok: true } : { ok: false, fault: this.fault };
  }

  private runProbe(): Promise<void> {
    this.probing ??= (async () => {
      try {
        await this.probe();
        this.fault = undefined;
      } catch (err) {
        this.fault = storageFault(err) ?? {
          status: 503,
          code: 'storage-unavailable',
          detail: `the server’s storage cannot be written now (${String((err as Error)?.message ?? err)})`,
          retryAfterSeconds: 30,
        };
      } finally {
        this.lastProbe = this.clock();
        this.probing = undefined;
      }
    })();
    return this.probing;
  }
}
