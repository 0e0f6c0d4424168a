// The anonymous browser identity: a random id in a signed, HttpOnly cookie, until accounts exist.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Signer } from './signing.ts';

export const OWNER_COOKIE = 'dockyard_owner';

/** Reads the owner id from the request's cookie, or mints one and sets the cookie. */
export function ownerOf(req: FastifyRequest, reply: FastifyReply, signer: Signer, secure: boolean): string {
  const existing = req.cookies[OWNER_COOKIE];
  const id = existing ? signer.unsign(existing) : undefined;
  if (id) return id;
  const fresh = randomUUID();
  reply.setCookie(OWNER_COOKIE, signer.sign(fresh), {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/',
    maxAge: 60 * 60 * 24 * 365,
  });
  return fresh;
}
