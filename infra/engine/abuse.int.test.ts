// Abuse suite: what a hostile learner (root in their sandbox) tries, and the safe outcome each time.
// It runs through a real server: two learners each hold a session. The attacker's attacks run in its
// sandbox (a shell via the driver, or its terminal WebSocket for the output flood) and, where it
// applies, in an inner container. The bystander keeps a terminal open, and after every attack
// expectStillResponsive() checks that the server and that terminal still answer in time.
// The host, the bystander and the network are only observed. The fork bombs come last: the first
// is cleared by a session reset, the second leaves the attacker's sandbox to the final clean-up.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { containerName } from '../../sandbox-server/src/drivers/docker/sandbox-options.ts';
import { dockerClient } from '../../sandbox-server/src/engine/engine.ts';
import type { ServerMessage } from '../../sandbox-server/src/protocol/messages.ts';
import {
  startTestServer,
  TEST_ORIGIN,
  TestClient,
  type TestServer,
  type TestSocket,
} from '../../sandbox-server/src/test-support/harness.ts';
import { MIRROR_CONTAINER, SANDBOX_NETWORK } from '../../images/platform.ts';
import { nodeKey } from '../../sandbox-server/src/sessions/session-manager.ts';
import { run } from '../setup/lib/run.ts';
import { testRuntimes } from '../../sandbox-server/src/test-support/runtimes.ts';
import { BLOCKED_RANGES, FORWARD_CHAIN, INPUT_CHAIN, SANDBOX_BRIDGE } from './network-policy.ts';

const MiB = 2 ** 20;
/** Small sandboxes, so every limit is reached quickly. Storage has a floor of 512 MiB. */
const LIMITS = { memoryMb: 768, storageMb: 512, pids: 256, cpus: 0.5 };
/** How fast the platform must still answer while (or after) it is abused. */
const HEALTH_WITHIN_MS = 2000;
const ECHO_WITHIN_MS = 5000;
const BYSTANDER_TERM = 'bystander';
/** A file only the host has: an escape that reached the host's filesystem would see it. */
const HOST_MARKER = `/tmp/dockyard-host-marker-${randomBytes(4).toString('hex')}`;

const docker = dockerClient('/var/run/docker.sock');
let server: TestServer;
let attacker: Learner;
let bystander: Learner;
let bystanderTerm: TestSocket;
/** A listener on every host interface, standing for anything the host serves. */
let hostServer: Server;
let hostPort = 0;
let gateway = '';

interface Learner {
  client: TestClient;
  session: string;
  sandbox: string;
}

async function learner(): Promise<Learner> {
  const client = new TestClient(server.url);
  const session = await client.createSession();
  return { client, session, sandbox: server.sessions.sandboxOf(session) };
}

/** Runs a script as root in a learner's sandbox (the attacker's unless told). */
const sh = async (script: string, timeoutMs = 60_000, who: Learner = attacker) =>
  server.driver.exec(who.sandbox, ['bash', '-c', script], { timeoutMs });

/** The sandbox container's cgroup v1 directory for a controller, on the host. */
const cgroupDir = async (sandboxId: string, controller: string) => {
  const full = (await docker.getContainer(containerName(sandboxId)).inspect()).Id;
  return `/sys/fs/cgroup/${controller}/docker/${full}`;
};
const cgroupFile = async (sandboxId: string, controller: string, file: string) =>
  readFileSync(`${await cgroupDir(sandboxId, controller)}/${file}`, 'utf8').trim();

/**
 * Descriptions of the keyring keys host uid 100000 (every sandbox's root) holds: /proc/keys lists
 * only the keys its reader may view, so it is read as that uid. Runc names a container's session
 * keyring `_ses.<container id>`.
 */
const sandboxRootKeys = async () =>
  (await run(['setpriv', '--reuid', '100000', '--regid', '100000', '--clear-groups', 'cat', '/proc/keys'])).stdout;

const ipOf = async (sandboxId: string) =>
  (await docker.getContainer(containerName(sandboxId)).inspect()).NetworkSettings.Networks[SANDBOX_NETWORK]!.IPAddress;

/**
 * The server answers /api/health fast, and the bystander's terminal echoes a fresh marker. The marker
 * is typed with quotes in its middle, so the terminal's echo of the typed line cannot match it.
 */
async function expectStillResponsive(): Promise<void> {
  const started = performance.now();
  const health = await fetch(`${server.url}/api/health`, { signal: AbortSignal.timeout(HEALTH_WITHIN_MS) });
  await health.text();
  expect(health.status, 'GET /api/health').toBe(200);
  expect(performance.now() - started, 'GET /api/health took (ms)').toBeLessThan(HEALTH_WITHIN_MS);
  const marker = randomBytes(6).toString('hex');
  const typed = `echo ${marker.slice(0, 6)}''${marker.slice(6)}`;
  await bystanderTerm.run(BYSTANDER_TERM, typed, new RegExp(marker), ECHO_WITHIN_MS);
}

/**
 * A shell script that tries a TCP connect to each target and prints `target curl-exit`: 7 is "could
 * not connect", 28 a time-out; anything else means something answered. All at once: the host sends
 * REJECT's ICMP answers to a sandbox about once a second, so probes in a row take a second each.
 */
const shellProbe = (targets: string[]) =>
  `${targets.map((t) => `(curl -s -o /dev/null -m 2 http://${t}/; echo "${t} $?") &`).join('\n')}\nwait`;
/**
 * The same from an inner busybox container with nc (busybox's `wget -T` segfaults): `target blocked`,
 * `target CONNECTED`, or `target error <what nc said>`.
 */
const innerProbe = (targets: string[]) => {
  const inner = targets
    .map((t) => {
      const [host, port] = t.split(':') as [string, string];
      return `(if o=$(nc -w 2 ${host} ${port} </dev/null 2>&1); then echo "${t} CONNECTED"; else case "$o" in *refused*|*"timed out"*|*unreachable*) echo "${t} blocked";; *) echo "${t} error $o";; esac; fi) &`;
    })
    .join('\n');
  return `docker run --rm busybox sh -c '${inner}\nwait' 2>&1`;
};
/** `key value...` lines as an object. */
const results = (out: string) =>
  Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => [l.split(' ')[0]!, l.split(' ').slice(1).join(' ')]),
  );
/** Each target refused or timed out, from the shell (curl) and from an inner container (nc). */
async function expectUnreachable(targets: string[], who: Learner = attacker): Promise<void> {
  const fromShell = await sh(shellProbe(targets), 60_000, who);
  const code = (exit: string) => (exit === '7' || exit === '28' ? 'no connection' : `curl exit ${exit}`);
  expect(Object.fromEntries(Object.entries(results(fromShell.stdout)).map(([t, exit]) => [t, code(exit)]))).toEqual(
    Object.fromEntries(targets.map((t) => [t, 'no connection'])),
  );
  const fromInner = await sh(innerProbe(targets), 60_000, who);
  expect(results(fromInner.stdout)).toEqual(Object.fromEntries(targets.map((t) => [t, 'blocked'])));
}

/** Packet counters of the REJECT rules of a policy chain, by destination (or `out:<if>` for the bridge rule). */
async function rejectCounters(chain: string): Promise<Map<string, number>> {
  const out = (await run(['iptables', '-w', '-L', chain, '-v', '-x', '-n'])).stdout;
  const counters = new Map<string, number>();
  for (const line of out.split('\n').slice(2)) {
    const f = line.trim().split(/\s+/);
    if (f[2] !== 'REJECT') continue;
    counters.set(f[6] === '*' ? f[8]! : `out:${f[6]}`, Number(f[0]));
  }
  return counters;
}
const growth = (before: Map<string, number>, after: Map<string, number>, key: string) =>
  (after.get(key) ?? 0) - (before.get(key) ?? 0);

const ipToInt = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
const cidrSize = (cidr: string) => 2 ** (32 - Number(cidr.split('/')[1]));
const inCidr = (ip: string, cidr: string) =>
  Math.floor(ipToInt(ip) / cidrSize(cidr)) === Math.floor(ipToInt(cidr.split('/')[0]!) / cidrSize(cidr));
/** The last-but-one address of a CIDR (10.0.0.0/8 gives 10.255.255.254): in the range, neither network nor broadcast. */
const addressIn = (cidr: string) => intToIp(ipToInt(cidr.split('/')[0]!) + cidrSize(cidr) - 2);

// Once per runtime this run covers (DOCKYARD_TEST_RUNTIMES): runc in the int tier, runsc in its own.
for (const { runtime, skip } of await testRuntimes()) {
  /** Under gVisor some evidence differs (no host cgroups for inner containers); each outcome is still checked. */
  const gvisor = runtime === 'runsc';
  describe.skipIf(skip !== undefined)(`on ${runtime}${skip ? `, skipped: ${skip}` : ''}`, () => {
    beforeAll(async () => {
      writeFileSync(HOST_MARKER, 'host');
      server = await startTestServer({
        DOCKYARD_SANDBOX_MEMORY_MB: String(LIMITS.memoryMb),
        DOCKYARD_SANDBOX_STORAGE_MB: String(LIMITS.storageMb),
        DOCKYARD_SANDBOX_PIDS: String(LIMITS.pids),
        DOCKYARD_SANDBOX_CPUS: String(LIMITS.cpus),
        DOCKYARD_LOG_LEVEL: 'error',
        DOCKYARD_SANDBOX_RUNTIME: runtime,
      });
      [attacker, bystander] = await Promise.all([learner(), learner()]);
      // The inner containers' image, pulled once so probes print only their own lines.
      expect((await sh('docker pull -q busybox >/dev/null 2>&1; echo $?')).stdout.trim()).toBe('0');
      bystanderTerm = await bystander.client.connect(bystander.session);
      await bystanderTerm.open(BYSTANDER_TERM);
      hostServer = createServer((_req, res) => res.end('host')).listen(0, '0.0.0.0');
      await new Promise((r) => hostServer.once('listening', r));
      hostPort = (hostServer.address() as { port: number }).port;
      const net = (await docker.getNetwork(SANDBOX_NETWORK).inspect()) as {
        IPAM: { Config: Array<{ Gateway: string }> };
      };
      gateway = net.IPAM.Config[0]!.Gateway;
    });
    afterAll(async () => {
      rmSync(HOST_MARKER, { force: true });
      hostServer?.close();
      await bystanderTerm?.close();
      await server?.stop();
    });

    describe('abuse from inside a sandbox, through a running server', () => {
      // Attack: scanning the private ranges and the cloud metadata address (169.254.169.254) for services.
      it('scanning private ranges and the metadata address: nothing connects, and the packets die on this host', async () => {
        // Safety first: these addresses may be real somewhere. Send nothing unless this host's policy
        // rejects them before any allow-list, on a chain that sees every packet from the sandbox bridge.
        const forward = (await run(['iptables', '-w', '-S', 'FORWARD'])).stdout.split('\n');
        expect(forward.find((l) => l.startsWith('-A FORWARD'))).toBe('-A FORWARD -j DOCKER-USER');
        const user = (await run(['iptables', '-w', '-S', 'DOCKER-USER'])).stdout.split('\n');
        expect(user.find((l) => l.startsWith('-A DOCKER-USER'))).toBe(
          `-A DOCKER-USER -i ${SANDBOX_BRIDGE} -j ${FORWARD_CHAIN}`,
        );
        const chain = (await run(['iptables', '-w', '-S', FORWARD_CHAIN])).stdout
          .split('\n')
          .filter((l) => l.startsWith('-A '));
        for (const cidr of BLOCKED_RANGES) {
          const at = chain.findIndex((l) => l.includes(`-d ${cidr} -j REJECT`));
          expect(at, `REJECT rule for ${cidr}`).toBeGreaterThan(-1);
          // Before it, only replies, the mirror (a /32) and other REJECTs.
          for (const earlier of chain.slice(0, at)) expect(earlier).toMatch(/ESTABLISHED|\/32 |-j REJECT/);
        }

        const ips = [...BLOCKED_RANGES.map(addressIn), '169.254.169.254'];
        const before = await rejectCounters(FORWARD_CHAIN);
        await expectUnreachable(ips.map((ip) => `${ip}:80`));
        const after = await rejectCounters(FORWARD_CHAIN);
        for (const cidr of BLOCKED_RANGES) {
          // Each probe (one from the shell, one from the inner container) is one SYN, rejected by its range's rule.
          // Under gVisor the inner container's packets to link-local addresses die in the sandbox's own
          // network stack, which does not forward them: only the shell's reach the host.
          const perProbe = gvisor && cidr === '169.254.0.0/16' ? 1 : 2;
          const sent = perProbe * ips.filter((ip) => inCidr(ip, cidr)).length;
          expect(growth(before, after, cidr), `packets rejected for ${cidr}`).toBeGreaterThanOrEqual(sent);
        }
        await expectStillResponsive();
      });

      // Attack: reaching another learner's sandbox, what it serves, and its inner engine.
      it("reaching another learner's sandbox and its inner engine: refused, though it serves", async () => {
        const served = await sh(
          `docker run -d -p 7777:80 nginx >/dev/null 2>&1; for i in $(seq 120); do curl -fs localhost:7777 >/dev/null && break; sleep 0.25; done
       curl -s -o /dev/null -m 3 -w '%{http_code}' localhost:7777`,
          90_000,
          bystander,
        );
        expect(served.stdout).toBe('200');
        const ip = await ipOf(bystander.sandbox);
        const targets = [`${ip}:7777`, `${ip}:2375`, `${ip}:2376`];
        const before = await rejectCounters(FORWARD_CHAIN);
        await expectUnreachable(targets);
        const after = await rejectCounters(FORWARD_CHAIN);
        expect(growth(before, after, `out:${SANDBOX_BRIDGE}`)).toBeGreaterThanOrEqual(2 * targets.length);

        // Through the server: the attacker's cookie and tickets do not open the bystander's session.
        const api = attacker.client;
        expect((await api.req('GET', `/api/sessions/${bystander.session}`)).status).toBe(404);
        expect((await api.req('GET', `/api/sessions/${bystander.session}/file?path=x`)).status).toBe(404);
        expect((await api.req('POST', `/api/sessions/${bystander.session}/ticket`, {})).status).toBe(404);
        const ownTicket = await api.ticket(attacker.session);
        const status = await new Promise<number>((resolve) => {
          const ws = new WebSocket(
            `${server.url.replace('http', 'ws')}/api/sessions/${bystander.session}/ws?ticket=${encodeURIComponent(ownTicket)}`,
            { headers: { origin: TEST_ORIGIN } },
          );
          ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          ws.on('open', () => (ws.close(), resolve(101)));
          ws.on('error', () => resolve(0));
        });
        expect(status).toBeGreaterThanOrEqual(400);
        await expectStillResponsive();
      });

      // Attack: from the private network between the attacker's own nodes (playground), reaching the
      // nodes of another session, or the host through that network's bridge.
      it("reaching another session's nodes, or the host, over the networks between nodes: refused", async () => {
        if (gvisor) {
          // No networks between nodes under gVisor: adding a node is refused, saying why.
          const added = await attacker.client.req<{ error: { code: string } }>(
            'POST',
            `/api/sessions/${attacker.session}/nodes`,
            {},
          );
          expect(added.status).toBe(501);
          expect(added.body.error.code).toBe('NODES_UNSUPPORTED');
          await expectStillResponsive();
          return;
        }
        for (const l of [attacker, bystander]) {
          expect((await l.client.req('POST', `/api/sessions/${l.session}/nodes`, {})).status).toBe(201);
        }
        const nodeOf = (l: Learner, node: string): Learner => ({
          ...l,
          sandbox: server.sessions.sandboxOf(nodeKey(l.session, node)),
        });
        const eth1 = (l: Learner) => sh("ip -4 -o addr show eth1 | awk '{print $4}'", 10_000, l);
        // The bystander's node2 serves on its address on their network, and their node1 reaches it.
        const theirs = nodeOf(bystander, 'node2');
        const up = await sh(
          `docker run -d --network host busybox httpd -f -p 7000 >/dev/null 2>&1; for i in $(seq 80); do curl -s -o /dev/null localhost:7000/ && break; sleep 0.25; done`,
          90_000,
          theirs,
        );
        expect(up.exitCode).toBe(0);
        const served = await sh(
          `curl -s -o /dev/null -m 3 -w '%{http_code}' node2:7000/`,
          10_000,
          nodeOf(bystander, 'node1'),
        );
        expect(served.stdout).toBe('404');
        const theirAddress = (await eth1(theirs)).stdout.trim().split('/')[0]!;
        const ownCidr = (await eth1(nodeOf(attacker, 'node1'))).stdout.trim();
        expect(inCidr(theirAddress, ownCidr), 'the two sessions share no network').toBe(false);
        // The host's address on the attacker's own network (its bridge), where anything the host serves is refused.
        const bridge = intToIp(
          ipToInt(ownCidr.split('/')[0]!) - (ipToInt(ownCidr.split('/')[0]!) % cidrSize(ownCidr)) + 1,
        );
        // The inner probes' image, on the attacker's new node too, so they print only their own lines.
        expect(
          (
            await sh('docker pull -q busybox >/dev/null 2>&1; echo $?', 60_000, nodeOf(attacker, 'node2'))
          ).stdout.trim(),
        ).toBe('0');
        for (const node of ['node1', 'node2']) {
          await expectUnreachable([`${theirAddress}:7000`, `${bridge}:${hostPort}`], nodeOf(attacker, node));
        }
        // Their names mean the attacker's own nodes here, never theirs.
        const named = await sh('getent hosts node2 | cut -d" " -f1', 10_000, nodeOf(attacker, 'node1'));
        expect(named.stdout.trim()).not.toBe(theirAddress);
        await expectStillResponsive();
      });

      // Attack: posing as the mirror on the shared bridge (its address on the attacker's interface, ARP
      // answered for it) to serve another learner's pulls.
      it("posing as the mirror: another learner's pulls still reach the real one", async () => {
        const mirror = (await sh('getent hosts mirror | cut -d" " -f1', 10_000, bystander)).stdout.trim();
        expect(mirror).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        const posed = await sh(
          `ip addr add ${mirror}/32 dev eth0 && docker run -d --name impostor --network host busybox sh -c \
        'while true; do printf "HTTP/1.0 200 OK\\r\\n\\r\\nIMPOSTOR" | nc -l -p 5000; done' >/dev/null && echo posing`,
        );
        expect(posed.stdout.trim()).toBe('posing');
        try {
          // The bystander forgets what it learned and asks again, as after any neighbour timeout.
          const seen = await sh(
            `ip neigh flush dev eth0; for i in 1 2 3; do curl -s -m 3 http://${mirror}:5000/v2/; echo; done
         ip neigh show ${mirror}`,
            30_000,
            bystander,
          );
          expect(seen.stdout).not.toContain('IMPOSTOR');
          // Under gVisor the sandbox's neighbours live in its own network stack, where the driver cannot
          // pin them (no RTM_NEWNEIGH in gVisor 20240729): only the outcome is checked there.
          if (!gvisor) expect(seen.stdout).toContain('PERMANENT');
          expect((await sh('docker pull -q hello-world', 60_000, bystander)).stdout).toContain('hello-world');
        } finally {
          await sh(`docker rm -f impostor >/dev/null; ip addr del ${mirror}/32 dev eth0`);
        }
      });

      // Attack: reaching the host's Docker socket, the host engine's ports, or the server's endpoints.
      it("reaching the host's Docker engine or the server's endpoints: the sandbox only sees its own engine", async () => {
        const hostId = ((await docker.info()) as { ID: string }).ID;
        const r = await sh(
          `docker info --format '{{.ID}}'
       docker -H unix:///var/run/docker.sock info --format '{{.ID}}'
       for s in $(find / \\( -path /proc -o -path /sys \\) -prune -o -type s -print 2>/dev/null); do
         echo "socket $s $(curl -s -m 1 --unix-socket "$s" http://engine/info | grep -o '"ID":"[^"]*"' | head -1 | cut -d'"' -f4)"
       done
       docker ps -a --format 'container {{.Names}}'`,
        );
        const [innerId, socketId, ...rest] = r.stdout.trim().split('\n');
        // Engine 20.10 names itself with colon-separated groups, Engine 26 with a UUID.
        expect(innerId).toMatch(/^([A-Z0-9:]+|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$/);
        expect(innerId).not.toBe(hostId);
        // /var/run/docker.sock (/run/docker.sock) in the sandbox is the inner engine's, and no unix socket
        // anywhere in the sandbox answers as the host's engine.
        expect(socketId).toBe(innerId);
        const sockets = rest.filter((l) => l.startsWith('socket '));
        expect(sockets.filter((l) => l.includes(hostId))).toEqual([]);
        expect(sockets).toContain(`socket /run/docker.sock ${innerId}`);
        expect(rest.filter((l) => l.startsWith('container ')).join()).not.toMatch(
          new RegExp(`${MIRROR_CONTAINER}|${containerName(attacker.sandbox)}`),
        );

        // The host serves on every interface (the host itself reaches it via the gateway); the sandbox does not.
        expect(await (await fetch(`http://${gateway}:${hostPort}`)).text()).toBe('host');
        const serverPort = new URL(server.url).port;
        const targets = [2375, 2376, 5000, Number(serverPort), hostPort].map((p) => `${gateway}:${p}`);
        const before = await rejectCounters(INPUT_CHAIN);
        await expectUnreachable([...targets, `127.0.0.1:${serverPort}`]);
        const after = await rejectCounters(INPUT_CHAIN);
        expect(growth(before, after, '0.0.0.0/0')).toBeGreaterThanOrEqual(2 * targets.length);
        await expectStillResponsive();
      });

      // Attack: writing /proc/sys/kernel/core_pattern (a host-wide program run as root on a crash) or
      // /proc/sysrq-trigger, even after remounting /proc/sys read-write or mounting a fresh procfs.
      it('writing core_pattern or sysrq-trigger: refused, the host core_pattern unchanged', async () => {
        const hostBefore = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
        // 'h' only prints sysrq help: even a successful write could not hurt this host.
        const attempts = `echo '|/tmp/pwn %p' > /proc/sys/kernel/core_pattern 2>/dev/null && echo CORE-WRITTEN || echo core-refused
      echo h > /proc/sysrq-trigger 2>/dev/null && echo SYSRQ-WRITTEN || echo sysrq-refused`;
        const r = await sh(
          `${attempts}
       mount -o remount,rw /proc/sys 2>/dev/null && echo remounted-rw
       ${attempts}
       mkdir -p /tmp/freshproc && mount -t proc proc /tmp/freshproc 2>/dev/null && echo fresh-proc &&
         { echo '|/tmp/pwn %p' > /tmp/freshproc/sys/kernel/core_pattern 2>/dev/null && echo CORE-WRITTEN || echo core-refused; }
       umount /tmp/freshproc 2>/dev/null
       docker run --rm -v /proc:/sproc busybox sh -c "${attempts.replaceAll('/proc/', '/sproc/').replaceAll('"', '\\"')}; ${attempts.replaceAll('"', '\\"')}" 2>&1`,
        );
        expect(r.stdout).not.toMatch(/CORE-WRITTEN|SYSRQ-WRITTEN/);
        expect(r.stdout.match(/core-refused/g)?.length ?? 0).toBeGreaterThanOrEqual(4);
        expect(r.stdout.match(/sysrq-refused/g)?.length ?? 0).toBeGreaterThanOrEqual(4);
        expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(hostBefore);
        await expectStillResponsive();
      });

      // Attack: loading a kernel module (finit_module / init_module, modprobe, insmod).
      it('loading a kernel module: "Operation not permitted", from the shell and from an inner container', async () => {
        // x86_64 syscall numbers: 313 finit_module, 175 init_module. Perl needs writable scalars as arguments.
        const r = await sh(
          `perl -e 'my ($p, $i) = ("", ""); my $r = syscall(313, -1, $p, 0); print "finit=$r err=$!\\n"; $r = syscall(175, $i, 0, $p); print "init=$r err=$!\\n"'
       for tool in modprobe insmod; do command -v $tool >/dev/null && { $tool dummy 2>&1 && echo "$tool LOADED" || echo "$tool refused"; }; done
       docker run --rm busybox sh -c 'insmod /bin/busybox && echo "inner LOADED"' 2>&1
       docker run --rm --cap-add SYS_MODULE busybox sh -c 'insmod /bin/busybox && echo "inner LOADED"' >/dev/null 2>&1 || echo inner-cap-refused`,
        );
        expect(r.stdout).toContain('finit=-1 err=Operation not permitted');
        expect(r.stdout).toContain('init=-1 err=Operation not permitted');
        expect(r.stdout).toContain("insmod: can't insert '/bin/busybox': Operation not permitted");
        expect(r.stdout).toContain('inner-cap-refused');
        expect(r.stdout).not.toContain('LOADED');
        await expectStillResponsive();
      });

      // Attack: creating a device node for the host's disk and mounting it.
      it("mounting the host's block device: cannot be created or mounted", async () => {
        const dev = readFileSync('/proc/self/mountinfo', 'utf8')
          .split('\n')
          .find((l) => l.split(' ')[4] === '/');
        const [major, minor] = (dev?.split(' ')[2] ?? '253:0').split(':');
        const attempt = `mknod /tmp/hostdisk b ${major} ${minor} 2>/dev/null && (mount /tmp/hostdisk /mnt 2>/dev/null && echo MOUNTED || echo mount-refused) || echo mknod-refused`;
        const r = await sh(
          `${attempt}
       ls /dev | grep -E '^(vd|sd|nvme|xvd)' || echo no-host-disks
       docker run --rm busybox sh -c '${attempt}' 2>&1`,
        );
        expect(r.stdout).not.toContain('MOUNTED');
        expect(r.stdout.match(/mknod-refused|mount-refused/g)).toHaveLength(2);
        expect(r.stdout).toContain('no-host-disks');
        await expectStillResponsive();
      });

      // Attack: the cgroup v1 release_agent escape (a program the host runs as root when a cgroup empties).
      it('the cgroup v1 release_agent escape: refused', async () => {
        const r = await sh(
          `mkdir -p /tmp/cg && (mount -t cgroup -o rdma cgroup /tmp/cg 2>&1 || mount -t cgroup -o memory cgroup /tmp/cg 2>&1)
       if [ -w /tmp/cg/release_agent ] && echo /payload > /tmp/cg/release_agent 2>/dev/null; then echo AGENT-WRITTEN; else echo agent-refused; fi
       if echo /payload > /sys/fs/cgroup/memory/release_agent 2>/dev/null; then echo AGENT-WRITTEN; else echo agent-refused; fi
       docker run --rm busybox sh -c 'mkdir -p /tmp/cg; if mount -t cgroup -o memory cgroup /tmp/cg 2>/dev/null; then echo /payload > /tmp/cg/release_agent 2>/dev/null && echo AGENT-WRITTEN || echo agent-refused; else echo agent-refused mount; fi' 2>&1`,
        );
        expect(r.stdout).not.toContain('AGENT-WRITTEN');
        expect(r.stdout.match(/agent-refused/g)).toHaveLength(3);
        await expectStillResponsive();
      });

      // Attack: an inner `--privileged -v /:/host` container, the classic way out of Docker-in-Docker.
      it('an inner --privileged container is refused, and -v /:/host mounts the sandbox, not the host', async () => {
        const privileged = await sh(
          `docker run --rm --privileged -v /:/host busybox sh -c 'echo PRIVILEGED-RAN; test -e /host${HOST_MARKER} && echo HOST-REACHED' 2>&1; echo exit=$?`,
        );
        if (gvisor) {
          // Under gVisor it starts: its capabilities and devices are those of gVisor's kernel, in the
          // sandbox, and / is the sandbox's root. What matters is that nothing of the host shows.
          expect(privileged.stdout).toContain('PRIVILEGED-RAN');
          expect(privileged.stdout).not.toContain('HOST-REACHED');
        } else {
          // runc cannot give an inner container what the sandbox lacks (capabilities, a writable sysfs): it never starts.
          expect(privileged.stdout).toMatch(/runc create failed: .*operation not permitted/);
          expect(privileged.stdout).not.toMatch(/PRIVILEGED-RAN|HOST-REACHED|exit=0/);
        }
        const plain = await sh(
          `docker run --rm -v /:/host busybox sh -c 'test -e /host${HOST_MARKER} && echo HOST-REACHED; test -e /host/root/work && echo sandbox-root'`,
        );
        expect(plain.stdout).not.toContain('HOST-REACHED');
        expect(plain.stdout).toContain('sandbox-root');
        expect(existsSync(HOST_MARKER)).toBe(true);
        await expectStillResponsive();
      });

      // Attack: CPU burn, from the shell and from an inner container, to starve everyone else.
      it('a CPU burn stays within the sandbox CPU cap, inner containers included', async () => {
        expect(Number(await cgroupFile(attacker.sandbox, 'cpu', 'cpu.cfs_quota_us'))).toBe(LIMITS.cpus * 100_000);
        // The inner burner first: once the shell's loops run, starting a container takes seconds.
        const started = await sh(
          `docker run -d --name burn busybox sh -c 'while :; do :; done'
       for i in 1 2 3 4; do (while :; do :; done) >/dev/null 2>&1 & echo "pid $!"; done`,
        );
        const pids = [...started.stdout.matchAll(/^pid (\d+)$/gm)].map((m) => m[1]);
        const innerId = started.stdout.trim().split('\n')[0]!;
        expect(pids).toHaveLength(4);
        expect(innerId).toMatch(/^[0-9a-f]{64}$/);
        try {
          const dir = await cgroupDir(attacker.sandbox, 'cpuacct');
          // The inner container's cgroup nests under the sandbox's, so the sandbox's cap covers it.
          // Under gVisor inner containers' cgroups are gVisor's own: the host sees the sandbox's, which
          // holds all of gVisor, so its cap covers them too. The inner burner's share is not measured there.
          const innerUsage = gvisor ? `${dir}/cpuacct.usage` : `${dir}/docker/${innerId}/cpuacct.usage`;
          const usage = () =>
            [readFileSync(`${dir}/cpuacct.usage`, 'utf8'), readFileSync(innerUsage, 'utf8')].map(Number);
          await new Promise((r) => setTimeout(r, 500));
          const [sandbox0, inner0] = usage();
          const t0 = performance.now();
          await new Promise((r) => setTimeout(r, 3000));
          const [sandbox1, inner1] = usage();
          const seconds = (performance.now() - t0) / 1000;
          const cpus = (sandbox1! - sandbox0!) / 1e9 / seconds;
          expect(cpus, 'CPUs used by the sandbox').toBeLessThanOrEqual(LIMITS.cpus + 0.1);
          // Only a floor: on a busy 2-core host the burn may get well under its cap.
          expect(cpus, 'CPUs used by the sandbox (the burn ran)').toBeGreaterThan(0.05);
          expect(inner1! - inner0!, 'CPU ns used by the inner burner').toBeGreaterThan(0);
          // While it burns: the server and the bystander still answer.
          await expectStillResponsive();
        } finally {
          await sh(`kill ${pids.join(' ')}; docker rm -f burn >/dev/null`);
        }
        await expectStillResponsive();
      });

      // Attack: a memory bomb, from the shell and from an inner container.
      it('a memory bomb is killed inside its sandbox, at the sandbox limit', async () => {
        if (gvisor) {
          // Under gVisor the host's OOM killer takes gVisor's kernel, so the whole sandbox stops at its
          // limit (nothing else is touched); the learner's way out is a reset.
          await sh(`perl -e '$x = q(x) x (900 * 1024 * 1024); print qq(survived\\n)'`).catch(() => undefined);
          // The exec may end a moment before the engine has seen the sandbox stop.
          const sandbox = docker.getContainer(containerName(attacker.sandbox));
          for (let i = 0; i < 100 && (await sandbox.inspect()).State.Running; i++)
            await new Promise((r) => setTimeout(r, 100));
          const state = (await sandbox.inspect()).State;
          expect(state.OOMKilled).toBe(true);
          expect(state.Running).toBe(false);
          expect((await attacker.client.req('POST', `/api/sessions/${attacker.session}/reset`, {})).status).toBe(200);
          attacker.sandbox = server.sessions.sandboxOf(attacker.session);
          expect((await sh('docker pull -q busybox >/dev/null 2>&1; echo still-here')).stdout.trim()).toBe(
            'still-here',
          );
          await expectStillResponsive();
          return;
        }
        const r = await sh(
          `perl -e '$x = q(x) x (900 * 1024 * 1024); print qq(survived\\n)'; echo exit=$?
       docker run --rm busybox sh -c 'dd if=/dev/zero of=/dev/null bs=900M count=1 2>/dev/null && echo inner-survived' 2>&1; echo inner-exit=$?`,
        );
        expect(r.stdout).not.toContain('survived');
        expect(r.stdout).toMatch(/^exit=137$/m);
        expect(r.stdout).toMatch(/^inner-exit=137$/m);
        expect(await cgroupFile(attacker.sandbox, 'memory', 'memory.limit_in_bytes')).toBe(
          String(LIMITS.memoryMb * MiB),
        );
        expect((await sh('echo still-here')).stdout.trim()).toBe('still-here');
        await expectStillResponsive();
      });

      // Attack: filling the disk, from the shell (home, /tmp, anywhere) and from an inner container.
      it('filling the disk stops at the sandbox cap with "No space left on device"; the host disk is untouched', async () => {
        // What the sandbox's disk takes on the host: its sparse file's allocated blocks. (The host's free
        // space would count whatever else this shared machine writes meanwhile.)
        const image = join(server.config.dataDir, 'disks', `${attacker.sandbox}.img`);
        const allocated = () => statSync(image).blocks * 512;
        const before = allocated();
        const r = await sh(
          `dd if=/dev/zero of=/root/work/fill bs=1M count=${LIMITS.storageMb + 200} 2>&1 | grep -o 'No space left on device'
       docker run --rm -v /tmp:/t busybox dd if=/dev/zero of=/t/more bs=1M count=50 2>&1 | grep -o 'No space left on device'
       dd if=/dev/zero of=/fill bs=1M count=1 2>&1 | grep -o 'Read-only file system'
       df -m /var/lib/docker | tail -1; rm -f /root/work/fill /tmp/more`,
        );
        const lines = r.stdout.trim().split('\n');
        expect(lines.filter((l) => l === 'No space left on device')).toHaveLength(2);
        expect(r.stdout).toContain('Read-only file system');
        expect(Number(lines.at(-1)!.split(/\s+/)[1])).toBeLessThanOrEqual(LIMITS.storageMb);
        // At most what the cap allows reached the host's disk.
        expect(allocated() - before).toBeLessThan(LIMITS.storageMb * MiB);
        expect(statSync(image).size).toBe(LIMITS.storageMb * MiB);
        await expectStillResponsive();
      });

      // Attack: a flood of terminal output, to starve other terminals or exhaust the server's memory.
      it("a flood of terminal output: other terminals answer, the server's memory stays flat", async () => {
        // The attacker's browser, first reading and acknowledging everything at once (the fastest reader:
        // the server pumps as much as it can), then not reading at all (a hung tab: whatever the server
        // does not hold back piles up in its memory). It keeps only a tail, as xterm keeps a bounded scrollback.
        const ticket = await attacker.client.ticket(attacker.session);
        const ws = new WebSocket(
          `${server.url.replace('http', 'ws')}/api/sessions/${attacker.session}/ws?ticket=${encodeURIComponent(ticket)}`,
          { headers: { origin: TEST_ORIGIN } },
        );
        const seen = { opened: false, chars: 0, tail: '' };
        ws.on('message', (raw) => {
          const msg = JSON.parse(String(raw)) as ServerMessage;
          if (msg.type === 'opened') seen.opened = true;
          if (msg.type !== 'output') return;
          seen.chars += msg.data.length;
          seen.tail = (seen.tail + msg.data).slice(-4096);
          ws.send(JSON.stringify({ type: 'ack', term: msg.term, bytes: msg.data.length }));
        });
        await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
        const send = (msg: object) => ws.send(JSON.stringify(msg));
        const until = async (check: () => boolean, ms: number, what: string) => {
          const deadline = Date.now() + ms;
          while (!check()) {
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        };
        const FLOOD_S = 7;
        try {
          send({ type: 'open', term: 'flood', cols: 120, rows: 40 });
          await until(() => seen.opened, 10_000, 'the terminal to open');
          const rssBefore = process.memoryUsage().rss;
          let rssPeak = rssBefore;
          const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
          const floodStarted = Date.now();
          try {
            send({ type: 'input', term: 'flood', data: `timeout ${FLOOD_S} yes dockyard-flood\r` });
            await until(() => seen.chars > 1_000_000, 5000, 'the flood to start');
            // While it floods a fast reader: the server and the bystander still answer.
            const before = seen.chars;
            await expectStillResponsive();
            // And the flood goes on (under gVisor its output comes in bursts: a short check can fall
            // between two of them).
            await until(() => seen.chars > before, 5000, 'the flood to go on after the check');
            // While the attacker's browser reads nothing: the same, and the server holds the flood back.
            ws.pause();
            await new Promise((r) => setTimeout(r, 1000));
            await expectStillResponsive();
            await new Promise((r) => setTimeout(r, Math.max(0, floodStarted + FLOOD_S * 1000 - Date.now())));
            ws.resume();
          } finally {
            clearInterval(sampler);
          }
          expect((rssPeak - rssBefore) / MiB, 'server RSS growth during the flood (MiB)').toBeLessThan(64);
          // After the flood: Ctrl-C, and the attacker's own terminal answers again.
          send({ type: 'input', term: 'flood', data: '\x03' });
          // As a person would, a moment before typing on: keys that reach bash with the Ctrl-C can be
          // taken by readline and dropped with the line the Ctrl-C cancels ("cho: command not found").
          await new Promise((r) => setTimeout(r, 500));
          // It first drains what the flood left buffered (the terminal's keeper in the sandbox holds
          // some too): slow on a loaded machine, where 45 s was missed now and then, so a generous wait.
          // A line typed while bash still took in the Ctrl-C can be dropped whole under load (once in
          // CI): typed again, as a person would, while the terminal shows nothing more.
          const markers: string[] = [];
          const answered = () => markers.some((m) => seen.tail.includes(m));
          const deadline = Date.now() + 120_000;
          while (!answered()) {
            const marker = randomBytes(6).toString('hex');
            markers.push(marker);
            send({ type: 'input', term: 'flood', data: `echo ${marker.slice(0, 6)}''${marker.slice(6)}\r` });
            let chars = seen.chars;
            let quietSince = Date.now();
            while (!answered() && Date.now() - quietSince < 15_000) {
              if (Date.now() > deadline)
                throw new Error("timed out waiting for the attacker's terminal to answer after the flood");
              if (seen.chars !== chars) [chars, quietSince] = [seen.chars, Date.now()];
              await new Promise((r) => setTimeout(r, 50));
            }
          }
        } finally {
          ws.close();
        }
        await expectStillResponsive();
      }, 180_000);

      // Attack: using up the kernel's per-user quotas. With user namespaces every sandbox's root is one host
      // uid and every sandbox's user namespace belongs to host root, so these counts are one pool for all
      // learners: containers until the sandbox refuses more (each took a keyring key, 200 per uid), and
      // inotify instances until it refuses more (128 for host root and every sandbox together).
      it('a learner who exhausts their own sandbox leaves the shared quotas: others run containers, open terminals, are graded; new sandboxes start', async () => {
        // Four holders of inotify instances (a file watcher each), then containers until the pids limit.
        const watchers = await sh(
          `for i in 1 2 3 4; do
         perl -e '$| = 1; $n = 0; while ($n < 400 && syscall(294, 0) >= 0) { $n++ } print "$n $!\\n"; sleep 600' >/tmp/inotify.$i 2>&1 &
       done; sleep 2; cat /tmp/inotify.*`,
        );
        const held = watchers.stdout
          .trim()
          .split('\n')
          .map((l) => Number(l.split(' ')[0]));
        expect(held).toHaveLength(4);
        // Refused by the sandbox's own cap (1024 per uid in its user namespace, with what its engine holds).
        // Under gVisor inotify is gVisor's own, held in the sandbox's memory: nothing of the host's to refuse.
        if (!gvisor) expect(watchers.stdout).toContain('Too many open files');
        expect
          .soft(
            held.reduce((a, b) => a + b),
            'inotify instances held',
          )
          .toBeGreaterThan(900);
        const containers = await sh(
          // Under gVisor 20 (its kernel's threads count against the pids limit; past it the sandbox stops).
          `touch /tmp/started; while [ $(wc -l </tmp/started) -lt ${gvisor ? 20 : 200} ] &&
         docker run -d busybox sleep 1000 >>/tmp/started 2>/tmp/refused; do :; done
       cat /tmp/started; cat /tmp/refused >&2`,
          240_000,
        );
        const started = containers.stdout.trim().split('\n');
        expect(started.length, containers.stderr).toBeGreaterThan(8);
        // Its own pids limit refused the last one (runc inside could not start the container's process).
        if (!gvisor)
          expect(Number(await cgroupFile(attacker.sandbox, 'pids', 'pids.current'))).toBeGreaterThan(LIMITS.pids * 0.8);
        // Runc inside gives its containers no session keyring (keyctl is ENOSYS in a sandbox), so they
        // take nothing from the key quota of uid 100000.
        const keys = await sandboxRootKeys();
        expect
          .soft(
            started.filter((id) => keys.includes(`_ses.${id}`)),
            'inner containers holding a key',
          )
          .toEqual([]);

        // The other learner: containers, a new terminal, a watcher, a grade.
        const other = await sh(
          `docker run --rm busybox echo ran; perl -e 'print syscall(294, 0) >= 0 ? "watching\\n" : "inotify refused: $!\\n"'`,
          60_000,
          bystander,
        );
        expect.soft(other.stdout).toBe('ran\nwatching\n');
        await bystanderTerm.open('quota');
        await bystanderTerm.run('quota', "echo opened''-fine", /opened-fine/, ECHO_WITHIN_MS);
        const graded = bystanderTerm.messages.length;
        bystanderTerm.send({ type: 'grade', exercise: 'hello-exited' });
        const reply = await bystanderTerm.waitFor(
          (m) => bystanderTerm.messages.indexOf(m) >= graded && (m.type === 'grade' || m.type === 'error'),
          30_000,
        );
        expect(reply.type === 'grade' && reply.report.exercise).toBe('hello-exited');
        // The host's own root (a file watcher in this process) and a new learner's sandbox.
        expect(() => watch(tmpdir()).close(), 'a file watcher of host root').not.toThrow();
        const newcomer = await learner();
        expect((await sh('docker run --rm busybox echo fresh', 60_000, newcomer)).stdout).toBe('fresh\n');
        expect((await newcomer.client.req('DELETE', `/api/sessions/${newcomer.session}`)).status).toBeLessThan(300);
        await expectStillResponsive();

        // Processes up to the sandbox's last pid: its editor cannot read a file, and the learner is told
        // why rather than shown runc's words. (Under gVisor the sandbox stops as a whole there: the fork bombs below.)
        if (!gvisor) await atPidsLimit();

        // The attacker's way out, as after a fork bomb: a fresh sandbox.
        expect((await attacker.client.req('POST', `/api/sessions/${attacker.session}/reset`, {})).status).toBe(200);
        attacker.sandbox = server.sessions.sandboxOf(attacker.session);
      });

      async function atPidsLimit(): Promise<void> {
        // A forker that keeps taking every pid the sandbox frees (its engine's threads come and go), so
        // the sandbox stays at its limit while the editor asks.
        await sh(
          `setsid perl -e 'while (1) { my $p = fork(); if (!defined $p) { select(undef, undef, undef, 0.002) } elsif (!$p) { sleep 1000; exit } }' </dev/null >/dev/null 2>&1 &`,
        );
        for (
          let i = 0;
          i < 100 && Number(await cgroupFile(attacker.sandbox, 'pids', 'pids.current')) < LIMITS.pids;
          i++
        )
          await new Promise((r) => setTimeout(r, 100));
        let file = { status: 0, body: { error: { code: '', detail: '' } } };
        // A pid freed at the wrong moment can let one read through (a 404: there is no notes.txt); the
        // next one meets the limit again.
        for (let i = 0; i < 5 && file.status !== 409; i++)
          file = await attacker.client.req<{ error: { code: string; detail: string } }>(
            'GET',
            `/api/sessions/${attacker.session}/file?path=notes.txt`,
          );
        expect(file.status).toBe(409);
        expect(file.body.error.code).toBe('SANDBOX_AT_LIMIT');
        expect(file.body.error.detail).toMatch(new RegExp(`may run at most ${LIMITS.pids}`));
      }

      /**
       * Under gVisor every task of the sandbox runs on gVisor's kernel, which needs host threads: at the
       * sandbox's pids limit it cannot make one and stops, the whole sandbox with it, and nothing else.
       */
      async function expectStoppedWhole(): Promise<void> {
        const sandbox = docker.getContainer(containerName(attacker.sandbox));
        for (let i = 0; i < 300 && (await sandbox.inspect()).State.Running; i++)
          await new Promise((r) => setTimeout(r, 100));
        expect((await sandbox.inspect()).State.Running, 'the attacker sandbox stopped').toBe(false);
        // The learner is told, in words for them, with what to do (the error's hint: Reset).
        await expect(sh('true')).rejects.toMatchObject({
          code: 'SANDBOX_STOPPED',
          message: expect.stringContaining('Under gVisor a sandbox that reaches its memory or process limit'),
        });
      }

      // Attack: a fork bomb in an inner container (its processes count against the sandbox's limit).
      it('a fork bomb in an inner container hits the sandbox pids limit; a reset gives a fresh sandbox', async () => {
        if (gvisor) {
          await sh(`docker run -d --name bomb busybox sh -c 'b() { b | b & }; b; sleep 1000'`).catch(() => undefined);
          await expectStoppedWhole();
          await expectStillResponsive();
          expect((await attacker.client.req('POST', `/api/sessions/${attacker.session}/reset`, {})).status).toBe(200);
          attacker.sandbox = server.sessions.sandboxOf(attacker.session);
          expect((await sh('echo fresh')).stdout.trim()).toBe('fresh');
          return;
        }
        const innerId = // The container's first process only starts the bomb and sleeps: a shell that cannot fork
          // exits, and were it the first process, the container and its cgroup would go with it.
          (await sh(`docker run -d --name bomb busybox sh -c 'sh -c "b() { b | b & }; b" & exec sleep 1000'`)).stdout
            .trim()
            .split('\n')
            .at(-1)!;
        expect(innerId).toMatch(/^[0-9a-f]{64}$/);
        await new Promise((r) => setTimeout(r, 4000));
        const pidsDir = await cgroupDir(attacker.sandbox, 'pids');
        expect(readFileSync(`${pidsDir}/pids.max`, 'utf8').trim()).toBe(String(LIMITS.pids));
        expect(Number(readFileSync(`${pidsDir}/pids.current`, 'utf8'))).toBeGreaterThan(LIMITS.pids - 56);
        // Most of them are the inner container's: its cgroup nests under the sandbox's.
        expect(Number(readFileSync(`${pidsDir}/docker/${innerId}/pids.current`, 'utf8'))).toBeGreaterThan(
          LIMITS.pids / 2,
        );
        await expectStillResponsive();
        // The learner's way out: a reset replaces the sandbox.
        const reset = await attacker.client.req('POST', `/api/sessions/${attacker.session}/reset`, {});
        expect(reset.status).toBe(200);
        attacker.sandbox = server.sessions.sandboxOf(attacker.session);
        expect((await sh('echo fresh')).stdout.trim()).toBe('fresh');
        await expectStillResponsive();
      });

      // Attack: a fork bomb in the sandbox shell. Last: it leaves the sandbox unusable.
      it('a fork bomb in the shell hits the pids limit; the server and the other learner carry on', async () => {
        await sh('bomb() { bomb | bomb & }; (bomb) >/dev/null 2>&1 & sleep 4; true', 30_000).catch(() => undefined);
        if (gvisor) {
          await expectStoppedWhole();
          await expectStillResponsive();
          return;
        }
        expect(Number(await cgroupFile(attacker.sandbox, 'pids', 'pids.current'))).toBeGreaterThan(LIMITS.pids - 56);
        expect(await cgroupFile(attacker.sandbox, 'pids', 'pids.max')).toBe(String(LIMITS.pids));
        await expectStillResponsive();
      });
    });
  });
}
