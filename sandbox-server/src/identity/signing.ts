// HMAC signing with the server's key, kept in the data directory so identities survive a restart.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Signer {
  sign(value: string): string;
  /** The value when `signed` carries a valid signature for it, else undefined. */
  unsign(signed: string): string | undefined;
}

export function hmacSigner(key: Buffer): Signer {
  const mac = (v: string) => createHmac('sha256', key).update(v).digest('base64url');
  return {
    sign: (value) => `${value}.${mac(value)}`,
    unsign(signed) {
      const dot = signed.lastIndexOf('.');
      if (dot <= 0) return undefined;
      const value = signed.slice(0, dot);
      const given = Buffer.from(signed.slice(dot + 1));
      const expected = Buffer.from(mac(value));
      return given.length === expected.length && timingSafeEqual(given, expected) ? value : undefined;
    },
  };
}

/**
 * The key in `<dataDir>/signing.key`, created (0600) on first start. Servers sharing the folder may
 * start at once: the key is written whole to a file of its own, then linked into place, so a
 * server reads either no key or the whole one, and the one that loses the race reads the winner's.
 */
export function loadOrCreateKey(dataDir: string): Buffer {
  const file = join(dataDir, 'signing.key');
  const read = () => Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  try {
    return read();
  } catch {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const key = randomBytes(32);
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(draft, key.toString('base64'), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(draft, file);
      return key;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return read();
    } finally {
      unlinkSync(draft);
    }
  }
}

/** A stable, public id for this server instance, derived from its key (not revealing it). */
export const instanceIdOf = (key: Buffer): string =>
  createHash('sha256').update('instance').update(key).digest('hex').slice(0, 12);
