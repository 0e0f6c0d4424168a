// Grants to view a session's preview of one port. Signed with the server's key, so they cannot be
// guessed or forged, and stateless, so any replica can check them. Two kinds:
//   link: put in the URL the learner opens from the platform; lives two minutes, so a URL left in
//         the browser's history or a shared screen is soon worth nothing;
//   cookie: what a valid link is exchanged for, a host-only cookie of the preview origin, valid
//         until the session's end at the latest.
// Never the platform's own session cookie: the preview origin does not see that one.
import type { Signer } from '../identity/signing.ts';

export type GrantKind = 'link' | 'cookie';

/** Keeps grants apart from the other values the same key signs (WebSocket tickets, owner ids). */
const PREFIX = 'preview.';

export const LINK_TTL_MS = 2 * 60_000;

export function previewGrants(signer: Signer, now = () => Date.now()) {
  return {
    issue(kind: GrantKind, sessionId: string, port: number, expiresAt: number): string {
      const payload = Buffer.from(JSON.stringify({ k: kind, s: sessionId, p: port, e: expiresAt })).toString(
        'base64url',
      );
      return signer.sign(PREFIX + payload);
    },

    /** True when `token` is an unexpired grant of this kind for this session and port. */
    check(token: string | undefined, kind: GrantKind, sessionId: string, port: number): boolean {
      const value = token ? signer.unsign(token) : undefined;
      if (!value?.startsWith(PREFIX)) return false;
      try {
        const g = JSON.parse(Buffer.from(value.slice(PREFIX.length), 'base64url').toString('utf8')) as {
          k: string;
          s: string;
          p: number;
          e: number;
        };
        return g.k === kind && g.s === sessionId && g.p === port && g.e > now();
      } catch {
        return false;
      }
    },
  };
}

export type PreviewGrants = ReturnType<typeof previewGrants>;
