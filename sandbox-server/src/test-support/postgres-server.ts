// A throwaway PostgreSQL server for tests, started from Debian's `postgresql` binaries in a
// temporary folder on a free port, and removed afterwards. It never touches the system cluster.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './harness.ts';

const run = promisify(execFile);
const ROOT = '/usr/lib/postgresql';

export interface PostgresServer {
  /** postgres://dockyard@127.0.0.1:<port>/postgres; the role is trusted, no password. */
  url: string;
  /** Stops the server, keeping its data (an outage); `resume` starts it again on the same port. */
  halt(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** The newest installed server's bin folder, or undefined when the package is missing. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(ROOT)) return undefined;
  const versions = readdirSync(ROOT)
    .filter((v) => existsSync(join(ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return versions[0] && join(ROOT, versions[0], 'bin');
}

/** initdb and start a server. As root it runs as the `postgres` user, since PostgreSQL refuses root. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed: apt-get install -y postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
  const pg = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { cwd: dir })
      : run(join(bin, tool), args, { cwd: dir });

  try {
    const port = await freePort();
    await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'dockyard', '-E', 'UTF8', '--no-sync']);
    // A test server: durability is not the point, speed is.
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    const start = () => pg('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', 'start']);
    await start();
    return {
      url: `postgres://dockyard@127.0.0.1:${port}/postgres`,
      halt: async () => void (await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'])),
      resume: async () => void (await start()),
      async stop() {
        try {
          await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function postgresUser(): { uid: number; gid: number } {
  const fields = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))
    ?.split(':');
  if (!fields?.[2] || !fields[3]) throw new Error('There is no postgres user; the postgresql package creates it');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}
