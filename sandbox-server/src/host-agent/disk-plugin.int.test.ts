// The disk plugin as an engine uses it: volumes made, mounted into containers and removed by dockerd.
//
// The engine is one of the test's own, not the host's: an engine never forgets a legacy plugin it
// has used, and once the plugin's socket is gone it retries every call to it for 15 s. The host's
// engine would spend 15 s on each `docker volume ls` after this test, and 15 s per such plugin
// on each look-up of an unknown volume name, until it restarts. This one lives in a mount
// namespace of its own, with its own /run/docker/plugins, so no other engine meets the plugin.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustRun, run } from '../../../infra/setup/lib/run.ts';
import { remappedRoot } from '../drivers/docker/cgroup-delegation.ts';
import { testSandboxId } from '../drivers/conformance.ts';
import { DISK_MOUNTS, SandboxDisks } from '../drivers/docker/sandbox-disk.ts';
import { startDiskPlugin, type DiskPlugin } from './disk-plugin.ts';

const BUSYBOX = 'dockyard-lib/busybox:latest';
const MiB = 2 ** 20;
const SIZE = 64 * MiB;
const FOLDERS = Object.keys(DISK_MOUNTS) as (keyof typeof DISK_MOUNTS)[];

/** Mount points at or under `dir`, in this (the host's) mount namespace. */
const mountsUnder = (dir: string) =>
  readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((target) => target === dir || target.startsWith(`${dir}/`));

/** One request to a plugin's socket, as the engine makes it. */
function call(
  socket: string,
  endpoint: string,
  body: object = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path: endpoint, method: 'POST' }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject).end(JSON.stringify(body));
  });
}

/**
 * A dockerd with its data under `dir`, no network, and `pluginDir` as its /run/docker/plugins. It
 * configures user namespaces as the host's engine does. `dir` must be a shared mount: the disks the
 * plugin mounts there (in the host's namespace) then show in the engine's. Its containers stop with it.
 */
async function startEngine(dir: string, pluginDir: string) {
  const socket = join(dir, 'docker.sock');
  const config = {
    'userns-remap': 'default',
    'storage-driver': 'overlay2',
    'exec-opts': ['native.cgroupdriver=cgroupfs'],
  };
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ ...config, 'deprecated-key-path': join(dir, 'key.json') }));
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const engine: ChildProcess = spawn(
    'unshare',
    [
      ...['--mount', '--net', '--propagation', 'slave'],
      ...['sh', '-c', 'mount --bind "$1" /run/docker/plugins && shift && exec dockerd "$@"', 'sh', pluginDir],
      ...['--config-file', join(dir, 'daemon.json'), '-H', `unix://${socket}`, '--pidfile', join(dir, 'dockerd.pid')],
      ...['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--bridge=none', '--iptables=false'],
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const exited = new Promise((resolve) => engine.once('exit', resolve));
  const stop = async () => {
    engine.kill('SIGTERM');
    const timer = setTimeout(() => engine.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  const docker = (...args: string[]) => run(['docker', '-H', `unix://${socket}`, ...args]);
  for (const deadline = Date.now() + 30_000; (await docker('version')).code !== 0;) {
    if (engine.exitCode !== null || Date.now() > deadline) {
      await stop();
      const tail = readFileSync(join(dir, 'dockerd.log'), 'utf8').slice(-2000);
      throw new Error(`The test's dockerd did not start:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { docker, stop };
}

describe('the disk plugin, with a real engine', () => {
  const uid = remappedRoot(readFileSync('/etc/subuid', 'utf8'))!;
  const root = mkdtempSync(join(tmpdir(), 'dockyard-disk-plugin-'));
  const pluginDir = join(root, 'plugins');
  const disks = new SandboxDisks(join(root, 'disks'), 0);
  const id = testSandboxId();
  const volume = (folder: string) => `dockyard-${id}-${folder}`;
  const record = () => readFile(join(disks.dir, `${id}.volumes.json`), 'utf8').then(JSON.parse);
  const mounts = FOLDERS.flatMap((f) => ['-v', `${volume(f)}:${DISK_MOUNTS[f]}`]);
  const requests: string[] = [];
  let engine: Awaited<ReturnType<typeof startEngine>>;
  let plugin: DiskPlugin;
  const start = () => startDiskPlugin({ disks, uid, socketDir: pluginDir, log: (line) => requests.push(line) });
  const inSandbox = (script: string) =>
    engine.docker('run', '--rm', '--network', 'none', ...mounts, BUSYBOX, 'sh', '-c', script);

  beforeAll(async () => {
    // The remapped root passes through to the engine's data and to the disks.
    chmodSync(root, 0o711);
    for (const dir of ['plugins', 'disks', 'engine']) mkdirSync(join(root, dir));
    await mustRun(['mount', '--bind', root, root]);
    await mustRun(['mount', '--make-shared', root]);
    engine = await startEngine(join(root, 'engine'), pluginDir);
    await mustRun([
      'sh',
      '-c',
      `docker save "$1" | docker -H "unix://$2" load -q`,
      'sh',
      BUSYBOX,
      join(root, 'engine', 'docker.sock'),
    ]);
    plugin = await start();
  });

  afterAll(async () => {
    if (engine) {
      const lines = async (...args: string[]) => (await engine.docker(...args)).stdout.split('\n').filter(Boolean);
      for (const container of await lines('ps', '-aq')) await engine.docker('rm', '-f', container);
      for (const name of await lines('volume', 'ls', '-q')) await engine.docker('volume', 'rm', '-f', name);
    }
    // A disk whose volumes the engine could not remove (a test that failed midway) goes all the same.
    for (const left of await disks.list()) await disks.remove(left);
    await plugin?.close();
    await engine?.stop();
    await mustRun(['umount', root]);
    const left = mountsUnder(root);
    if (left.length) throw new Error(`Mounts left under ${root}, which stays: ${left.join(', ')}`);
    await rm(root, { recursive: true });
  });

  it('answers the handshake, and 404 to what it does not know', async () => {
    expect(await call(plugin.socket, '/Plugin.Activate')).toEqual({
      status: 200,
      body: { Implements: ['VolumeDriver'] },
    });
    expect((await call(plugin.socket, '/VolumeDriver.Capabilities')).body).toEqual({
      Capabilities: { Scope: 'local' },
    });
    const unknown = await call(plugin.socket, '/VolumeDriver.Snapshot');
    expect(unknown.status).toBe(404);
    expect(unknown.body.Err).toMatch(/no such endpoint/);
  });

  it('makes one disk for the four volumes of a sandbox, created at once', async () => {
    // All four at once: the engine locks per volume name, so the plugin gets four concurrent Creates.
    const made = await Promise.all(
      FOLDERS.map((f) =>
        engine.docker(
          'volume',
          'create',
          '-d',
          'dockyard-disk',
          ...['-o', `sandbox=${id}`, '-o', `folder=${f}`, '-o', `size=${SIZE}`],
          volume(f),
        ),
      ),
    );
    expect(made.map((r) => r.stderr.trim())).toEqual(['', '', '', '']);
    expect(await disks.list()).toEqual([id]);
    expect(mountsUnder(disks.dir)).toEqual([disks.mountPoint(id)]);
    expect(await record()).toEqual(Object.fromEntries(FOLDERS.map((f) => [volume(f), f])));
    const listed = await engine.docker('volume', 'ls', '--format', '{{.Driver}} {{.Name}}');
    expect(listed.stdout.trim().split('\n').sort()).toEqual(FOLDERS.map((f) => `dockyard-disk ${volume(f)}`).sort());
    const [home] = JSON.parse((await engine.docker('volume', 'inspect', volume('home'))).stdout);
    const Mountpoint = join(disks.mountPoint(id), 'home');
    expect(home).toMatchObject({ Driver: 'dockyard-disk', Mountpoint });
    expect((await call(plugin.socket, '/VolumeDriver.Path', { Name: volume('home') })).body).toEqual({ Mountpoint });
    expect((await call(plugin.socket, '/VolumeDriver.Get', { Name: volume('home') })).body).toEqual({
      Volume: { Name: volume('home'), Mountpoint, Status: {} },
    });
  });

  it("gives containers the disk's folders, as writable as in a sandbox and full at the disk's size", async () => {
    const wrote = await inSandbox('echo kept > /root/note && dd if=/dev/zero of=/tmp/fill bs=1M count=100');
    expect(wrote.stderr).toContain('No space left on device');
    expect((await inSandbox('cat /root/note; df -k /tmp | tail -1')).stdout).toMatch(/^kept\n\S+\s+\d+/);
    // Written by the container's root, which is the remapped root on the host.
    expect((await stat(join(disks.mountPoint(id), 'home', 'note'))).uid).toBe(uid);
    // The host spent at most the disk's size on it, not the 100 MiB asked for.
    const image = await stat(join(disks.dir, `${id}.img`));
    expect(image.blocks * 512).toBeLessThanOrEqual(SIZE);
    expect(image.blocks * 512).toBeGreaterThan(SIZE / 2);
  });

  it('refuses bad options, naming the option and what it may be', async () => {
    const other = testSandboxId();
    const create = (name: string, ...opts: string[]) =>
      engine.docker('volume', 'create', '-d', 'dockyard-disk', ...opts.flatMap((o) => ['-o', o]), name);
    const noSize = await create(`dockyard-${other}-tmp`, `sandbox=${other}`, 'folder=tmp');
    expect(noSize.code).not.toBe(0);
    expect(noSize.stderr).toContain(`option size must be the disk's size in bytes (a positive integer), not ""`);
    const etc = await create(`dockyard-${other}-etc`, `sandbox=${other}`, 'folder=etc', `size=${SIZE}`);
    expect(etc.code).not.toBe(0);
    expect(etc.stderr).toContain('option folder must be one of docker, home, tmp, log, not "etc"');
    expect(await disks.list()).toEqual([id]);
  });

  it('passes on OUT_OF_CAPACITY when the host has no room for another disk', async () => {
    const full = await startDiskPlugin({
      name: 'dockyard-disk-full',
      disks: new SandboxDisks(join(root, 'full'), Number.MAX_SAFE_INTEGER),
      uid,
      socketDir: pluginDir,
    });
    try {
      const opts = { sandbox: 'x', folder: 'home', size: String(SIZE) };
      const { body } = await call(full.socket, '/VolumeDriver.Create', { Name: 'x-home', Opts: opts });
      expect(body.Err).toMatch(/^OUT_OF_CAPACITY: The sandboxes' disks would not fit on this host's disk/);
      expect((await call(full.socket, '/VolumeDriver.List')).body).toEqual({ Volumes: [] });
    } finally {
      await full.close();
    }
  });

  it('will not mount a disk that is not mounted on the host (after a reboot)', async () => {
    const other = testSandboxId();
    const opts = { sandbox: other, folder: 'tmp', size: String(SIZE) };
    expect((await call(plugin.socket, '/VolumeDriver.Create', { Name: `${other}-tmp`, Opts: opts })).body).toEqual({});
    await mustRun(['umount', disks.mountPoint(other)]);
    try {
      expect((await call(plugin.socket, '/VolumeDriver.Mount', { Name: `${other}-tmp`, ID: 'c1' })).body).toEqual({
        Err: `the disk of sandbox ${other} is not mounted (did the host restart?)`,
      });
    } finally {
      expect((await call(plugin.socket, '/VolumeDriver.Remove', { Name: `${other}-tmp` })).body).toEqual({});
    }
    expect(await disks.list()).toEqual([id]);
  });

  it('knows the volumes of a live disk after a restart', async () => {
    await plugin.close();
    plugin = await start();
    const listed = await engine.docker('volume', 'ls', '-q', '--filter', 'driver=dockyard-disk');
    expect(listed.stdout.trim().split('\n').sort()).toEqual(FOLDERS.map(volume).sort());
    expect(requests.at(-1)).toMatch(/^\/VolumeDriver\.List /);
    expect((await inSandbox('cat /root/note')).stdout).toBe('kept\n');
  });

  it('deletes the disk with the last of its volumes', async () => {
    const image = join(disks.dir, `${id}.img`);
    for (const f of ['docker', 'home', 'tmp']) expect((await engine.docker('volume', 'rm', volume(f))).code).toBe(0);
    expect(mountsUnder(disks.dir)).toEqual([disks.mountPoint(id)]);
    expect(await record()).toEqual({ [volume('log')]: 'log' });
    expect((await engine.docker('volume', 'rm', volume('log'))).code).toBe(0);
    expect(mountsUnder(disks.dir)).toEqual([]);
    await expect(stat(image)).rejects.toThrow(/ENOENT/);
    await expect(record()).rejects.toThrow(/ENOENT/);
    expect(await disks.list()).toEqual([]);
    // Again: the engine says it has none, and so does the plugin.
    expect((await engine.docker('volume', 'rm', volume('log'))).stderr).toMatch(/no such volume/);
    expect((await call(plugin.socket, '/VolumeDriver.Remove', { Name: volume('log') })).body).toEqual({
      Err: `no such volume: ${volume('log')}`,
    });
  });
});
