// What stack.yml must hold that `docker stack deploy` would not check: server settings that exist,
// the platform on managers only, nothing privileged, no virtual IPs or ingress (no IPVS here), and
// docs/swarm.md in step with the variables and ports it names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../sandbox-server/src/config.ts';
import { SANDBOX_HOST_LABEL } from '../../sandbox-server/src/drivers/swarm/service-spec.ts';

type Mount = string | { type?: string; source?: string; target?: string };
interface Service {
  image?: string;
  environment?: Record<string, unknown> | string[];
  volumes?: Mount[];
  ports?: (string | { target?: number; published?: number; mode?: string })[];
  cap_add?: string[];
  privileged?: boolean;
  deploy?: {
    replicas?: number;
    endpoint_mode?: string;
    placement?: { constraints?: string[]; preferences?: unknown[] };
  };
}
interface Stack {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string }[] } }>;
}

const stack = parse(readFileSync(join(import.meta.dirname, 'stack.yml'), 'utf8')) as Stack;
const services = Object.entries(stack.services);
const doc = readFileSync(join(import.meta.dirname, '../../docs/swarm.md'), 'utf8');

const envOf = (s: Service): Record<string, string> =>
  Array.isArray(s.environment)
    ? Object.fromEntries(s.environment.map((e) => e.split(/=(.*)/s).slice(0, 2)))
    : Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
const mountOf = (m: Mount) => {
  if (typeof m !== 'string') return m;
  const [source, target] = m.split(':');
  return { source, target };
};
const server = stack.services.server!;
const serverEnv = envOf(server);

/** Keys compose.yaml knows and `docker stack deploy` drops with no more than a warning. */
const IGNORED_BY_SWARM = ['privileged', 'network_mode', 'pid', 'userns_mode', 'devices', 'security_opt', 'restart'];

describe('stack.yml', () => {
  it('sets only settings the server has', () => {
    const names = services.flatMap(([, s]) => Object.keys(envOf(s)));
    const ours = names.filter((n) => n.startsWith('DOCKYARD_') || n === 'DATABASE_URL');
    expect(ours.filter((n) => !(n in configSchema.shape))).toEqual([]);
  });

  it('runs the server on managers, with the swarm driver and the manager engine socket', () => {
    expect(serverEnv.DOCKYARD_DRIVER).toBe('swarm');
    expect(server.deploy?.placement?.constraints).toContain('node.role == manager');
    const socket = serverEnv.DOCKYARD_DOCKER_SOCKET;
    expect((server.volumes ?? []).map(mountOf)).toContainEqual(
      expect.objectContaining({ source: '/var/run/docker.sock', target: socket }),
    );
  });

  it('runs at least two server replicas', () => {
    expect(server.deploy?.replicas).toBeGreaterThanOrEqual(2);
  });

  it.each(services)('puts %s on the platform hosts only, unprivileged', (_, s) => {
    // A sandbox host's engine remaps users, and its label is for sandboxes alone.
    expect(s.deploy?.placement?.constraints).toContain('node.role == manager');
    expect(JSON.stringify(s.deploy?.placement ?? {})).not.toContain(SANDBOX_HOST_LABEL);
    expect(s.privileged).not.toBe(true);
    expect(s.cap_add ?? []).toEqual([]);
    expect(Object.keys(s).filter((k) => IGNORED_BY_SWARM.includes(k))).toEqual([]);
  });

  it.each(services)('gives %s no virtual IP and publishes its ports in host mode (no IPVS)', (_, s) => {
    expect(s.deploy?.endpoint_mode).toBe('dnsrr');
    for (const port of s.ports ?? []) expect(port).toMatchObject({ mode: 'host' });
  });

  it('publishes nginx on its hosts', () => {
    expect(stack.services.nginx?.ports?.length).toBeGreaterThan(0);
  });

  it("keeps PostgreSQL's data on a named volume", () => {
    const data = (stack.services.postgres?.volumes ?? [])
      .map(mountOf)
      .find((m) => m.target === '/var/lib/postgresql/data');
    expect(data?.source).toBeDefined();
    expect(Object.keys(stack.volumes ?? {})).toContain(data!.source);
  });

  it('trusts the platform network, where nginx is, as the proxy', () => {
    const subnets = Object.values(stack.networks ?? {}).flatMap((n) => n.ipam?.config?.map((c) => c.subnet) ?? []);
    expect(subnets).toContain(serverEnv.DOCKYARD_TRUSTED_PROXIES);
  });
});

describe('docs/swarm.md', () => {
  const variables = [...readFileSync(join(import.meta.dirname, 'stack.yml'), 'utf8').matchAll(/\$\{(\w+)/g)].map(
    (m) => m[1]!,
  );
  it.each([...new Set(variables)])('says what to set %s to', (name) => {
    expect(doc).toMatch(new RegExp(`\\| \`${name}\` \\|`));
  });

  it("writes nginx.conf for the replicas' ports and nginx's", () => {
    const [platform, previews] = (stack.services.nginx?.ports ?? []).map((p) => (typeof p === 'string' ? p : p.target));
    expect(doc).toContain(`upstreams: ['server:${serverEnv.DOCKYARD_PORT}']`);
    expect(doc).toContain(`previewUpstreams: ['server:${serverEnv.DOCKYARD_PREVIEW_PORT}']`);
    expect(doc).toContain(`listen: '${platform}'`);
    expect(doc).toContain(`previewListen: '${previews}'`);
  });
});
