// The host agent's Docker volume plugin, which makes sandboxes' own disks (sandbox-disk.ts) on the
// host Swarm chose. A service cannot bind a folder that does not exist yet on a node it has not
// chosen yet, but it can mount volumes of a driver, which the engine of the chosen node asks for. A
// sandbox has one volume per folder of DISK_MOUNTS, all on one disk: the first Create makes it, the
// last Remove deletes it.
//
// It speaks the legacy (non-managed) plugin protocol: JSON over HTTP on a unix socket the engine
// finds by name in /run/docker/plugins. It holds no state of its own: its volumes are those recorded
// in <disk dir>/<id>.volumes.json beside a disk that exists, so a restarted agent answers for what
// the one before it made.
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ApiError } from '../errors.ts';
import { DISK_MOUNTS, type DiskFolder, type SandboxDisks } from '../drivers/docker/sandbox-disk.ts';
import { DISK_DRIVER } from '../drivers/swarm/service-spec.ts';

export interface DiskPluginOptions {
  /** The driver's name, as services give it (VolumeOptions.DriverConfig.Name): its socket's name. */
  name?: string;
  disks: SandboxDisks;
  /** Host uid of sandbox root: the remapped root's under user namespaces, else 0. */
  uid: number;
  socketDir?: string;
  /** Each request and its answer, a line each. */
  log?: (line: string) => void;
}

export interface DiskPlugin {
  socket: string;
  /** Stops answering and removes the socket. The disks and their volumes stay. */
  close(): Promise<void>;
}

/** A sandbox's volumes: volume name → folder of its disk. */
type Volumes = Record<string, DiskFolder>;
type Body = Record<string, unknown>;

const FOLDERS = Object.keys(DISK_MOUNTS) as DiskFolder[];
const SANDBOX_ID = /^[A-Za-z0-9_-]+$/;
const CONTENT_TYPE = 'application/vnd.docker.plugins.v1+json';

export async function startDiskPlugin(opts: DiskPluginOptions): Promise<DiskPlugin> {
  const { name = DISK_DRIVER, disks, uid, socketDir = '/run/docker/plugins', log } = opts;
  const socket = join(socketDir, `${name}.sock`);
  const recordOf = (id: string) => join(disks.dir, `${id}.volumes.json`);
  const mountpoint = (id: string, folder: DiskFolder) => join(disks.mountPoint(id), folder);

  async function read(id: string): Promise<Volumes> {
    const text = await readFile(recordOf(id), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '{}';
      throw err;
    });
    return JSON.parse(text) as Volumes;
  }

  /** Replaces the record at once (a crash leaves the old one or the new one), or deletes it when empty. */
  async function write(id: string, volumes: Volumes): Promise<void> {
    if (Object.keys(volumes).length === 0) return rm(recordOf(id), { force: true });
    await writeFile(`${recordOf(id)}.new`, JSON.stringify(volumes));
    await rename(`${recordOf(id)}.new`, recordOf(id));
  }

  /** Every volume, found anew each time from the disks there are and their records. */
  async function all(): Promise<Map<string, { id: string; folder: DiskFolder }>> {
    const found = new Map<string, { id: string; folder: DiskFolder }>();
    for (const id of await disks.list())
      for (const [volume, folder] of Object.entries(await read(id))) found.set(volume, { id, folder });
    return found;
  }

  async function find(volume: unknown) {
    const found = (await all()).get(String(volume));
    if (!found) throw new Error(`no such volume: ${String(volume)}`);
    return { ...found, Name: String(volume), Mountpoint: mountpoint(found.id, found.folder) };
  }

  // The engine sends the four Creates of a sandbox at once: one at a time per sandbox, so that the
  // first makes the disk and the others find it made (and a Remove never meets a Create halfway).
  const queues = new Map<string, Promise<unknown>>();
  function serially<T>(id: string, work: () => Promise<T>): Promise<T> {
    const done = (queues.get(id) ?? Promise.resolve()).then(work);
    const queued = done.catch(() => undefined);
    queues.set(id, queued);
    void queued.then(() => queues.get(id) === queued && queues.delete(id));
    return done;
  }

  async function create({ Name, Opts }: Body) {
    const { id, folder, size } = parseOptions(Opts);
    const volume = String(Name);
    return serially(id, async () => {
      const known = (await all()).get(volume);
      if (known && (known.id !== id || known.folder !== folder))
        throw new Error(`volume ${volume} is already folder ${known.folder} of sandbox ${known.id}`);
      const made = (await disks.list()).includes(id);
      // A record beside no disk is what a crash mid-Remove left: not this sandbox's volumes.
      const volumes = made ? await read(id) : {};
      // Recorded before the disk is made, so that no disk is ever without the volumes that remove it.
      // The disk's size is the first volume's: the others ask for the same.
      await write(id, { ...volumes, [volume]: folder });
      if (made) return {};
      try {
        await disks.create(id, size, uid);
      } catch (err) {
        await write(id, {}); // the disk is gone too: create removes what it made
        throw err;
      }
      return {};
    });
  }

  async function remove({ Name }: Body) {
    const { id } = await find(Name);
    return serially(id, async () => {
      const { [String(Name)]: removed, ...rest } = await read(id);
      if (!removed) throw new Error(`no such volume: ${String(Name)}`);
      // The disk goes before its record: a crash between the two leaves a record of no disk (ignored).
      if (Object.keys(rest).length === 0) await disks.remove(id);
      await write(id, rest);
      return {};
    });
  }

  async function mount({ Name }: Body) {
    const { id, Mountpoint } = await find(Name);
    // After a reboot the disk file is there but no longer mounted: its folder would be the host's disk.
    const [mnt, dir] = await Promise.all([stat(disks.mountPoint(id)), stat(disks.dir)]);
    if (mnt.dev === dir.dev) throw new Error(`the disk of sandbox ${id} is not mounted (did the host restart?)`);
    return { Mountpoint };
  }

  const endpoints: Record<string, (body: Body) => Promise<object>> = {
    '/Plugin.Activate': async () => ({ Implements: ['VolumeDriver'] }),
    '/VolumeDriver.Capabilities': async () => ({ Capabilities: { Scope: 'local' } }),
    '/VolumeDriver.Create': create,
    '/VolumeDriver.Remove': remove,
    '/VolumeDriver.Mount': mount,
    // The engine unmounts when a container that used the volume stops; the disk stays mounted for the next.
    '/VolumeDriver.Unmount': async ({ Name }) => (await find(Name), {}),
    '/VolumeDriver.Path': async ({ Name }) => ({ Mountpoint: (await find(Name)).Mountpoint }),
    '/VolumeDriver.Get': async ({ Name }) => {
      const { Mountpoint } = await find(Name);
      return { Volume: { Name, Mountpoint, Status: {} } };
    },
    '/VolumeDriver.List': async () => ({
      Volumes: [...(await all())].map(([Name, { id, folder }]) => ({ Name, Mountpoint: mountpoint(id, folder) })),
    }),
  };

  async function answer(req: IncomingMessage): Promise<{ status: number; body: object; request: string }> {
    let request = '';
    for await (const chunk of req.setEncoding('utf8')) request += chunk as string;
    const endpoint = req.method === 'POST' ? endpoints[req.url ?? ''] : undefined;
    if (!endpoint) return { status: 404, body: { Err: `no such endpoint: ${req.method} ${req.url}` }, request };
    try {
      return { status: 200, body: await endpoint((JSON.parse(request || '{}') ?? {}) as Body), request };
    } catch (err) {
      // The protocol's way to fail: an answer with Err. A code (OUT_OF_CAPACITY) goes along, for the
      // driver that reads it back from the task's error.
      const message = err instanceof ApiError ? `${err.code}: ${err.message}` : (err as Error).message;
      return { status: 200, body: { Err: message }, request };
    }
  }

  const server = createServer((req, res) => {
    answer(req).then(
      ({ status, body, request }) => {
        log?.(`${req.url} ${request.trim()} → ${status} ${JSON.stringify(body)}`);
        res.writeHead(status, { 'Content-Type': CONTENT_TYPE }).end(JSON.stringify(body));
      },
      () => res.destroy(), // the request broke off before its end
    );
  });
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  await mkdir(disks.dir, { recursive: true }); // the first record may come before the first disk
  await removeStaleSocket(socket);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socket, resolve));
  return {
    socket,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      // An engine that scans the folder must not find a plugin that is not there.
      await rm(socket, { force: true });
    },
  };
}

/** The options of a Create, checked. The engine passes the message on as it is, to whoever made the volume. */
function parseOptions(opts: unknown): { id: string; folder: DiskFolder; size: number } {
  const { sandbox, folder, size, ...others } = (opts ?? {}) as Record<string, string | undefined>;
  const unknown = Object.keys(others);
  if (unknown.length) throw new Error(`unknown option ${unknown.join(', ')}: the options are sandbox, folder and size`);
  if (!sandbox || !SANDBOX_ID.test(sandbox))
    throw new Error(
      `option sandbox must be the sandbox's id (letters, digits, - and _), not ${JSON.stringify(sandbox ?? '')}`,
    );
  if (!FOLDERS.includes(folder as DiskFolder))
    throw new Error(`option folder must be one of ${FOLDERS.join(', ')}, not ${JSON.stringify(folder ?? '')}`);
  const bytes = Number(size);
  if (!/^[1-9][0-9]*$/.test(size ?? '') || !Number.isSafeInteger(bytes))
    throw new Error(
      `option size must be the disk's size in bytes (a positive integer), not ${JSON.stringify(size ?? '')}`,
    );
  return { id: sandbox, folder: folder as DiskFolder, size: bytes };
}

/** A socket file that nothing answers on is a crashed agent's: it would keep a new one from listening. */
async function removeStaleSocket(socket: string): Promise<void> {
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(socket, () => (probe.end(), resolve(true))).once('error', () => resolve(false));
  });
  if (live) throw new Error(`${socket} is answered by a plugin already`);
  await rm(socket, { force: true });
}
