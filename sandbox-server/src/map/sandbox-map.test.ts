// The sandbox map from engine API replies as a 20.10 engine gives them, and its live registry on a fake driver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeSessions } from '../test-support/fake-sessions.ts';
import { ApiError } from '../errors.ts';
import { sandboxMapSchema } from '../protocol/messages.ts';
import { EngineEvents } from '../sessions/engine-events.ts';
import { buildMap, SandboxMapRegistry, type SandboxMap } from './sandbox-map.ts';

const endpoint = (network: string) => ({
  IPAMConfig: null,
  Links: null,
  Aliases: null,
  NetworkID: `${network}-id`,
  EndpointID: '',
  Gateway: '',
  IPAddress: '',
  IPPrefixLen: 0,
  MacAddress: '',
  DriverOpts: null,
});

/** `GET /containers/json?all=1`, trimmed to a realistic few fields more than the map reads. */
const containers = [
  {
    Id: 'a1'.repeat(32),
    Names: ['/web'],
    Image: 'nginx',
    ImageID: `sha256:${'b2'.repeat(32)}`,
    Command: '/docker-entrypoint.sh nginx -g daemon off;',
    Created: 1_730_000_000,
    Ports: [
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { PrivatePort: 443, Type: 'tcp' },
    ],
    Labels: { maintainer: 'NGINX Docker Maintainers' },
    State: 'running',
    Status: 'Up 3 minutes',
    HostConfig: { NetworkMode: 'default' },
    NetworkSettings: { Networks: { bridge: { ...endpoint('bridge'), IPAddress: '172.17.0.2' } } },
    Mounts: [
      {
        Type: 'bind',
        Source: '/root/work/site',
        Destination: '/usr/share/nginx/html',
        Mode: '',
        RW: true,
        Propagation: 'rprivate',
      },
    ],
  },
  {
    Id: 'c3'.repeat(32),
    Names: ['/db'],
    Image: 'redis:7',
    ImageID: `sha256:${'d4'.repeat(32)}`,
    Command: 'docker-entrypoint.sh redis-server',
    Created: 1_730_000_100,
    Ports: [{ PrivatePort: 6379, Type: 'tcp' }],
    Labels: {},
    State: 'running',
    Status: 'Up 2 minutes',
    HostConfig: { NetworkMode: 'app-net' },
    NetworkSettings: { Networks: { 'app-net': { ...endpoint('app-net'), IPAddress: '172.18.0.2' } } },
    Mounts: [
      {
        Type: 'volume',
        Name: 'redis-data',
        Source: '/var/lib/docker/volumes/redis-data/_data',
        Destination: '/data',
        Driver: 'local',
        Mode: 'z',
        RW: true,
        Propagation: '',
      },
    ],
  },
  {
    Id: 'e5'.repeat(32),
    Names: ['/api'],
    Image: `sha256:${'f6'.repeat(32)}`,
    ImageID: `sha256:${'f6'.repeat(32)}`,
    Command: 'node server.js',
    Created: 1_730_000_200,
    Ports: [],
    Labels: {},
    State: 'exited',
    Status: 'Exited (1) 10 seconds ago',
    HostConfig: { NetworkMode: 'app-net' },
    NetworkSettings: { Networks: { 'app-net': endpoint('app-net'), backend: endpoint('backend') } },
    Mounts: [
      {
        Type: 'volume',
        Name: 'redis-data',
        Source: '/var/lib/docker/volumes/redis-data/_data',
        Destination: '/shared',
        Driver: 'local',
        Mode: 'z',
        RW: false,
        Propagation: '',
      },
      {
        Type: 'volume',
        Name: '9f'.repeat(32),
        Source: `/var/lib/docker/volumes/${'9f'.repeat(32)}/_data`,
        Destination: '/tmp/cache',
        Driver: 'local',
        Mode: '',
        RW: true,
        Propagation: '',
      },
    ],
  },
  {
    Id: '07'.repeat(32),
    Names: ['/dockyard-grader-k2j4x9aa'],
    Image: 'busybox',
    ImageID: `sha256:${'08'.repeat(32)}`,
    Command: 'wget -qO- http://web',
    Created: 1_730_000_300,
    Ports: [],
    Labels: {},
    State: 'running',
    Status: 'Up Less than a second',
    HostConfig: { NetworkMode: 'app-net' },
    NetworkSettings: { Networks: { 'app-net': endpoint('app-net') } },
    Mounts: [],
  },
  {
    Id: '09'.repeat(32),
    Names: ['/offline'],
    Image: 'alpine',
    ImageID: `sha256:${'0a'.repeat(32)}`,
    Command: 'sleep 3600',
    Created: 1_730_000_400,
    Ports: [],
    Labels: {},
    State: 'created',
    Status: 'Created',
    HostConfig: { NetworkMode: 'none' },
    NetworkSettings: { Networks: { none: endpoint('none') } },
    Mounts: [],
  },
];

const network = (Name: string, Driver: string) => ({
  Name,
  Id: `${Name}-id`,
  Created: '2024-10-27T09:00:00.000000000Z',
  Scope: 'local',
  Driver,
  EnableIPv6: false,
  IPAM: { Driver: 'default', Options: null, Config: [] },
  Internal: false,
  Attachable: false,
  Ingress: false,
  ConfigFrom: { Network: '' },
  ConfigOnly: false,
  Containers: {},
  Options: {},
  Labels: {},
});
/** `GET /networks`: the engine's own three and two of the learner's, in the engine's order. */
const networks = [
  network('none', 'null'),
  network('backend', 'bridge'),
  network('host', 'host'),
  network('app-net', 'bridge'),
  network('bridge', 'bridge'),
];

const volume = (Name: string) => ({
  CreatedAt: '2024-10-27T09:01:00Z',
  Driver: 'local',
  Labels: null,
  Mountpoint: `/var/lib/docker/volumes/${Name}/_data`,
  Name,
  Options: null,
  Scope: 'local',
});
/** `GET /volumes`: an object, not a list. */
const volumes = { Volumes: [volume('redis-data'), volume('9f'.repeat(32)), volume('empty')], Warnings: null };

describe('buildMap', () => {
  const map = buildMap(containers, networks, volumes);

  it("lists the learner's containers by name, without the grader's helpers", () => {
    expect(map.containers.map((c) => c.name)).toEqual(['api', 'db', 'offline', 'web']);
    expect(sandboxMapSchema.parse(map)).toEqual(map);
  });

  it('gives each container its image, state, networks, published ports and volumes', () => {
    const [api, db, offline, web] = map.containers;
    expect(web).toEqual({
      name: 'web',
      image: 'nginx',
      state: 'running',
      networks: ['bridge'],
      ports: [{ port: 8080, target: 80 }],
      volumes: [],
    });
    expect(db).toEqual({
      name: 'db',
      image: 'redis:7',
      state: 'running',
      networks: ['app-net'],
      ports: [],
      volumes: ['redis-data'],
    });
    expect(api).toEqual({
      name: 'api',
      image: 'f6f6f6f6f6f6',
      state: 'exited',
      networks: ['app-net', 'backend'],
      ports: [],
      volumes: ['9f'.repeat(32), 'redis-data'],
    });
    expect(offline).toMatchObject({ state: 'created', networks: ['none'] });
  });

  it("flags the engine's own networks as builtin, and sorts networks and volumes by name", () => {
    expect(map.networks).toEqual([
      { name: 'app-net', driver: 'bridge', builtin: false },
      { name: 'backend', driver: 'bridge', builtin: false },
      { name: 'bridge', driver: 'bridge', builtin: true },
      { name: 'host', driver: 'host', builtin: true },
      { name: 'none', driver: 'null', builtin: true },
    ]);
    expect(map.volumes).toEqual([{ name: '9f'.repeat(32) }, { name: 'empty' }, { name: 'redis-data' }]);
  });

  it('reads JSON text as well, and makes an empty map of error replies', () => {
    expect(buildMap(JSON.stringify(containers), JSON.stringify(networks), JSON.stringify(volumes))).toEqual(map);
    const empty = { containers: [], networks: [], volumes: [] };
    expect(buildMap({ message: 'client version 1.99 is too new' }, 'not json', { Volumes: null })).toEqual(empty);
    expect(buildMap([], [], { Volumes: [], Warnings: null })).toEqual(empty);
  });
});

describe('SandboxMapRegistry', () => {
  const { driver, sessions } = fakeSessions();
  const registry = new SandboxMapRegistry(driver, sessions, new EngineEvents(driver, sessions));
  let sessionId = '';
  /** What the fake engine holds; its API answers from these. */
  let engine = { containers: [] as object[], networks: [] as object[], volumes: [] as object[] };
  let reads = 0;

  beforeAll(async () => {
    await sessions.start();
    sessionId = (await sessions.create('owner')).session.id;
    driver.onExec = (cmd) => {
      const url = cmd.at(-1)!;
      reads++;
      const body = url.endsWith('/containers/json?all=1')
        ? engine.containers
        : url.endsWith('/networks')
          ? engine.networks
          : url.endsWith('/volumes')
            ? { Volumes: engine.volumes, Warnings: null }
            : { message: 'page not found' };
      return { exitCode: 0, stdout: `${JSON.stringify(body)}\n200`, stderr: '' };
    };
  });
  afterAll(() => sessions.stop());

  it('reads the map once, through the engine API', async () => {
    engine = { containers: containers.slice(1, 2), networks, volumes: volumes.Volumes };
    const map = await registry.list(sessionId);
    expect(map.containers.map((c) => c.name)).toEqual(['db']);
    expect(map.volumes.map((v) => v.name)).toContain('redis-data');
    await expect(registry.list('nobody')).rejects.toBeInstanceOf(ApiError);
  });

  it('says SANDBOX_FAILED when the engine does not answer', async () => {
    const saved = driver.onExec;
    driver.onExec = () => ({ exitCode: 7, stdout: '', stderr: 'curl: (7) Could not connect' });
    await expect(registry.list(sessionId)).rejects.toMatchObject({ code: 'SANDBOX_FAILED' });
    driver.onExec = saved;
  });

  it('pushes the map on subscribe and again only when an engine event changed it', async () => {
    engine = {
      containers: [],
      networks: networks.filter((n) => ['bridge', 'host', 'none'].includes(n.Name)),
      volumes: [],
    };
    const updates: SandboxMap[] = [];
    const stop = registry.subscribe(sessionId, (m) => updates.push(m));
    await expect.poll(() => updates.length).toBe(1);
    expect(updates[0]!.containers).toEqual([]);
    expect(updates[0]!.networks.every((n) => n.builtin)).toBe(true);

    // A second watcher gets the last map at once.
    const second: SandboxMap[] = [];
    const stopSecond = registry.subscribe(sessionId, (m) => second.push(m));
    expect(second).toEqual([updates[0]]);
    stopSecond();

    const sandbox = sessions.sandboxOf(sessionId);
    engine = { ...engine, networks: [...engine.networks, network('app-net', 'bridge')] };
    driver.emit(sandbox, 'network\tcreate\t\t\tapp-net');
    await expect.poll(() => updates.length).toBe(2);
    expect(updates[1]!.networks.map((n) => n.name)).toContain('app-net');

    // The grader's looking, and events that change nothing, push nothing.
    const before = reads;
    driver.emit(sandbox, 'container\texec_start: sh -c true\t\t\tweb');
    driver.emit(sandbox, 'container\tcreate\t\t\tdockyard-grader-abc');
    driver.emit(sandbox, 'image\tpull\t\t\tbusybox:latest');
    await new Promise((r) => setTimeout(r, 400));
    expect(reads).toBe(before);
    driver.emit(sandbox, 'container\tattach\t\t\tdb');
    await expect.poll(() => reads).toBeGreaterThan(before);
    await new Promise((r) => setTimeout(r, 100));
    expect(updates).toHaveLength(2);

    // A burst of events is one read.
    engine = { ...engine, containers: containers.slice(0, 2), volumes: volumes.Volumes.slice(0, 1) };
    const burst = reads;
    driver.emit(sandbox, 'volume\tcreate\t\t\tredis-data');
    driver.emit(sandbox, 'container\tcreate\t\t\tdb');
    driver.emit(sandbox, 'network\tconnect\t\t\tapp-net');
    driver.emit(sandbox, 'container\tstart\t\t\tdb');
    await expect.poll(() => updates.length).toBe(3);
    expect(reads - burst).toBe(3);
    expect(updates[2]!.containers.map((c) => `${c.name}:${c.networks.join(',')}`)).toEqual([
      'db:app-net',
      'web:bridge',
    ]);
    stop();
  });
});
