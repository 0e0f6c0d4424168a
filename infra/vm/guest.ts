// Runs inside the cgroup v2 test VM (bundled by run.ts, started by guest-init.sh): the engine as the
// set-up configures it, then the driver's own sandboxes, checked for what docs/security.md promises.
// Each result is one line on the console: `VMTEST ok <name>` or `VMTEST fail <name>: <why>`.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { DockerDriver } from '../../sandbox-server/src/drivers/docker/docker-driver.ts';
import { dockerClient } from '../../sandbox-server/src/engine/engine.ts';
import { ApiError } from '../../sandbox-server/src/errors.ts';
import { ensureNetwork } from '../../images/mirror.ts';
import { applyPolicy, SANDBOX_BRIDGE } from '../engine/network-policy.ts';
import { ensureEngine } from '../setup/lib/engine.ts';
import { mustRun, run } from '../setup/lib/run.ts';

const PAYLOAD = '/payload';
const MiB = 2 ** 20;
const LIMITS = { memoryBytes: 384 * MiB, cpus: 1, pids: 300, storageBytes: 1024 * MiB };
/** Everything is slow under software emulation: give the engine inside a sandbox a few minutes. */
const READY_MS = 300_000;

let failures = 0;
const say = (line: string) => console.log(`VMTEST ${line}`);

/** A check that takes longer is stuck, not slow (the slowest took 8 min on a loaded machine). */
const STUCK_MS = 15 * 60_000;

class Stuck extends Error {}

/** Load and the processes waiting on the kernel, read from /proc alone (a command could hang too). */
function machineState(): string {
  const blocked = processes().filter((p) => p.state === 'D');
  const names = blocked.map((p) => `${p.pid} ${p.comm} (${p.wchan})`).join(', ');
  return `load ${readFileSync('/proc/loadavg', 'utf8').trim()}; ${blocked.length} in D state${names ? `: ${names}` : ''}`;
}

function processes(): { pid: string; comm: string; state: string; wchan: string }[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        const wchan = readFileSync(`/proc/${pid}/wchan`, 'utf8');
        return [{ pid, comm, state, wchan }];
      } catch {
        return []; // gone meanwhile
      }
    });
}

/** What a stuck check leaves on the console: the engine's processes, its log, the kernel's. */
function diagnose(): void {
  const engine = processes().filter((p) => /dockerd|containerd|runc|docker|mount|mkfs|losetup/.test(p.comm));
  say(`info engine processes: ${engine.map((p) => `${p.pid} ${p.comm} ${p.state} (${p.wchan})`).join(', ')}`);
  const tail = (cmd: string[]) =>
    (spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 10_000 }).stdout ?? '').trim().split('\n');
  for (const line of tail(['tail', '-n', '15', '/var/log/dockerd.log'])) say(`info dockerd.log: ${line}`);
  for (const line of tail(['dmesg']).slice(-15)) say(`info dmesg: ${line}`);
}

/**
 * Runs one check and says how it went. A check still running after STUCK_MS ends the run: the
 * console gets what the machine was doing, and the later checks (which build on this one) are not
 * run. Every two minutes a running check says it still runs, with the machine's load.
 */
async function check(name: string, fn: () => Promise<void>, stuckMs = STUCK_MS): Promise<void> {
  const started = performance.now();
  const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
  const beat = setInterval(() => say(`info still in "${name}" after ${elapsed()} s: ${machineState()}`), 120_000);
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Stuck(`still running after ${stuckMs / 60_000} min`)), stuckMs);
  });
  try {
    await Promise.race([fn(), stuck]);
    say(`ok ${name} (${elapsed()} s)`);
  } catch (err) {
    failures++;
    let message = err instanceof Error ? err.message : String(err);
    // A program that would not start names its log: its last lines say why.
    const log = /Its log: (\S+)/.exec(message)?.[1];
    if (log && existsSync(log)) message += ` | ${readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ')}`;
    if (err instanceof Stuck) message += `; ${machineState()}`;
    say(`fail ${name}: ${message.replace(/\s+/g, ' ').slice(0, 900)}`);
    if (err instanceof Stuck) {
      diagnose();
      throw err;
    }
  } finally {
    clearInterval(beat);
    clearTimeout(timer);
  }
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

const docker = dockerClient('/var/run/docker.sock');

/** Runs bash in a sandbox and returns its output; throws with it when the exit code is not `code`. */
async function sh(driver: DockerDriver, id: string, script: string, code = 0, input?: string): Promise<string> {
  const r = await driver.exec(id, ['bash', '-c', script], { timeoutMs: 300_000, ...(input ? { input } : {}) });
  const out = `${r.stdout}${r.stderr}`.trim();
  if (r.exitCode !== code) throw new Error(`\`${script.slice(0, 80)}\` exited ${r.exitCode}: ${out.slice(-300)}`);
  return out;
}

/** The sandbox container's cgroup directory on this (cgroup v2) host. */
function cgroupOf(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim();
  return `/sys/fs/cgroup${line.slice(line.indexOf('::') + 2)}`;
}

const readNumber = (file: string) => readFileSync(file, 'utf8').trim();

/**
 * The cgroups of the tree at `dir` that refused a fork. Before Linux 6.13 a refusal counts in the
 * `pids.events` of the forking task's own cgroup (the inner container's), not of the cgroup whose
 * limit refused it (the sandbox's): Debian 12's 6.1 reports it there.
 */
function refusingCgroups(dir: string): string[] {
  // A cgroup whose parent does not hand it the pids controller has no pids.events.
  const events = `${dir}/pids.events`;
  const own = existsSync(events) && /^max [1-9]/m.test(readNumber(events)) ? [dir] : [];
  const below = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => refusingCgroups(`${dir}/${e.name}`));
  return [...own, ...below];
}

/** Host pids whose command line contains `marker`. */
function pidsWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The engine as the set-up starts it, with or without user namespaces. */
async function startEngine(userns: boolean): Promise<void> {
  await run(['sh', '-c', 'pkill -x dockerd; while pgrep -x dockerd >/dev/null; do sleep 0.2; done']);
  const config = JSON.parse(readFileSync(`${PAYLOAD}/daemon.json`, 'utf8')) as Record<string, unknown>;
  // Runtimes this VM lacks (runsc) are not part of what is tested here.
  delete config.runtimes;
  if (!userns) delete config['userns-remap'];
  writeFileSync('/tmp/daemon.json', JSON.stringify(config));
  const engine = await ensureEngine('/tmp/daemon.json', '/var/log/dockerd.log', 240_000);
  expect(engine.userns === userns, `the engine's user namespaces are ${engine.userns}, wanted ${userns}`);
  await mustRun(['docker', 'load', '-q', '-i', `${PAYLOAD}/sandbox.tar`]);
  await ensureNetwork();
}

/**
 * A sandbox from the driver, with busybox loaded into its inner engine (there is no mirror here).
 * Returns the sandbox container's cgroup (the engine's cgroupfs driver puts it at docker/<id>; its
 * init moves itself into a leaf below it, `init`, so its own /proc/<pid>/cgroup says .../init).
 */
async function sandbox(driver: DockerDriver, id: string): Promise<string> {
  await driver.create({ id, limits: LIMITS });
  const busybox = readFileSync(`${PAYLOAD}/busybox.tar`).toString('base64');
  const load = 'base64 -d | docker load -q >/dev/null && docker tag dockyard-lib/busybox:latest busybox';
  await sh(driver, id, load, 0, busybox);
  const info = await docker.getContainer(`dockyard-sbx-${id}`).inspect();
  const dir = `/sys/fs/cgroup/docker/${info.Id}`;
  const at = cgroupOf(info.State.Pid);
  expect(at.startsWith(dir), `the sandbox's init is in ${at}, not under ${dir}`);
  return dir;
}

async function withUserNamespaces(): Promise<void> {
  const driver = new DockerDriver(docker, { readyTimeoutMs: READY_MS, diskDir: '/var/lib/dockyard/disks' });
  let dir = '';
  await check('the engine runs on cgroup v2 only, with user namespaces, as the set-up configures it', async () => {
    await startEngine(true);
    const info = (await docker.info()) as { CgroupVersion?: string; Warnings?: string[] | null };
    for (const w of info.Warnings ?? []) say(`info engine warning: ${w}`);
    expect(info.CgroupVersion === '2', `CgroupVersion is ${info.CgroupVersion}`);
    expect(!existsSync('/sys/fs/cgroup/memory/'), 'a cgroup v1 hierarchy is mounted');
    await driver.checkIsolation(false);
  });
  await check("a sandbox starts with the driver's options and its inner engine runs a container", async () => {
    dir = await sandbox(driver, 'v2a');
    const out = await sh(driver, 'v2a', 'docker run --rm busybox echo inner-ok');
    expect(out.endsWith('inner-ok'), out);
  });
  await check('its cgroup holds the limits: memory equal to memory+swap, CPUs, pids', async () => {
    expect(
      readNumber(`${dir}/memory.max`) === String(LIMITS.memoryBytes),
      `memory.max ${readNumber(`${dir}/memory.max`)}`,
    );
    expect(readNumber(`${dir}/memory.swap.max`) === '0', `memory.swap.max ${readNumber(`${dir}/memory.swap.max`)}`);
    expect(readNumber(`${dir}/cpu.max`) === '100000 100000', `cpu.max ${readNumber(`${dir}/cpu.max`)}`);
    expect(readNumber(`${dir}/pids.max`) === String(LIMITS.pids), `pids.max ${readNumber(`${dir}/pids.max`)}`);
  });
  await check("an inner container's processes sit under the sandbox's cgroup", async () => {
    await sh(driver, 'v2a', 'docker run -d --name nested busybox sleep 4242 >/dev/null');
    const [inner] = pidsWith('sleep 4242');
    expect(inner !== undefined, 'the inner sleep is not visible on the host');
    const at = cgroupOf(inner!);
    expect(at.startsWith(`${dir}/`), `the inner process is in ${at}, outside ${dir}`);
    await sh(driver, 'v2a', 'docker rm -f nested >/dev/null');
  });
  await check('nothing the learner controls can write outside the sandbox cgroup', async () => {
    const uid = Number(
      readFileSync('/etc/subuid', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('dockremap:'))!
        .split(':')[1],
    );
    const owned = (await mustRun(['find', '/sys/fs/cgroup', '-uid', String(uid)])).stdout
      .trim()
      .split('\n')
      .filter(Boolean);
    const outside = owned.filter((p) => p !== dir && !p.startsWith(`${dir}/`));
    expect(owned.length > 0, 'the sandbox was not handed its cgroup');
    expect(outside.length === 0, `sandbox root owns ${outside.slice(0, 3).join(', ')}`);
    // Inside, the cgroup file system's root is the sandbox's own subtree.
    const procs = await sh(
      driver,
      'v2a',
      'cat /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/*/cgroup.procs 2>/dev/null | wc -l',
    );
    expect(Number(procs) < 100, `the sandbox sees ${procs} processes in its cgroup root`);
  });
  await check(
    'an inner container that takes more than the sandbox memory is killed; the sandbox stays up',
    async () => {
      const r = await driver.exec(
        'v2a',
        ['docker', 'run', '--rm', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/dev/null bs=600M count=1'],
        {
          timeoutMs: 300_000,
        },
      );
      expect(r.exitCode !== 0, `a 600 MiB allocation in a ${LIMITS.memoryBytes / MiB} MiB sandbox succeeded`);
      const events = readNumber(`${dir}/memory.events`);
      expect(/oom_kill [1-9]/.test(events), `no OOM kill in the sandbox: ${events.replace(/\n/g, ', ')}`);
      const out = await sh(driver, 'v2a', 'docker run --rm busybox echo still-up');
      expect(out.endsWith('still-up'), out);
    },
  );
  await check(
    'the pids limit holds, inner containers included',
    async () => {
      await sh(
        driver,
        'v2a',
        // The forks come from an exec: a shell that cannot fork exits, and were it the container's
        // first process, the container (and the cgroup counting the refusals) would go with it.
        `docker run -d --name forky busybox sleep 3600 >/dev/null && docker exec -d forky sh -c 'for i in $(seq 600); do sleep 3600 & done'`,
      );
      // Emulation is slow, the more so beside other work (a loaded CI machine took over 3 min): wait
      // for the limit to be hit as long as the processes keep growing, giving up after a minute
      // without growth (or 10 min in all).
      const hit = () => refusingCgroups(dir).length > 0;
      let most = 0;
      let grewAt = Date.now();
      for (const start = Date.now(); !hit() && Date.now() - start < 600_000 && Date.now() - grewAt < 60_000;) {
        await new Promise((r) => setTimeout(r, 2000));
        const now = Number(readNumber(`${dir}/pids.current`));
        if (now > most) [most, grewAt] = [now, Date.now()];
      }
      const current = Number(readNumber(`${dir}/pids.current`));
      expect(current <= LIMITS.pids, `pids.current ${current} is over ${LIMITS.pids}`);
      expect(hit(), `the limit was never reached: no fork refused, pids.current ${current} (most ${most})`);
      // The sandbox has no pid left for a `docker rm`: the forking container goes from outside first,
      // found by its processes (the cgroup a refusal is counted in varies with the kernel), and the
      // check waits for the kernel to free their pids.
      const forks = new Set(
        pidsWith('sleep 3600').flatMap((pid) => {
          try {
            return [cgroupOf(pid)];
          } catch {
            return []; // gone meanwhile
          }
        }),
      );
      for (const c of forks) if (c.startsWith(`${dir}/`)) writeFileSync(`${c}/cgroup.kill`, '1');
      for (const start = Date.now(); Date.now() - start < 120_000;) {
        if (Number(readNumber(`${dir}/pids.current`)) < LIMITS.pids / 2) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      const left = Number(readNumber(`${dir}/pids.current`));
      expect(left < LIMITS.pids / 2, `pids.current still ${left} after killing the forks`);
      await sh(driver, 'v2a', 'docker rm -f forky >/dev/null');
      const out = await sh(driver, 'v2a', 'docker run --rm busybox echo forks-gone');
      expect(out.endsWith('forks-gone'), out);
    },
    20 * 60_000,
  ); // it waits up to 12 min for the limit and the forks' end by itself
  await check("the sandbox reaches none of the VM's own addresses", async () => {
    await mustRun(['ip', 'link', 'add', 'probe0', 'type', 'dummy']);
    await mustRun(['ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'probe0']);
    await mustRun(['ip', 'link', 'set', 'probe0', 'up']);
    const server = createServer((_q, res) => res.end('vm')).listen(8123, '0.0.0.0');
    try {
      // As the set-up applies it; there is no mirror here, so it stands at an unused address.
      await applyPolicy({ bridge: SANDBOX_BRIDGE, mirrorIp: '172.18.255.254', mirrorPort: 5000, egressAllow: [] });
      const gateway = (await sh(driver, 'v2a', "ip route | awk '/default/ {print $3}'")).trim();
      for (const ip of [gateway, '10.99.0.1', '172.17.0.1']) {
        const r = await driver.exec('v2a', ['curl', '-s', '-m', '5', `http://${ip}:8123/`]);
        expect(r.exitCode !== 0 && !r.stdout.includes('vm'), `the sandbox reached the VM at ${ip}`);
      }
      // And it is the policy that stops it, not a broken network: the VM itself answers.
      const local = await run(['curl', '-s', '-m', '5', 'http://10.99.0.1:8123/']);
      expect(local.stdout === 'vm', 'the VM does not answer itself');
    } finally {
      server.close();
    }
  });
  await driver.remove('v2a').catch(() => undefined);
}

async function withoutUserNamespaces(): Promise<void> {
  const driver = new DockerDriver(docker, { readyTimeoutMs: READY_MS, diskDir: '/var/lib/dockyard/disks' });
  await check('an engine without user namespaces is refused unless DOCKYARD_ALLOW_NO_USERNS=1', async () => {
    await startEngine(false);
    const err = await driver.checkIsolation(false).catch((e: unknown) => e);
    expect(err instanceof ApiError && err.code === 'ENGINE_WITHOUT_USERNS', `got ${String(err)}`);
    await driver.checkIsolation(true);
  });
  await check('with the opt-in, a sandbox works there and its limits cover its containers', async () => {
    const dir = await sandbox(driver, 'v2b');
    expect(readNumber(`${dir}/memory.max`) === String(LIMITS.memoryBytes), 'memory.max not set');
    await sh(driver, 'v2b', 'docker run -d --name nested busybox sleep 4343 >/dev/null');
    const [inner] = pidsWith('sleep 4343');
    expect(
      inner !== undefined && cgroupOf(inner).startsWith(`${dir}/`),
      'the inner container is outside the sandbox cgroup',
    );
  });
  await driver.remove('v2b').catch(() => undefined);
}

try {
  await withUserNamespaces();
  await withoutUserNamespaces();
} catch (err) {
  // A stuck check has said so already; the checks after it build on it.
  if (!(err instanceof Stuck)) {
    failures++;
    say(`fail setup: ${(err as Error).stack ?? String(err)}`);
  }
}
say(`done ${failures} failed`);
// A stuck call (an engine that never answers) would keep Node, and the VM, running.
process.exit(0);
