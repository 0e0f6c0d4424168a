// Each sandbox's own disk: a sparse file on the host, formatted ext4 and loop-mounted, so that a
// learner who fills it gets "No space left on device" in their sandbox while the host's disk, its
// memory and the other sandboxes are untouched. The sandbox's writable places (the inner engine's
// storage, root's home, /tmp) are folders on it; the rest of the sandbox's filesystem is read-only.
// The files are sparse, so a new disk is admitted only while the volume they live on has room for
// every disk to fill up, and a reserve besides for the server's store, the engine and the mirror.
import { mkdir, open, readdir, readFile, rm, rmdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { mustRun, run } from '../../../../infra/setup/lib/run.ts';
import { ApiError } from '../../errors.ts';

/** Folders on the disk, and where the sandbox sees each. */
export const DISK_MOUNTS = {
  docker: '/var/lib/docker',
  home: '/root',
  tmp: '/tmp',
  log: '/var/log',
} as const;
export type DiskFolder = keyof typeof DISK_MOUNTS;

/** Created on every new disk: the learner's working folder must exist before the shell starts there. */
const WORK_DIR = 'home/work';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
/** Free space new disks leave on their volume, by default (DOCKYARD_DISK_RESERVE_MB). */
export const DEFAULT_DISK_RESERVE_BYTES = 2 * GiB;

export interface DiskRoom {
  /** Free on the volume now (for unprivileged writers: root's reserved blocks are not counted). */
  freeBytes: number;
  /** What the disks there may still grow into: their size less what they use already. */
  promisedBytes: number;
  reserveBytes: number;
  /** What a new disk may have: free, less promised, less the reserve. */
  roomBytes: number;
}

const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

export class SandboxDisks {
  readonly dir: string;
  readonly reserveBytes: number;
  /** Admissions one at a time: each sees the disks admitted before it. */
  #admitting: Promise<unknown> = Promise.resolve();

  constructor(dir: string, reserveBytes = DEFAULT_DISK_RESERVE_BYTES) {
    this.dir = dir;
    this.reserveBytes = reserveBytes;
  }

  #image = (id: string) => join(this.dir, `${id}.img`);
  mountPoint = (id: string) => join(this.dir, id);

  /**
   * Makes and mounts a disk of `bytes` for a sandbox whose root is host uid `uid` (0 without user
   * namespaces). Returns the mount point. The file is sparse: the host spends only what is written.
   */
  async create(id: string, bytes: number, uid = 0): Promise<string> {
    const image = this.#image(id);
    const mnt = this.mountPoint(id);
    await mkdir(mnt, { recursive: true });
    try {
      await this.#admit(image, bytes);
      // One shell for the whole making, not a process per step: each spawn from the server costs
      // several ms, and this is on the path of every new sandbox.
      //   -m 0: no blocks reserved for root (sandbox root would get them anyway). Lazy init: a few
      //   GiB format in under 10 ms instead of writing every inode table now.
      //   nodev, nosuid: a device node or setuid file the learner makes on their disk means nothing.
      const folders = [...Object.keys(DISK_MOUNTS), WORK_DIR].map((f) => join(mnt, f));
      await mustRun(
        [
          'sh',
          '-ec',
          `mkfs.ext4 -q -F -m 0 -E lazy_itable_init=1,lazy_journal_init=1,root_owner=$3:$3 "$1"
         mount -o loop,nodev,nosuid "$1" "$2"
         shift 3
         mkdir -p "$@" && chown "$UID_GID" "$@"
         chmod 1777 "$TMP_DIR" && rm -rf "$LOST"`,
          'make-disk',
          image,
          mnt,
          String(uid),
          ...folders,
        ],
        { env: { ...process.env, UID_GID: `${uid}:${uid}`, TMP_DIR: join(mnt, 'tmp'), LOST: join(mnt, 'lost+found') } },
      );
      return mnt;
    } catch (err) {
      await this.remove(id);
      throw err;
    }
  }

  /** How much room the volume under the disks has for another one. */
  async room(): Promise<DiskRoom> {
    await mkdir(this.dir, { recursive: true });
    const volume = await statfs(this.dir);
    let promisedBytes = 0;
    for (const id of await this.list()) {
      const info = await stat(this.#image(id)).catch(() => undefined);
      if (info) promisedBytes += Math.max(0, info.size - info.blocks * 512);
    }
    const freeBytes = volume.bavail * volume.bsize;
    const { reserveBytes } = this;
    return { freeBytes, promisedBytes, reserveBytes, roomBytes: freeBytes - promisedBytes - reserveBytes };
  }

  /**
   * Makes the sparse file of a new disk if its whole size fits the room left, else OUT_OF_CAPACITY.
   * Once made, the file counts as promised to every admission after it.
   */
  #admit(image: string, bytes: number): Promise<void> {
    const admitted = this.#admitting.then(async () => {
      const room = await this.room();
      if (room.roomBytes < bytes) {
        throw new ApiError(
          'OUT_OF_CAPACITY',
          `The sandboxes' disks would not fit on this host's disk: ${gib(room.freeBytes)} free, of which ` +
            `${gib(room.promisedBytes)} is promised to the disks of running sandboxes and ${gib(room.reserveBytes)} ` +
            `kept for the server; a sandbox's disk is ${Math.round(bytes / MiB)} MiB.`,
        );
      }
      const file = await open(image, 'wx', 0o600);
      await file.truncate(bytes);
      await file.close();
    });
    this.#admitting = admitted.catch(() => undefined);
    return admitted;
  }

  /** Binds for the container's HostConfig: each folder of the disk at its place in the sandbox. */
  binds(mnt: string): string[] {
    return Object.entries(DISK_MOUNTS).map(([folder, target]) => `${join(mnt, folder)}:${target}`);
  }

  /** Unmounts and deletes a sandbox's disk. Removing one that is gone is not an error. */
  async remove(id: string): Promise<void> {
    const mnt = this.mountPoint(id);
    if (await isMounted(mnt)) {
      const r = await run(['umount', mnt]);
      // Busy only if something on the host still has a file open there: detach now, free when closed.
      if (r.code !== 0) await mustRun(['umount', '--lazy', mnt]);
    }
    await rmdir(mnt).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rm(this.#image(id), { force: true });
  }

  /** How long ago a sandbox's disk file was made, in ms (Infinity when there is none). */
  async ageMs(id: string): Promise<number> {
    const info = await stat(this.#image(id)).catch(() => undefined);
    return info ? Date.now() - (info.birthtimeMs || info.mtimeMs) : Infinity;
  }

  /** Ids of the sandboxes that have a disk here. */
  async list(): Promise<string[]> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    return entries.filter((e) => e.endsWith('.img')).map((e) => e.slice(0, -'.img'.length));
  }
}

async function isMounted(path: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  // The kernel writes a space in a path as \040.
  const escaped = path.replaceAll(' ', '\\040');
  return mounts.split('\n').some((line) => line.split(' ')[1] === escaped);
}
