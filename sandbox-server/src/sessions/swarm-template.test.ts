// formSwarm on the fake driver: who inits, who joins with which token, and nodes already in the
// swarm given the template's role.
import { describe, expect, it } from 'vitest';
import { FakeDriver } from '../drivers/fake/fake-driver.ts';
import { formSwarm } from './swarm-template.ts';

const nodes = ['node1', 'node2', 'node3'].map((name) => ({ name, sandboxId: `sb-${name}` }));

async function setup(info: string) {
  const driver = new FakeDriver();
  for (const n of nodes)
    await driver.create({ id: n.sandboxId, limits: { memoryBytes: 1, cpus: 1, pids: 1, storageBytes: 1 } });
  driver.onExec = (cmd) => {
    const out = (stdout: string) => ({ exitCode: 0, stdout, stderr: '' });
    if (cmd.includes('info')) return out(info);
    if (cmd.includes('join-token')) return out(`TOKEN-${cmd.at(-1)}`);
    return out('');
  };
  return driver;
}
const swarmCommands = (driver: FakeDriver) =>
  driver.ran.map((c) => c.join(' ')).filter((c) => / swarm (init|join) | node (promote|demote) /.test(c));

describe('formSwarm', () => {
  it('inits on the first node, joins the next as managers one by one, the rest as workers', async () => {
    const driver = await setup('inactive false ');
    const steps: string[] = [];
    await formSwarm(driver, nodes, 2, (s) => steps.push(s));
    expect(swarmCommands(driver)).toEqual([
      '/usr/bin/docker swarm init --advertise-addr eth1',
      '/usr/bin/docker swarm join --advertise-addr eth1 --token TOKEN-manager node1:2377',
      '/usr/bin/docker swarm join --advertise-addr eth1 --token TOKEN-worker node1:2377',
    ]);
    expect(steps).toEqual([
      'node1: docker swarm init',
      'node2: docker swarm join (manager)',
      'node3: docker swarm join (worker)',
    ]);
  });

  it('gives nodes already in the swarm the role the template wants, by their own swarm id', async () => {
    const driver = await setup('');
    // node1 manages; node2 is a worker the template wants as manager, node3 a manager it wants as worker.
    const views: Record<string, string> = {
      'sb-node1': 'active true id1',
      'sb-node2': 'active false id2',
      'sb-node3': 'active true id3',
    };
    driver.onExecIn = (sandboxId, cmd) => {
      if (cmd.includes('info')) return { exitCode: 0, stdout: views[sandboxId]!, stderr: '' };
      if (cmd.includes('promote')) views['sb-node2'] = 'active true id2';
      if (cmd.includes('demote')) views['sb-node3'] = 'active false id3';
      return { exitCode: 0, stdout: cmd.includes('join-token') ? 'TOKEN' : '', stderr: '' };
    };
    await formSwarm(driver, nodes, 2);
    expect(swarmCommands(driver)).toEqual(['/usr/bin/docker node promote id2', '/usr/bin/docker node demote id3']);
  });

  it('refuses a first node that is in a swarm it does not manage', async () => {
    const driver = await setup('active false id1');
    await expect(formSwarm(driver, nodes, 1)).rejects.toMatchObject({ code: 'SWARM_FAILED' });
  });
});
