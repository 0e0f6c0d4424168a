// The e2e server keeps its learners' sandboxes when it stops, as a real server does (they are
// re-adopted after a restart). Its data folder is temporary, so nothing would ever reap them:
// before and after a run, remove every sandbox whose disk lives in an e2e data folder, and the
// peer networks left without sandboxes.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerDriver } from '../sandbox-server/src/drivers/docker/docker-driver.ts';
import { removeAbandonedPeerNetworks } from '../sandbox-server/src/drivers/docker/peer-network.ts';
import { SANDBOX_LABEL } from '../sandbox-server/src/drivers/docker/sandbox-options.ts';
import { dockerClient } from '../sandbox-server/src/engine/engine.ts';

export const E2E_DATA_PREFIX = join(tmpdir(), 'dockyard-e2e-');

export default async function removeE2eSandboxes(): Promise<void> {
  const docker = dockerClient('/var/run/docker.sock');
  const containers = await docker.listContainers({ all: true, filters: { label: [SANDBOX_LABEL] } });
  for (const c of containers) {
    const source = c.Mounts.find((m) => m.Destination === '/var/lib/docker')?.Source ?? '';
    if (!source.startsWith(E2E_DATA_PREFIX)) continue;
    const dataDir = source.slice(0, source.indexOf('/disks/'));
    await new DockerDriver(docker, { diskDir: join(dataDir, 'disks') }).remove(c.Labels[SANDBOX_LABEL]!);
  }
  // The networks of their playground sessions, now that no sandbox is on them.
  await removeAbandonedPeerNetworks(docker);
}
