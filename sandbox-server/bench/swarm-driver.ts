// Sandbox ready time through the swarm driver: three sandbox hosts on this machine (the swarm tier's
// set-up), each create timed from the service's creation until its inner engine answers and its
// host agent has done the host's part, one after the other, as learners arriving one by one.
import { TEST_LIMITS, testSandboxId } from '../src/drivers/conformance.ts';
import { startSandboxSwarm } from '../src/test-support/sandbox-swarm.ts';
import { checkInterrupted } from './servers.ts';
import { log, ms } from './stats.ts';

const MiB = 2 ** 20;

export async function swarmDriverReadyTimes(runs: number): Promise<{ times: number[]; spread: string }> {
  const swarm = await startSandboxSwarm({ log });
  try {
    const times: number[] = [];
    const nodes = new Map<string, number>();
    for (let i = 0; i < runs; i++) {
      checkInterrupted();
      const id = testSandboxId();
      const started = performance.now();
      await swarm.driver.create({ id, limits: { ...TEST_LIMITS, memoryBytes: 512 * MiB, storageBytes: 1024 * MiB } });
      times.push(performance.now() - started);
      const [task] = (await swarm.rig.manager.listTasks({ filters: { service: [`dockyard-sbx-${id}`] } })) as {
        NodeID: string;
      }[];
      nodes.set(task!.NodeID, (nodes.get(task!.NodeID) ?? 0) + 1);
      log(`swarm driver ${i + 1}/${runs}: ${ms(times.at(-1)!)}`);
      await swarm.driver.remove(id);
    }
    return { times, spread: [...nodes.values()].join('/') };
  } finally {
    await swarm.close();
  }
}
