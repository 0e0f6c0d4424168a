import { describe, expect, it } from 'vitest';
import { FakeDriver } from '../drivers/fake/fake-driver.ts';
import { createNodes } from './node-set.ts';

const limits = { memoryBytes: 1, cpus: 1, pids: 1, storageBytes: 1 };

describe('createNodes', () => {
  it('makes one node a single sandbox, with no peer network', async () => {
    const driver = new FakeDriver();
    const set = await createNodes(driver, { id: 'v1', nodes: 1, limits, labels: { 'org.dockyard.verify': 'x' } });
    expect(set.nodes).toEqual([{ name: 'node1', sandboxId: 'v1' }]);
    expect(driver.created[0]?.labels).toEqual({ 'org.dockyard.verify': 'x', 'org.dockyard.node': 'node1' });
    expect(driver.peerNetworks.size).toBe(0);
    await set.remove();
    expect(driver.sandboxes.size).toBe(0);
  });

  it('puts several nodes on a peer network under their names, forms the template Swarm, and removes it all', async () => {
    const driver = new FakeDriver();
    const ran: string[] = [];
    driver.onExec = (cmd) => {
      ran.push(cmd.join(' '));
      const stdout = cmd.includes('info') ? 'inactive false' : cmd.includes('join-token') ? `T-${cmd.at(-1)}` : '';
      return { exitCode: 0, stdout, stderr: '' };
    };
    const set = await createNodes(driver, { id: 'v2', nodes: 3, template: 'swarm-1-2', limits });
    expect(set.nodes.map((n) => `${n.name}=${n.sandboxId}`)).toEqual(['node1=v2', 'node2=v2-n2', 'node3=v2-n3']);
    expect([...driver.peerNetworks.get('v2')!.members.values()].sort()).toEqual(['node1', 'node2', 'node3']);
    expect(ran).toContain('hostname node2');
    expect(ran).toContain('/usr/bin/docker swarm init --advertise-addr eth1');
    expect(ran.filter((c) => c.endsWith('--token T-worker node1:2377'))).toHaveLength(2);
    await set.remove();
    expect(driver.sandboxes.size).toBe(0);
    expect(driver.peerNetworks.size).toBe(0);
  });

  it('removes what it started when a node fails to start', async () => {
    const driver = new FakeDriver();
    driver.failNext = 1;
    await expect(createNodes(driver, { id: 'v3', nodes: 3, limits })).rejects.toThrow('fake engine refused');
    expect(driver.sandboxes.size).toBe(0);
    expect(driver.peerNetworks.size).toBe(0);
  });
});
