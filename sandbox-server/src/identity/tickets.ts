// Short-lived tickets that let one browser open the WebSocket of one session. Stateless (signed),
// so any server replica can check them; bound to session and owner, so a stolen URL is useless later.
import type { Signer } from './signing.ts';

export interface TicketClaims {
  sessionId: string;
  ownerId: string;
}

export function ticketIssuer(signer: Signer, ttlMs = 30_000, now = () => Date.now()) {
  return {
    issue(claims: TicketClaims): { ticket: string; expiresAt: number } {
      const expiresAt = now() + ttlMs;
      const payload = Buffer.from(JSON.stringify({ s: claims.sessionId, o: claims.ownerId, e: expiresAt })).toString(
        'base64url',
      );
      return { ticket: signer.sign(payload), expiresAt };
    },
    /** The claims of a valid, unexpired ticket for this session, else undefined. */
    check(ticket: string | undefined, sessionId: string): TicketClaims | undefined {
      const payload = ticket ? signer.unsign(ticket) : undefined;
      if (!payload) return undefined;
      try {
        const c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { s: string; o: string; e: number };
        if (c.s !== sessionId || c.e < now()) return undefined;
        return { sessionId: c.s, ownerId: c.o };
      } catch {
        return undefined;
      }
    },
  };
}

export type TicketIssuer = ReturnType<typeof ticketIssuer>;
