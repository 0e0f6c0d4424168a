// The host agent's command, run by systemd on each sandbox host of a Swarm (infra/swarm/,
// docs/swarm.md): `node sandbox-server/src/host-agent/main.ts`, as root. Settings come from the
// environment: DOCKYARD_DOCKER_SOCKET (this host's engine) and DOCKYARD_DATA_DIR (the sandboxes'
// disks go in its disks folder).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { engineRemappedRoot } from '../drivers/docker/cgroup-delegation.ts';
import { SandboxDisks } from '../drivers/docker/sandbox-disk.ts';
import { dockerClient } from '../engine/engine.ts';
import { startHostAgent } from './agent.ts';

const say = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

async function main(): Promise<void> {
  const socket = process.env.DOCKYARD_DOCKER_SOCKET ?? '/var/run/docker.sock';
  const dataDir = process.env.DOCKYARD_DATA_DIR ?? '/var/lib/dockyard';
  if (process.getuid?.() !== 0) throw new Error('The host agent runs as root: it mounts disks and hands out cgroups.');
  const docker = dockerClient(socket);
  // The engine may still be starting (systemd starts the agent after it, not once it answers).
  for (let tries = 0; ; tries++) {
    try {
      await docker.ping();
      break;
    } catch (err) {
      if (tries === 60) throw new Error(`No engine answers at ${socket}: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const uid = await engineRemappedRoot(docker);
  if (uid === undefined) say('warning: this engine runs containers without user namespaces (docs/swarm.md)');
  const disksDir = join(dataDir, 'disks');
  mkdirSync(disksDir, { recursive: true, mode: 0o711 });
  const agent = await startHostAgent({ docker, uid, disks: new SandboxDisks(disksDir), log: say });
  say(`host agent ready: engine ${socket}, disks in ${disksDir}`);
  const stop = async (signal: string) => {
    say(`${signal}: stopping (sandboxes and their disks stay)`);
    await agent.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: Error) => {
  console.error(`host agent: ${err.message}`);
  process.exit(1);
});
