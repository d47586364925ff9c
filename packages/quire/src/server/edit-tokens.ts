import type { FastifyRequest } from 'fastify';

/** The header in which authors send the edit tokens of their comments. */
export const EDIT_TOKEN_HEADER = 'x-quire-edit-token';

/** The edit tokens a request carries (X-Quire-Edit-Token, comma-separated or repeated), at most 100. */
export function editTokens(request: FastifyRequest): string[] {
  const h = request.headers[EDIT_TOKEN_HEADER];
  const all = (Array.isArray(h) ? h : h === undefined ? [] : [h]).flatMap((v) => v.split(','));
  return all
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .slice(0, 100);
}
