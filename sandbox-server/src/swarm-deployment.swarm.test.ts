// The platform over three sandbox hosts, all real: two servers behind nginx on one PostgreSQL,
// with the swarm driver over the Swarm of test-support/sandbox-swarm.ts. A learner on each host
// uses the terminal, files, grading and a preview through either server, and a second node joins
// one of them on their own network; a host that stops has its learner
// told within 30 s, who starts again on a healthy host while the others carry on, and its leftovers
// go when it returns; a server killed meanwhile costs its learners a reconnect and nothing more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_LABEL } from './drivers/docker/sandbox-options.ts';
import { DISK_DRIVER } from './drivers/swarm/service-spec.ts';
import { SwarmDriver } from './drivers/swarm/swarm-driver.ts';
import { testSandboxId } from './drivers/conformance.ts';
import { REAPER_LEASE } from './sessions/session-manager.ts';
import { openDatabase, type Database } from './store/database.ts';
import { Store } from './store/store.ts';
import { startDeployment, type Deployment } from './test-support/deployment.ts';
import { openPreview, TestClient, type TestSocket } from './test-support/harness.ts';
import { sandboxHosts, startSandboxSwarm, type SandboxSwarm } from './test-support/sandbox-swarm.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let swarm: SandboxSwarm;
let deployment: Deployment;
let database: Database;

interface Learner {
  client: TestClient;
  sessionId: string;
  sandbox: string;
  /** The sandbox host Swarm chose for their sandbox. */
  host: string;
  ws: TestSocket;
}

beforeAll(async () => {
  swarm = await startSandboxSwarm({ log: (line) => console.log(line), agentSweepMs: 2_000 });
  deployment = await startDeployment({
    replicas: 2,
    driver: swarm.driver,
    env: {
      DOCKYARD_DRIVER: 'swarm',
      DOCKYARD_DOCKER_SOCKET: swarm.rig.nodes[0]!.socket,
      DOCKYARD_SWARM_NODE_ENGINE: swarm.nodeEngineTemplate,
      DOCKYARD_WARM_POOL_SIZE: '0',
      DOCKYARD_SANDBOX_CREATE_LIMIT: '0',
      // Small sandboxes: each reserves its whole memory on its host.
      DOCKYARD_SANDBOX_MEMORY_MB: '384',
      DOCKYARD_SANDBOX_STORAGE_MB: '512',
    },
  });
  database = await openDatabase({ dataDir: deployment.dataDir, databaseUrl: deployment.pg.url });
});

// The servers' stop removes their sandboxes one by one, each waited for on its host (up to 30 s):
// once in CI this took over 5 min, after every test had passed.
afterAll(async () => {
  await database?.close();
  await deployment?.stop();
  await swarm?.close();
}, 900_000);

/** The host whose engine runs a sandbox, as Swarm reports its task. */
async function hostOf(sandbox: string): Promise<string> {
  return (await sandboxHosts(swarm.rig)).get(sandbox) ?? '(none)';
}

/** A learner with a session made through nginx, and a terminal open on it. */
async function newLearner(client = new TestClient(deployment.url)): Promise<Learner> {
  const before = new Set((await deployment.sandboxes()).map((s) => s.id));
  const sessionId = await client.createSession();
  const sandbox = (await deployment.sandboxes()).find((s) => !before.has(s.id))!.id;
  const ws = await client.connect(sessionId);
  await ws.open('t');
  return { client, sessionId, sandbox, host: await hostOf(sandbox), ws };
}

const learners: Learner[] = [];

describe('the platform over three sandbox hosts', () => {
  it('serves a learner on each host: terminal, files, grading and previews, through either server', async () => {
    // Swarm spreads the sandboxes; a few more learners than hosts cover each host.
    for (let i = 0; i < 6 && new Set(learners.map((l) => l.host)).size < 3; i++) learners.push(await newLearner());
    expect([...new Set(learners.map((l) => l.host))].sort()).toEqual(['node1', 'node2', 'node3']);
    const [r1, r2] = deployment.replicas;
    for (const host of ['node1', 'node2', 'node3']) {
      const l = learners.find((x) => x.host === host)!;
      await l.ws.run('t', 'echo "on-$((40+2))"', /on-42/);
      // The files of the editor, saved through one server and read through the other.
      const saved = await l.client.at(r1!.url).req('PUT', `/api/sessions/${l.sessionId}/file?path=notes.txt`, {
        content: `written on ${host}\n`,
      });
      expect(saved.status).toBe(200);
      const read = await l.client
        .at(r2!.url)
        .req<{ content: string }>('GET', `/api/sessions/${l.sessionId}/file?path=notes.txt`);
      expect(read.body.content).toBe(`written on ${host}\n`);
      // The lesson's answers, typed in the terminal; the sandbox's own engine answers the first.
      await l.ws.run(
        't',
        "docker version --format '{{.Server.Version}}' > server-version.txt; echo overlay2 > storage-driver.txt; echo saved-$((1+1))",
        /saved-2/,
      );
      l.ws.send({ type: 'grade', exercise: 'engine-facts' });
      const graded = await l.ws.waitFor((m) => m.type === 'grade' && m.report.exercise === 'engine-facts', 60_000);
      expect(graded.type === 'grade' && graded.report.passed).toBe(true);
      // A preview of the port nginx publishes, through each server's preview origin.
      await l.ws.run('t', 'docker run -d -p 8080:80 nginx >/dev/null; echo started-$((5+5))', /started-10/, 60_000);
      for (const r of [r1!, r2!]) {
        const grant = await l.client.at(r.url).req<{ url: string }>('POST', `/api/sessions/${l.sessionId}/previews`, {
          port: 8080,
        });
        const cookie = (await openPreview(grant.body.url)).setCookie!.split(';')[0]!;
        await expect
          .poll(async () => (await openPreview(new URL('/', grant.body.url).toString(), cookie)).body, {
            timeout: 20_000,
          })
          .toContain('Welcome to nginx!');
      }
    }
  });

  it("puts a session's next node beside its first, on their own network", async () => {
    const l = learners.find((x) => x.host !== 'node1')!;
    const before = new Set((await deployment.sandboxes()).map((x) => x.id));
    const added = await l.client.req<{ node: string }>('POST', `/api/sessions/${l.sessionId}/nodes`, {});
    expect([added.status, added.body.node]).toEqual([201, 'node2']);
    const node2 = (await deployment.sandboxes()).find((x) => !before.has(x.id))!.id;
    expect(await hostOf(node2)).toBe(l.host);
    await l.ws.open('n2', { node: 'node2' });
    await l.ws.run('n2', 'hostname; ping -c1 -W3 node1 >/dev/null && echo reached-$((6+6))', /reached-12/);
    expect(l.ws.output('n2')).toContain('node2');
  });

  it('tells the learner of a stopped host within 30 s, starts them again on a healthy one, and reaps what the host kept', async () => {
    // A worker: the manager (node1) stopping would stop the Swarm's control, which three managers prevent.
    const victim = learners.find((l) => l.host !== 'node1')!;
    const others = learners.filter((l) => l !== victim);
    const stoppedAt = Date.now();
    await swarm.rig.kill(victim.host);
    const told = await victim.ws.waitFor((m) => m.type === 'session' && m.state === 'expired', 30_000);
    const toldAfter = Date.now() - stoppedAt;
    console.log(`the learner on ${victim.host} was told after ${(toldAfter / 1000).toFixed(1)} s`);
    expect(told).toMatchObject({ type: 'session', state: 'expired', reason: 'lost' });
    expect(toldAfter).toBeLessThan(30_000);

    // Nobody else noticed: their terminals answer, on their hosts, as before.
    for (const l of others.filter((o) => o.host !== victim.host)) {
      await l.ws.run('t', 'echo "still-$((2+2))"', /still-4/);
      expect(l.ws.messages.some((m) => m.type === 'session' && m.state === 'expired')).toBe(false);
    }

    // "Start again": a new session, on a host that answers.
    const again = await newLearner(victim.client);
    expect(again.host).not.toBe(victim.host);
    await again.ws.run('t', 'echo "on-$((40+2))"', /on-42/);
    learners.push(again);

    // The host returns: its engine removes the lost sandbox (its service is gone), and its host
    // agent the sandbox's disk volumes, which no container uses any more.
    await swarm.rig.restart(victim.host);
    const engine = swarm.rig.nodes.find((n) => n.name === victim.host)!.docker;
    const leftovers = async () => {
      const containers = await engine.listContainers({
        all: true,
        filters: { label: [`${SANDBOX_LABEL}=${victim.sandbox}`] },
      });
      const { Volumes } = await engine.listVolumes({ filters: { driver: [DISK_DRIVER] } });
      const volumes = (Volumes ?? []).map((v) => v.Name).filter((name) => name.includes(victim.sandbox));
      return [...containers.map((c) => `container ${c.Id}`), ...volumes.map((v) => `volume ${v}`)];
    };
    const returnedAt = Date.now();
    let left = await leftovers();
    while (left.length > 0 && Date.now() - returnedAt < 60_000) {
      await sleep(500);
      left = await leftovers();
    }
    console.log(`its leftovers were gone ${((Date.now() - returnedAt) / 1000).toFixed(1)} s after it returned`);
    expect(left).toEqual([]);

    // The returned host runs sandboxes again: its agent follows its restarted engine, and prepares them.
    const pinned = new SwarmDriver(swarm.rig.manager, {
      nodeEngine: (n) => swarm.rig.nodes.find((x) => x.name === n.hostname)!.docker,
      constraints: [`node.hostname == ${victim.host}`],
      readyTimeoutMs: 60_000,
    });
    const id = testSandboxId();
    try {
      await pinned.create({
        id,
        limits: { memoryBytes: 384 * 2 ** 20, cpus: 1, pids: 512, storageBytes: 512 * 2 ** 20 },
      });
      expect((await pinned.exec(id, ['docker', 'info', '--format', '{{.ServerVersion}}'])).exitCode).toBe(0);
    } finally {
      await pinned.remove(id);
    }
  });

  it('costs the learners of a killed server a reconnect, and nothing more', async () => {
    const live = learners.filter((l) => !l.ws.messages.some((m) => m.type === 'session' && m.state === 'expired'));
    const [r1] = deployment.replicas;
    await r1!.kill();
    for (const l of live) {
      if (l.ws.replica === 'r1')
        await l.ws.until(() => l.ws.closeCode !== undefined, 5_000, 'the socket of the killed server to close');
      const ws = await l.client.connect(l.sessionId);
      expect(ws.replica).toBe('r2');
      // The same shell, kept in the sandbox on its host, with its scrollback.
      expect(await ws.open('t')).toBe(true);
      await ws.until(() => /on-42/.test(ws.output('t')), 10_000, 'the scrollback');
      await ws.run('t', 'echo "after-$((4+4))"', /after-8/);
      await l.ws.close();
      l.ws = ws;
    }
    // The lost-host watch moves with the reaper to the survivor.
    const holder = async () => (await new Store(database.db).leases.current(REAPER_LEASE))?.holder;
    const killedAt = Date.now();
    while ((await holder()) !== 'r2' && Date.now() - killedAt < 30_000) await sleep(250);
    expect(await holder()).toBe('r2');
  });
});
