import type { FastifyReply } from 'fastify';

const signals = new WeakMap<FastifyReply, AbortSignal>();

/**
 * A signal that aborts when the client goes away before its answer was sent, so that work done only for it
 * (rendering, reading, a password check) stops instead of running on for nobody. The response's `close`, not
 * the request's: since Node 16 a request emits `close` as soon as its body was read.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  let signal = signals.get(reply);
  if (signal !== undefined) return signal;
  const controller = new AbortController();
  signal = controller.signal;
  signals.set(reply, signal);
  const res = reply.raw;
  if (res.destroyed && !res.writableFinished) controller.abort();
  else res.once('close', () => res.writableFinished || controller.abort());
  return signal;
}
