// Time to a ready Swarm from a playground template: a new learner's session, then
// POST /api/sessions/:id/template until its answer (nodes started, joined, Swarm formed).
import type { SwarmTemplateId } from '@dockyard/content';
import { nodeKey } from '../src/sessions/session-manager.ts';
import { TestClient, type TestServer } from '../src/test-support/harness.ts';
import { checkInterrupted } from './servers.ts';
import { log, ms } from './stats.ts';

export async function swarmReadyTimes(server: TestServer, runs: number, template: SwarmTemplateId): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    checkInterrupted();
    const client = new TestClient(server.url);
    const started = performance.now();
    const created = await client.req<{ session: { id: string } }>('POST', '/api/sessions', {});
    if (created.status !== 201) throw new Error(`POST /api/sessions answered ${created.status}`);
    const id = created.body.session.id;
    const formed = await client.req<{ session: { nodes: string[] } }>('POST', `/api/sessions/${id}/template`, {
      template,
    });
    const elapsed = performance.now() - started;
    if (formed.status !== 200)
      throw new Error(`the template answered ${formed.status}: ${JSON.stringify(formed.body)}`);
    // Ready means every node Ready in the manager's eyes, not just the answer.
    const nodes = await server.driver.exec(server.sessions.sandboxOf(nodeKey(id, 'node1')), [
      '/usr/bin/docker',
      'node',
      'ls',
      '--format',
      '{{.Status}}',
    ]);
    const ready = nodes.stdout.split('\n').filter((l) => l === 'Ready').length;
    if (ready !== formed.body.session.nodes.length)
      throw new Error(`${ready} of ${formed.body.session.nodes.length} nodes Ready`);
    times.push(elapsed);
    log(`${template} ${i + 1}/${runs}: ${ms(elapsed)} (${ready} nodes Ready)`);
    const del = await client.req('DELETE', `/api/sessions/${id}`);
    if (del.status !== 204) throw new Error(`DELETE /api/sessions/:id answered ${del.status}`);
  }
  return times;
}
