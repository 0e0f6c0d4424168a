// Sandbox disks are sparse files on the data folder's volume: a new sandbox is admitted only while that
// volume can hold every disk full, plus a reserve. Here the data folder is a small volume of its own (a
// loop-mounted file system this test makes), and learners fill their disks to the brim.
import { mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustRun, run } from '../../../infra/setup/lib/run.ts';
import type { ServerMessage } from '../protocol/messages.ts';
import { SERVER_LABEL } from './session-manager.ts';
import { startTestServer, TestClient, type TestServer } from '../test-support/harness.ts';

const MiB = 2 ** 20;
const VOLUME_MB = 1400;
const STORAGE_MB = 512;
const RESERVE_MB = 128;

const scratch = mkdtempSync(join(tmpdir(), 'dockyard-volume-'));
const volumeFile = join(scratch, 'volume.img');
const dataDir = join(scratch, 'data');
const volumeFree = () => statfsSync(dataDir).bavail * statfsSync(dataDir).bsize;
let server: TestServer;

beforeAll(async () => {
  await mustRun(['truncate', '-s', `${VOLUME_MB}M`, volumeFile]);
  await mustRun(['mkfs.ext4', '-q', '-F', '-m', '0', volumeFile]);
  await mustRun(['mkdir', '-p', dataDir]);
  await mustRun(['mount', '-o', 'loop', volumeFile, dataDir]);
  server = await startTestServer({
    DOCKYARD_DATA_DIR: dataDir,
    DOCKYARD_SANDBOX_STORAGE_MB: String(STORAGE_MB),
    DOCKYARD_DISK_RESERVE_MB: String(RESERVE_MB),
    DOCKYARD_SANDBOX_MEMORY_MB: '512',
    DOCKYARD_LOG_LEVEL: 'error',
  });
});

afterAll(async () => {
  // A full volume (a failed run) makes stop() fail before it removes the sandboxes: remove them here.
  await server?.stop().catch(async () => {
    const own = (await server.driver.list()).filter((s) => s.labels[SERVER_LABEL] === server.instanceId);
    await Promise.all(own.map((s) => server.driver.remove(s.id).catch(() => undefined)));
  });
  // Whatever is still mounted there (sandbox disks of a failed run, then the volume), innermost first.
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m === dataDir || m.startsWith(`${dataDir}/`))
    .reverse();
  for (const m of mounts) await run(['umount', '--lazy', m]);
  rmSync(scratch, { recursive: true, force: true });
});

describe('sandbox disks on a small data volume', () => {
  it('refuses sandboxes before the volume can fill, and the store keeps taking progress when every disk is full', async () => {
    // As many sandboxes as fit with their whole disks and the reserve, then OUT_OF_CAPACITY.
    const fitting = Math.floor((volumeFree() - RESERVE_MB * MiB) / (STORAGE_MB * MiB));
    expect(fitting, 'sandboxes the volume holds').toBeGreaterThanOrEqual(2);
    const learners: { client: TestClient; session: string }[] = [];
    for (let i = 0; i < fitting; i++) {
      const client = new TestClient(server.url);
      learners.push({ client, session: await client.createSession() });
    }
    const refused = await new TestClient(server.url).req<{
      error: { code: string; detail: string; retryAfterSeconds: number };
    }>('POST', '/api/sessions', {});
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('OUT_OF_CAPACITY');
    expect(refused.body.error.detail).toMatch(/would not fit on this host's disk/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    // Every learner fills their own disk, each stopping at "No space left on device".
    const filled = await Promise.all(
      learners.map(({ session }) =>
        server.driver.exec(
          server.sessions.sandboxOf(session),
          ['sh', '-c', 'dd if=/dev/zero of=/root/work/fill bs=1M 2>&1 | grep -o "No space left on device"; sync'],
          { timeoutMs: 120_000 },
        ),
      ),
    );
    expect(filled.map((r) => r.stdout.trim())).toEqual(learners.map(() => 'No space left on device'));
    // The volume still has its reserve (less a little for the store and the disks' metadata) ...
    expect(volumeFree(), 'free on the data volume').toBeGreaterThan((RESERVE_MB / 2) * MiB);
    // ... and still no room for another sandbox.
    expect((await new TestClient(server.url).req('POST', '/api/sessions', {})).status).toBe(503);

    // A learner's check result is recorded, and read back.
    const [first] = learners;
    const socket = await first!.client.connect(first!.session);
    socket.send({ type: 'grade', exercise: 'hello-exited' });
    const graded = await socket.waitFor((m: ServerMessage) => m.type === 'grade' || m.type === 'error');
    expect(graded.type).toBe('grade');
    await socket.close();
    const progress = await first!.client.req<{ progress: { exercise: string; attempts: number }[] }>(
      'GET',
      '/api/progress',
    );
    expect(progress.status).toBe(200);
    expect(progress.body.progress.find((p) => p.exercise === 'hello-exited')?.attempts).toBe(1);
  });
});
