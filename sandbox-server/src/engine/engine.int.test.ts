// The engine seam against the real Docker Engine: it answers, and it runs a real container.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { dockerClient, dockerEngine } from './engine.ts';

const docker = dockerClient('/var/run/docker.sock');

describe('docker engine', () => {
  it('reports its version', async () => {
    const info = await dockerEngine(docker).info();
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Number(info.apiVersion)).toBeGreaterThanOrEqual(1.41);
  });

  it('starts a real container and reads what it printed', async () => {
    let out = '';
    const sink = new PassThrough().on('data', (d: Buffer) => (out += d.toString()));
    const [result, container] = (await docker.run(
      'dockyard-lib/busybox:latest',
      ['sh', '-c', 'echo hello from $(hostname)'],
      sink,
      {
        Hostname: 'spine',
        HostConfig: { AutoRemove: false },
      },
    )) as [{ StatusCode: number }, { remove: (o: object) => Promise<void> }];
    await container.remove({ force: true });
    expect(result.StatusCode).toBe(0);
    expect(out).toContain('hello from spine');
  });
});
