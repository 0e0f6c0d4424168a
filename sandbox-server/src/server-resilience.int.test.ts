// The server under stress and after a crash: output floods are flow-controlled, and a server
// killed with SIGKILL re-adopts its sessions (their shells kept running in the sandboxes) and
// removes its orphans when it comes back.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_LIMITS } from './drivers/conformance.ts';
import { DockerDriver } from './drivers/docker/docker-driver.ts';
import { dockerClient } from './engine/engine.ts';
import { instanceIdOf, loadOrCreateKey } from './identity/signing.ts';
import { FLOW_HIGH_WATER } from './protocol/messages.ts';
import { SERVER_LABEL } from './sessions/session-manager.ts';
import { SCROLLBACK_CHARS } from './terminals/terminal.ts';
import { startTestServer, TEST_ORIGIN, TestClient, type TestServer } from './test-support/harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('flow control', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('pauses a flooding terminal that is not acknowledged, without slowing another learner', async () => {
    const flooder = new TestClient(server.url);
    const ws = await flooder.connect(await flooder.createSession());
    await ws.open('flood');
    ws.autoAck = false;
    ws.send({ type: 'input', term: 'flood', data: 'cat /dev/urandom | base64\r' });
    await sleep(3000);
    const first = ws.output('flood').length;
    // The server stops reading at the high-water mark: what arrived is bounded, and stays put.
    expect(first).toBeGreaterThan(FLOW_HIGH_WATER / 2);
    expect(first).toBeLessThan(FLOW_HIGH_WATER + SCROLLBACK_CHARS + 64 * 1024);
    await sleep(1000);
    expect(ws.output('flood').length - first).toBeLessThan(16 * 1024);

    const other = new TestClient(server.url);
    const otherWs = await other.connect(await other.createSession());
    await otherWs.open('t');
    const started = Date.now();
    await otherWs.run('t', 'echo other-$((5+5))', /other-10/);
    // Not a speed target (that is the benchmark's job): a stalled server would not answer at all.
    expect(Date.now() - started).toBeLessThan(5000);

    // Acknowledging lets the flood go on.
    ws.send({ type: 'ack', term: 'flood', bytes: ws.output('flood').length });
    await ws.until(() => ws.output('flood').length > first + FLOW_HIGH_WATER / 2, 5000, 'more output after ack');
    ws.autoAck = true;
    ws.send({ type: 'input', term: 'flood', data: '\u0003' });
  });
});

describe('a server killed with SIGKILL', () => {
  const port = 18000 + Math.floor(Math.random() * 1000);
  const dataDir = mkdtempSync(join(tmpdir(), 'dockyard-crash-'));
  const instanceId = instanceIdOf(loadOrCreateKey(dataDir));
  const driver = new DockerDriver(dockerClient('/var/run/docker.sock'));
  const base = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const startServer = async (env: Record<string, string> = {}) => {
    child = spawn(process.execPath, [join(import.meta.dirname, 'main.ts')], {
      env: {
        ...process.env,
        ...env,
        DOCKYARD_PORT: String(port),
        DOCKYARD_DATA_DIR: dataDir,
        DOCKYARD_PUBLIC_URL: TEST_ORIGIN,
        DOCKYARD_WARM_POOL_SIZE: '1',
        DOCKYARD_SANDBOX_MEMORY_MB: '1024',
        DOCKYARD_SANDBOX_STORAGE_MB: '2048',
        DOCKYARD_LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    for (let i = 0; i < 300; i++) {
      const ok = await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await sleep(100);
    }
    throw new Error('server did not become ready');
  };
  const own = async () => (await driver.list()).filter((s) => s.labels[SERVER_LABEL] === instanceId);
  const ownNetworks = async () =>
    (await driver.listPeerNetworks()).filter((n) => n.labels[SERVER_LABEL] === instanceId);

  afterAll(async () => {
    child?.kill('SIGKILL');
    for (const s of await own()) await driver.remove(s.id);
  });

  it('re-adopts its sessions, their nodes and pool, and removes sandboxes it no longer tracks', async () => {
    await startServer();
    const client = new TestClient(base);
    const sessionId = await client.createSession();
    const ws = await client.connect(sessionId);
    await ws.open('t');
    await ws.run('t', 'echo before > ~/work/marker && echo saved-$((1+1)) shell-$$', /saved-2 shell-\d+/);
    const shell = /shell-(\d+)/.exec(ws.output('t'))![1];
    // A program in the foreground when the server dies: it must still be running afterwards.
    ws.send({ type: 'input', term: 't', data: 'sleep 600\r' });
    expect((await client.req('POST', `/api/sessions/${sessionId}/nodes`, {})).status).toBe(201);
    // An orphan: a sandbox of this server that no session or pool slot accounts for (as if the
    // server died between creating it and recording it).
    await driver.create({ id: 'orphan1', limits: TEST_LIMITS, labels: { [SERVER_LABEL]: instanceId } });
    for (let i = 0; i < 100 && (await own()).length < 4; i++) await sleep(100);

    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    await startServer();

    const ids = (await own()).map((s) => s.id);
    expect(ids).not.toContain('orphan1');
    const node2 = await client.req<{ session: { nodes: string[] } }>('GET', `/api/sessions/${sessionId}`);
    expect(node2.body.session.nodes).toEqual(['node1', 'node2']);
    // Its disk went with it, though another driver (another disk folder) had made it.
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain('/disks/orphan1 ');
    const again = await client.req<{ session: { id: string } }>('GET', `/api/sessions/${sessionId}`);
    expect(again.status).toBe(200);
    const file = await client.req<{ content: string }>('GET', `/api/sessions/${sessionId}/file?path=marker`);
    expect(file.body.content).toBe('before\n');
    const ws2 = await client.connect(sessionId);
    // The shell outlived the server: the same one comes back, with its scrollback (marked as a
    // replay) and its sleep still in the foreground.
    expect(await ws2.open('t')).toBe(true);
    await ws2.until(() => /saved-2/.test(ws2.output('t')), 10_000, 'the scrollback');
    const replayed = ws2.messages.filter((m) => m.type === 'output' && m.term === 't');
    expect(replayed.every((m) => m.type === 'output' && m.replay)).toBe(true);
    await ws2.open('t2');
    const looked = await ws2.run('t2', 'pgrep -a sleep; echo looked', /\nlooked\r\n/);
    expect(looked).toMatch(/sleep 600/);
    ws2.send({ type: 'input', term: 't', data: '\u0003' });
    await sleep(300);
    expect(await ws2.run('t', 'echo again-$$', /again-\d+/)).toContain(`again-${shell}`);
    expect(await ws2.run('t2', 'echo back-$((4+4))', /back-8/)).toContain('back-8');
    await ws2.open('n2', { node: 'node2' });
    const out = await ws2.run('n2', 'hostname; ping -c1 -W3 node1 >/dev/null && echo reached-$((0+1))', /reached-1/);
    expect(out).toMatch(/^node2\r?$/m);
    await ws2.close();
    // The session's two nodes and one warm sandbox, nothing else.
    expect(ids).toHaveLength(3);
  });

  it('killed again and back with a short idle timeout: the reaper ends the session and removes every node and its network', async () => {
    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    expect(await ownNetworks()).toHaveLength(1);
    await startServer({
      DOCKYARD_IDLE_TIMEOUT_S: '2',
      DOCKYARD_EXPIRY_WARNING_S: '1',
      DOCKYARD_REAPER_INTERVAL_S: '1',
    });
    // The sandboxes go first, then the network: wait for both.
    for (let i = 0; i < 200 && ((await own()).length > 1 || (await ownNetworks()).length > 0); i++) await sleep(100);
    // Only the warm sandbox is left; no peer network of this server either.
    expect(await own()).toHaveLength(1);
    expect(await ownNetworks()).toHaveLength(0);
  });
});
