import type { Problem } from './types.js';

/** The server answered with an error: `problem` is its problem+json body, or null if it sent something else. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem?.detail ?? `HTTP ${status}`);
  }
}

/** The server could not be reached (offline, DNS, refused connection, CORS). */
export class NetworkError extends Error {}

export function isProblem(v: unknown): v is Problem {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p.detail === 'string' && typeof p.code === 'string' && typeof p.status === 'number';
}

export type Call = <T>(
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<{ status: number; data: T }>;

/**
 * A JSON client for the service at `base`. Resolves with the parsed body of a 2xx answer; rejects with ApiError
 * for any other status, NetworkError when no answer came.
 */
export function client(base: string, credentials: RequestCredentials): Call {
  return async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, credentials, headers: { accept: 'application/json', ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(base + path, init);
    } catch {
      throw new NetworkError('unreachable');
    }
    let data: unknown = null;
    try {
      data = await res.json();
    } catch {
      // an empty or non-JSON body: the status alone tells
    }
    if (!res.ok) throw new ApiError(res.status, isProblem(data) ? data : null);
    return { status: res.status, data: data as T };
  };
}
