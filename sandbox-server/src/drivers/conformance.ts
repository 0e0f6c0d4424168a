// The contract every SandboxDriver must meet, run against a real backend by each driver's int test.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox, SandboxDriver, SandboxLimits, TerminalEvent, TerminalStream } from './driver.ts';

export const TEST_LIMITS: SandboxLimits = { memoryBytes: 2 ** 30, cpus: 1, pids: 512, storageBytes: 2 * 2 ** 30 };

export const testSandboxId = () => `t${randomUUID().slice(0, 8)}`;

/** Collects a terminal's output and waits for a pattern in what came after `since`. */
function screen(tty: TerminalStream) {
  let text = '';
  let replay = '';
  const sizes: string[] = [];
  tty.stream.on('data', (e: TerminalEvent) => {
    if (e.type === 'size') sizes.push(`${e.cols}x${e.rows}`);
    else if (e.replay) replay += e.data.toString('utf8');
    else text += e.data.toString('utf8');
  });
  return {
    /** Live output. */
    get text() {
      return text;
    },
    /** The scrollback replayed on attaching. */
    get replay() {
      return replay;
    },
    sizes,
    async waitFor(pattern: RegExp, since = 0, timeoutMs = 20_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const m = pattern.exec(text.slice(since));
        if (m) return m[0];
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`No ${pattern} in the terminal within ${timeoutMs} ms. It shows:\n${text.slice(since)}`);
    },
  };
}

export interface ConformanceOptions {
  /**
   * Whether the backend can put running sandboxes on peer networks. One that cannot must refuse
   * with the error code given: gVisor, which does not see a network added to a running sandbox,
   * with NODES_UNSUPPORTED.
   */
  peerNetworks?: true | { refusedWith: string };
}

/**
 * Registers the conformance tests for the driver `make()` returns, called before the first test (a
 * backend may take a while to stand up).
 */
/** The first line a connection to the sandbox's port gives within 10 s; '' when it fails or ends first. */
async function firstLine(driver: SandboxDriver, id: string, port: number): Promise<string> {
  const conn = await driver.connect(id, port).catch(() => undefined);
  if (!conn) return '';
  return new Promise((resolve) => {
    let got = '';
    const done = () => {
      clearTimeout(timer);
      conn.destroy();
      resolve(got.split('\n')[0]!);
    };
    const timer = setTimeout(done, 10_000);
    conn.on('data', (chunk: Buffer) => {
      got += chunk.toString('utf8');
      if (got.includes('\n')) done();
    });
    conn.on('end', done);
    conn.on('error', done);
  });
}

export function driverConformance(
  name: string,
  make: () => SandboxDriver | Promise<SandboxDriver>,
  opts: ConformanceOptions = {},
): void {
  const { peerNetworks = true } = opts;
  describe(`SandboxDriver conformance: ${name}`, () => {
    let driver: SandboxDriver;
    const id = testSandboxId();
    let sandbox: Sandbox;

    beforeAll(async () => {
      driver = await make();
      sandbox = await driver.create({ id, limits: TEST_LIMITS, labels: { 'org.dockyard.test': 'conformance' } });
    });
    afterAll(() => driver?.remove(id));

    it('creates a sandbox whose own engine answers', async () => {
      expect(sandbox.id).toBe(id);
      expect(sandbox.labels['org.dockyard.test']).toBe('conformance');
      const r = await driver.exec(id, ['docker', 'info', '--format', '{{.ServerVersion}}']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.trim()).toMatch(/^\d+\.\d+/);
    });

    it('runs commands with their exit code, stdout, stderr and stdin', async () => {
      const r = await driver.exec(id, ['sh', '-c', 'cat; echo oops >&2; exit 3'], { input: 'hello' });
      expect(r).toEqual({ exitCode: 3, stdout: 'hello', stderr: 'oops\n' });
    });

    it('pulls from the mirror and runs inner containers', async () => {
      const r = await driver.exec(id, ['docker', 'run', '--rm', 'busybox', 'echo', 'inner-ok']);
      expect(r.stdout.trim().split('\n').pop()).toBe('inner-ok');
      expect(r.exitCode).toBe(0);
    });

    it('connects to a port an inner container publishes, and to nothing where nothing listens', async () => {
      const r = await driver.exec(id, [
        'bash',
        '-c',
        `docker run -d --name pong -p 18080:8080 busybox sh -c 'while true; do echo pong | nc -l -p 8080; done' >/dev/null
         for i in $(seq 100); do (echo >/dev/tcp/127.0.0.1/18080) 2>/dev/null && break; sleep 0.2; done`,
      ]);
      expect(r.exitCode).toBe(0);
      try {
        // The server answers one connection at a time, and starts again between two: a connection in
        // between is taken by the engine's port proxy and closed, so try until one is answered.
        await expect.poll(() => firstLine(driver, id, 18080), { timeout: 30_000, interval: 200 }).toBe('pong');
        expect(await firstLine(driver, id, 18081)).toBe('');
      } finally {
        await driver.exec(id, ['docker', 'rm', '-f', 'pong']);
      }
    });

    it('lists the sandbox, and forgets it once removed (twice is fine)', async () => {
      const other = testSandboxId();
      await driver.create({ id: other, limits: TEST_LIMITS });
      expect((await driver.list()).map((s) => s.id)).toEqual(expect.arrayContaining([id, other]));
      await driver.remove(other);
      await driver.remove(other);
      expect((await driver.list()).map((s) => s.id)).not.toContain(other);
    });

    it('opens a terminal that sizes, takes every key as the learner typed it, and reports the exit code', async () => {
      const tty = await driver.openTerminal(id, 'conformance', { cols: 91, rows: 27 });
      const out = screen(tty);
      tty.stream.write('stty size\r');
      await out.waitFor(/27 91/);
      await tty.resize(120, 33);
      tty.stream.write('stty size\r');
      await out.waitFor(/33 120/);
      // Ctrl-P Ctrl-Q are the learner's keys (docker attach's detach keys), never the platform's:
      // the shell stays, and a command typed after them runs.
      let at = out.text.length;
      tty.stream.write('\x10\x11');
      await new Promise((r) => setTimeout(r, 300));
      // Two Ctrl-U: where the terminal has no XON/XOFF flow control (gVisor's), Ctrl-Q reaches
      // readline as quoted-insert, which takes the first one as a character; the second clears the line.
      tty.stream.write('\x15\x15echo "after-keys-$((6*7))"\r');
      await out.waitFor(/after-keys-42/, at);
      // ...also inside `docker attach`, where they detach from the container and leave it running.
      tty.stream.write('docker run -dit --name keys busybox sh && docker attach keys\r');
      at = out.text.length;
      await new Promise((r) => setTimeout(r, 1500));
      tty.stream.write('echo "inside-$((2*3))"\r');
      await out.waitFor(/inside-6/, at);
      tty.stream.write('\x10');
      await new Promise((r) => setTimeout(r, 100));
      tty.stream.write('\x11');
      await out.waitFor(/read escape sequence/, at);
      at = out.text.length;
      tty.stream.write('docker inspect -f "state-{{.State.Status}}" keys\r');
      await out.waitFor(/state-running/, at);
      tty.stream.write('exit 7\r');
      expect(await tty.ended).toBe(7);
    });

    it('keeps a terminal in the sandbox: a new stream finds its scrollback and running program', async () => {
      const first = await driver.openTerminal(id, 'kept', { cols: 80, rows: 24 });
      const one = screen(first);
      first.stream.write('echo "before-$((3*4))"; sleep 600\r');
      await one.waitFor(/before-12\r\n/);
      // The server process showing it goes away: its stream ends, the shell and its sleep do not.
      first.stream.end();
      expect(await first.ended).toBe(-1);
      expect(await driver.terminals(id)).toContain('kept');

      const watch = await driver.watchTerminal(id, 'kept');
      const watched = screen(watch);
      expect(first.kept).toBe(false);
      const second = await driver.openTerminal(id, 'kept', { cols: 100, rows: 30 });
      expect(second.kept).toBe(true);
      const two = screen(second);
      for (let i = 0; i < 100 && !/before-12/.test(two.replay); i++) await new Promise((r) => setTimeout(r, 50));
      expect(two.replay).toMatch(/before-12/);
      expect(two.text).not.toMatch(/before-12/);
      // The sleep still holds the foreground: Ctrl-C ends it, and the same shell answers.
      second.stream.write('\x03');
      await new Promise((r) => setTimeout(r, 300));
      second.stream.write('echo "after-$((5*5))" $$\r');
      await two.waitFor(/after-25 \d+/);
      await watched.waitFor(/after-25/);
      expect(watched.sizes.at(-1)).toBe('100x30');

      // One stream shows a terminal at a time: a third takes it over, and the second is told.
      const third = await driver.openTerminal(id, 'kept', { cols: 100, rows: 30 });
      expect(await second.ended).toBe('taken-over');
      // Hanging up ends the shell, for every stream still on it, and it is no longer listed.
      await third.hangUp();
      expect(await third.ended).toBe(129);
      expect(await watch.ended).toBe(129);
      expect(await driver.terminals(id)).not.toContain('kept');
      const gone = await driver.watchTerminal(id, 'kept');
      expect(await gone.ended).toBe(1);
    });

    it('says which kernel its sandboxes run on, as their kernel log tells', async () => {
      const kernel = await driver.kernel();
      // gVisor's kernel log opens with its name; the host's is closed to a sandbox's root.
      const log = await driver.exec(id, ['sh', '-c', 'dmesg 2>&1 | head -3']);
      expect(kernel).toBe(/gVisor/.test(log.stdout) ? 'gvisor' : 'host');
      // gVisor's sandboxes cannot join peer networks.
      if (kernel === 'gvisor') expect(peerNetworks).toEqual({ refusedWith: 'NODES_UNSUPPORTED' });
    });

    it.runIf(peerNetworks !== true)('refuses to put a sandbox on a peer network, saying why', async () => {
      const net = `n${testSandboxId()}`;
      try {
        await driver.createPeerNetwork(net, { 'org.dockyard.test': 'conformance' });
        await expect(driver.joinPeerNetwork(net, id, 'node1')).rejects.toMatchObject({
          code: peerNetworks !== true && peerNetworks.refusedWith,
        });
        expect((await driver.exec(id, ['docker', 'info', '--format', 'ok'])).stdout.trim()).toBe('ok');
      } finally {
        await driver.removePeerNetwork(net);
      }
    });

    it.runIf(peerNetworks === true)(
      "joins a session's nodes on a peer network: they reach each other by name, no other sandbox reaches them",
      async () => {
        const [peer, outsider] = [testSandboxId(), testSandboxId()];
        const net = `n${peer}`;
        // Both beside the first: a node as a session makes it, and another session's sandbox on the
        // same host, where a bridge would let it in if anything would.
        await Promise.all([peer, outsider].map((x) => driver.create({ id: x, limits: TEST_LIMITS, near: id })));
        try {
          await driver.createPeerNetwork(net, { 'org.dockyard.test': 'conformance' });
          await driver.createPeerNetwork(net); // twice is fine
          await driver.joinPeerNetwork(net, id, 'node1');
          await driver.joinPeerNetwork(net, peer, 'node2');
          expect((await driver.listPeerNetworks()).map((n) => n.id)).toContain(net);
          const sh = (where: string, script: string) => driver.exec(where, ['sh', '-c', script], { timeoutMs: 30_000 });
          const seen = await sh(id, 'getent hosts node2 | cut -d" " -f1; ping -c1 -W3 node2 >/dev/null && echo pinged');
          const address = seen.stdout.trim().split('\n')[0]!;
          expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
          expect(seen.stdout).toContain('pinged');
          expect((await sh(peer, 'ping -c1 -W3 node1 >/dev/null && echo pinged')).stdout).toContain('pinged');
          // Another session's sandbox neither resolves the names nor reaches the address.
          const away = await sh(
            outsider,
            `getent hosts node2 || echo no-name; ping -c1 -W2 ${address} >/dev/null || echo no-route`,
          );
          expect(away.stdout).toContain('no-name');
          expect(away.stdout).toContain('no-route');
          await driver.removePeerNetwork(net);
          await driver.removePeerNetwork(net);
          expect((await driver.listPeerNetworks()).map((n) => n.id)).not.toContain(net);
          expect((await sh(id, 'getent hosts node2 || echo gone')).stdout).toContain('gone');
        } finally {
          await driver.removePeerNetwork(net).catch(() => undefined);
          await Promise.all([peer, outsider].map((x) => driver.remove(x)));
        }
      },
    );

    it('rejects exec in a sandbox that does not exist', async () => {
      await expect(driver.exec('nosuchsandbox', ['true'])).rejects.toThrow();
    });
  });
}
