import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';

/** What every routes plugin is registered with. */
export interface RoutesOptions {
  ctx: ServerContext;
}

/** A Fastify instance whose routes take their TypeScript types from their TypeBox schemas. */
export type TypedApp = Parameters<FastifyPluginAsyncTypebox<RoutesOptions>>[0];

/** The service's own origin as the browser sees it: publicUrl, else the request's (a checked Host). */
export function baseUrl(ctx: ServerContext, request: FastifyRequest): string {
  if (ctx.config.publicUrl !== null) return ctx.config.publicUrl;
  const host = /^[A-Za-z0-9.:[\]-]{1,255}$/.test(request.host) ? request.host : 'localhost';
  return `${request.protocol}://${host}`;
}
