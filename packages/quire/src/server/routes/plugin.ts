import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServerContext } from '../context.js';

/** What every routes plugin is registered with. */
export interface RoutesOptions {
  ctx: ServerContext;
}

/** A Fastify instance whose routes take their TypeScript types from their TypeBox schemas. */
export type TypedApp = Parameters<FastifyPluginAsyncTypebox<RoutesOptions>>[0];
