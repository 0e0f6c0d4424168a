// A SessionManager on the fake driver with roomy settings, for unit tests of what sits on sessions.
import { FakeDriver } from '../drivers/fake/fake-driver.ts';
import { SessionManager, type SessionSettings } from '../sessions/session-manager.ts';
import { memorySessionStore } from '../sessions/session-store.ts';

export const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function fakeSessions(
  driver = new FakeDriver(),
  settings: Partial<SessionSettings> = {},
): { driver: FakeDriver; sessions: SessionManager } {
  const sessions = new SessionManager({
    driver,
    store: memorySessionStore(),
    settings: {
      instanceId: 'me',
      sessionTtlMs: 3_600_000,
      idleTimeoutMs: 3_600_000,
      expiryWarningMs: 1000,
      maxSandboxes: 4,
      warmPoolSize: 0,
      maxNodes: 5,
      reaperIntervalMs: 60_000,
      limits: { memoryBytes: 1, cpus: 1, pids: 64, storageBytes: 1 },
      ...settings,
    },
    log: quietLog,
  });
  return { driver, sessions };
}
