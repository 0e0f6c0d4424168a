// Tickets and signatures: only an unexpired ticket for this session, signed with this key, opens a socket.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hmacSigner, instanceIdOf, loadOrCreateKey } from './signing.ts';
import { ticketIssuer } from './tickets.ts';

const signer = hmacSigner(Buffer.alloc(32, 7));

describe('hmacSigner', () => {
  it('round-trips a value and rejects a changed value, signature or key', () => {
    const signed = signer.sign('owner-1');
    expect(signer.unsign(signed)).toBe('owner-1');
    expect(signer.unsign(signed.replace('owner-1', 'owner-2'))).toBeUndefined();
    expect(signer.unsign(`${signed.slice(0, -1)}A`)).toBeUndefined();
    expect(hmacSigner(Buffer.alloc(32, 8)).unsign(signed)).toBeUndefined();
    expect(signer.unsign('no-signature')).toBeUndefined();
  });
});

describe('ticketIssuer', () => {
  it('accepts its ticket for its session until it expires', () => {
    const clock = { t: 1000 };
    const tickets = ticketIssuer(signer, 30_000, () => clock.t);
    const { ticket, expiresAt } = tickets.issue({ sessionId: 's1', ownerId: 'o1' });
    expect(expiresAt).toBe(31_000);
    expect(tickets.check(ticket, 's1')).toEqual({ sessionId: 's1', ownerId: 'o1' });
    expect(tickets.check(ticket, 's2')).toBeUndefined();
    clock.t = 31_001;
    expect(tickets.check(ticket, 's1')).toBeUndefined();
  });

  it('refuses a missing or forged ticket', () => {
    const tickets = ticketIssuer(signer);
    const forged = ticketIssuer(hmacSigner(Buffer.alloc(32, 9))).issue({ sessionId: 's1', ownerId: 'o1' }).ticket;
    expect(tickets.check(undefined, 's1')).toBeUndefined();
    expect(tickets.check(forged, 's1')).toBeUndefined();
    expect(tickets.check('garbage.garbage', 's1')).toBeUndefined();
  });
});

describe('loadOrCreateKey', () => {
  it('creates the key once and gives the same key and instance id after a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockyard-key-'));
    const a = loadOrCreateKey(dir);
    const b = loadOrCreateKey(dir);
    expect(a.equals(b)).toBe(true);
    expect(a).toHaveLength(32);
    expect(instanceIdOf(a)).toBe(instanceIdOf(b));
    expect(instanceIdOf(a)).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe('loadOrCreateKey, servers starting at once on one folder', () => {
  it('gives every one of them the same whole key, and leaves one file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockyard-key-race-'));
    // Each waits for the same moment (they take a while to start), then reads or makes the key.
    const at = Date.now() + 1500;
    const script = `const m = await import(${JSON.stringify(join(import.meta.dirname, 'signing.ts'))});
      while (Date.now() < ${at});
      console.log(m.instanceIdOf(m.loadOrCreateKey(${JSON.stringify(dir)})), m.loadOrCreateKey(${JSON.stringify(dir)}).length);`;
    const ids = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<string>((resolve, reject) =>
            execFile(process.execPath, ['--input-type=module', '-e', script], (err, out) =>
              err ? reject(err) : resolve(out.trim()),
            ),
          ),
      ),
    );
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f]{12} 32$/);
    expect(readdirSync(dir)).toEqual(['signing.key']);
  });
});
