// The network policy with real sandboxes: the mirror answers; a neighbour sandbox and the host do not.
// Only local targets are probed (another sandbox, a listener on this host); the private ranges and the
// metadata address are checked as rules, since traffic to them must never leave this machine.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../setup/lib/run.ts';
import { DockerDriver } from '../../sandbox-server/src/drivers/docker/docker-driver.ts';
import { containerName } from '../../sandbox-server/src/drivers/docker/sandbox-options.ts';
import { TEST_LIMITS, testSandboxId } from '../../sandbox-server/src/drivers/conformance.ts';
import { dockerClient } from '../../sandbox-server/src/engine/engine.ts';
import { SANDBOX_NETWORK } from '../../images/platform.ts';
import { BLOCKED_RANGES, FORWARD_CHAIN, INPUT_CHAIN } from './network-policy.ts';

const docker = dockerClient('/var/run/docker.sock');
const driver = new DockerDriver(docker);
const a = testSandboxId();
const b = testSandboxId();
let hostServer: Server;
let hostPort = 0;

const sh = async (id: string, script: string) =>
  (await driver.exec(id, ['bash', '-c', script], { timeoutMs: 30_000 })).stdout.trim();
const ipOf = async (id: string) =>
  (await docker.getContainer(containerName(id)).inspect()).NetworkSettings.Networks[SANDBOX_NETWORK]!.IPAddress;
/** curl's HTTP code, or 000 when nothing answered within 3 s. */
const curlCode = (url: string) => `curl -s -o /dev/null -m 3 -w '%{http_code}' ${url} || true`;

beforeAll(async () => {
  await Promise.all([a, b].map((id) => driver.create({ id, limits: TEST_LIMITS })));
  hostServer = createServer((_req, res) => res.end('host')).listen(0, '0.0.0.0');
  await new Promise((r) => hostServer.once('listening', r));
  hostPort = (hostServer.address() as { port: number }).port;
});
afterAll(async () => {
  hostServer.close();
  await Promise.all([a, b].map((id) => driver.remove(id)));
});

describe('sandbox network policy', () => {
  it('lets a sandbox pull from the mirror', async () => {
    expect(await sh(a, curlCode('http://mirror:5000/v2/'))).toBe('200');
  });

  it('keeps a sandbox from reaching another one, though that one serves', async () => {
    await sh(
      b,
      'docker run -d -p 7777:80 nginx >/dev/null 2>&1; for i in $(seq 40); do curl -fs localhost:7777 >/dev/null && break; sleep 0.25; done',
    );
    expect(await sh(b, curlCode('http://localhost:7777'))).toBe('200');
    expect(await sh(a, curlCode(`http://${await ipOf(b)}:7777`))).toBe('000');
  });

  it('keeps a sandbox from reaching the host, though the host serves on every interface', async () => {
    const net = (await docker.getNetwork(SANDBOX_NETWORK).inspect()) as {
      IPAM: { Config: Array<{ Gateway: string }> };
    };
    const gateway = net.IPAM.Config[0]!.Gateway;
    const fromHost = await run(['curl', '-s', '-m', '3', `http://${gateway}:${hostPort}`]);
    expect(fromHost.stdout).toBe('host');
    expect(await sh(a, curlCode(`http://${gateway}:${hostPort}`))).toBe('000');
  });

  it('refuses private ranges and the metadata address before any allow-list', async () => {
    const chain = (await run(['iptables', '-w', '-S', FORWARD_CHAIN])).stdout;
    for (const cidr of BLOCKED_RANGES) expect(chain).toContain(`-d ${cidr} -j REJECT`);
    expect(chain.trim().split('\n').at(-1)).toMatch(new RegExp(`^-A ${FORWARD_CHAIN} -j REJECT`));
    expect((await run(['iptables', '-w', '-S', INPUT_CHAIN])).stdout).toContain(`-A ${INPUT_CHAIN} -j REJECT`);
  });
});
