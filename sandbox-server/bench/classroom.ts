// A class at work: learners on a deployment of two servers behind nginx type a first lesson's
// commands key by key, reading between them, and check an exercise now and then; each keystroke's
// echo, each grade and every fault is counted.
import { availableParallelism, loadavg } from 'node:os';
import type { WebSocket } from 'ws';
import { dockerClient } from '../src/engine/engine.ts';
import type { ServerMessage } from '../src/protocol/messages.ts';
import { SERVER_LABEL } from '../src/sessions/session-manager.ts';
import { startDeployment } from '../src/test-support/deployment.ts';
import { startSandboxSwarm } from '../src/test-support/sandbox-swarm.ts';
import { TestClient, type Reply, type TestSocket } from '../src/test-support/harness.ts';
import { cpuNow, type Cpu } from './host-cpu.ts';
import type { Row } from './report.ts';
import { checkInterrupted } from './servers.ts';
import { log, max, ms, percentile, sleep } from './stats.ts';

const TERM = 'class';
const PROMPT = /[#$] $/;
/** Quiet this long at a prompt: the last command's output is over, and a keystroke is timed alone. */
const QUIET_MS = 150;
/** Sandboxes started together while the class joins: 30 at once on 2 cores only queue up. */
const JOIN_BATCH = 5;
const ECHO_TIMEOUT_MS = 5_000;
const GRADE_TIMEOUT_MS = 10_000;
/**
 * A learner's pace: seconds of reading between two commands, and between two Checks. A first
 * lesson's reader: 10 to 25 s, a Check a minute (BENCH_CLASSROOM_THINK_S=2-5 and
 * BENCH_CLASSROOM_CHECK_S=15 make it a stress test instead).
 */
function pace(name: string, fallback: readonly [number, number]): readonly [number, number] {
  const raw = process.env[name];
  if (!raw) return fallback;
  const m = /^(\d+)(?:-(\d+))?$/.exec(raw);
  if (!m) throw new Error(`${name} is seconds, or a range of them like 10-25, not ${JSON.stringify(raw)}`);
  return [Number(m[1]) * 1000, Number(m[2] ?? m[1]) * 1000];
}
const THINK_MS = pace('BENCH_CLASSROOM_THINK_S', [10_000, 25_000]);
const GRADE_EVERY_MS = pace('BENCH_CLASSROOM_CHECK_S', [60_000, 60_000])[0];
/** The first pull of nginx, 30 sandboxes at once from the mirror, takes a while; past this it is a fault. */
const COMMAND_TIMEOUT_MS = 120_000;
const KEY_GAP_MS = [80, 200] as const;
/** The lesson page the class is on, and its exercise (graded live, as the page asks, and on "Check"). */
const LESSON = 'architecture';
const EXERCISE = 'engine-facts';
const SANDBOX_MEMORY_MB = 512;

/** A first lesson, cycled. Every image is in the local mirror; what a learner starts, they remove. */
const lesson = (n: number) => [
  'docker run --rm hello-world',
  "docker version --format '{{.Server.Version}}' > server-version.txt",
  'docker images',
  "docker info --format '{{.Driver}}' > storage-driver.txt",
  `docker run -d --name web-${n} nginx`,
  'docker ps -a',
  `echo "learner ${n} was here"`,
  `docker logs web-${n} 2>&1 | tail -n 2`,
  `docker rm -f web-${n}`,
  'docker run --rm busybox uname -r',
];

export interface ClassroomNumbers {
  asked: number;
  learners: number;
  replicas: number;
  /** Sandbox hosts: 1, this one; more, a Swarm's. */
  hosts: number;
  seconds: number;
  /** From the first learner's POST /api/sessions to the last one's prompt. */
  readyMs: number;
  /** Each learner's own join: session, socket, terminal, prompt. */
  joinMs: number[];
  /** Learners' sockets per server (X-Dockyard-Replica). */
  perReplica: Record<string, number>;
  echo: number[];
  grade: number[];
  gradesPassed: number;
  /** Reports live grading pushed (the page follows its exercise). */
  liveGrades: number;
  commands: number;
  /** Faults by kind. */
  errors: Map<string, number>;
  /** Where the host's CPU went while the class worked, in CPU-seconds, and the load average at the end. */
  cpu: Cpu & { wallS: number; load1: number; otherContainers: number };
}

/** What the learners count as they go. */
type Tally = Omit<ClassroomNumbers, 'cpu'>;

interface Learner {
  n: number;
  client: TestClient;
  sessionId: string;
  socket: TestSocket;
  closing: boolean;
}

/** A fault; `counted` when the socket's own listener counted it already (an error message, a close). */
class Fault extends Error {
  readonly kind: string;
  readonly counted: boolean;
  constructor(kind: string, message: string, counted = false) {
    super(message);
    this.kind = kind;
    this.counted = counted;
  }
}

const rand = ([lo, hi]: readonly [number, number]) => lo + Math.random() * (hi - lo);

/**
 * What `pick` takes from the next message it takes something from, by a listener on the socket as
 * bench/echo.ts does: TestSocket.until polls every 20 ms, which would round every sample up to that.
 */
function next<T>(
  ws: WebSocket,
  pick: (m: ServerMessage) => T | undefined,
  timeoutMs: number,
  fault: Fault,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (raw: unknown) => {
      const msg = JSON.parse(String(raw)) as ServerMessage;
      const picked = pick(msg);
      if (picked !== undefined) finish(undefined, picked);
      else if (msg.type === 'error') finish(new Fault('error message', msg.code, true));
    };
    const onClose = () => finish(new Fault('socket closed', 'socket closed', true));
    const timer = setTimeout(() => finish(fault), timeoutMs);
    const finish = (err?: Error, value?: T) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      if (err) reject(err);
      else resolve(value!);
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
  });
}

/** Until the terminal ends in a prompt (past `from`) and has been quiet for QUIET_MS. */
async function idle(socket: TestSocket, timeoutMs: number, from = -1): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = performance.now();
  const onMessage = () => (last = performance.now());
  socket.ws.on('message', onMessage);
  try {
    for (;;) {
      if (socket.closeCode !== undefined) throw new Fault('socket closed', 'socket closed', true);
      const out = socket.output(TERM);
      if (performance.now() - last >= QUIET_MS && out.length > from && PROMPT.test(out.slice(-8))) return;
      if (performance.now() > deadline) throw new Fault('command timed out', `no prompt within ${timeoutMs} ms`);
      await sleep(25);
    }
  } finally {
    socket.ws.off('message', onMessage);
  }
}

/** Types `line` a key at a time, timing each key's echo, then Enter, and waits out its output. */
async function command(l: Learner, line: string, echo: number[]): Promise<void> {
  await idle(l.socket, COMMAND_TIMEOUT_MS);
  for (const ch of line) {
    await sleep(rand(KEY_GAP_MS));
    const timeout = new Fault('echo timed out', `no echo of ${JSON.stringify(ch)} within ${ECHO_TIMEOUT_MS} ms`);
    const echoed = next(
      l.socket.ws,
      (m) => (m.type === 'output' && m.term === TERM && m.data.includes(ch)) || undefined,
      ECHO_TIMEOUT_MS,
      timeout,
    );
    const started = performance.now();
    l.socket.send({ type: 'input', term: TERM, data: ch });
    await echoed;
    echo.push(performance.now() - started);
  }
  const from = l.socket.output(TERM).length;
  l.socket.send({ type: 'input', term: TERM, data: '\r' });
  await idle(l.socket, COMMAND_TIMEOUT_MS, from);
}

/** "Check" pressed: the time until a report comes back, and the report. */
async function grade(l: Learner): Promise<{ ms: number; report: GradeReport }> {
  const timeout = new Fault('grade timed out', `no grade report within ${GRADE_TIMEOUT_MS} ms`);
  const answered = next(
    l.socket.ws,
    (m) => (m.type === 'grade' && !m.live ? m.report : undefined),
    GRADE_TIMEOUT_MS,
    timeout,
  );
  const started = performance.now();
  l.socket.send({ type: 'grade', exercise: EXERCISE });
  const report = await answered;
  return { ms: performance.now() - started, report };
}

type Faults = (kind: string, detail: string) => void;
type GradeReport = Extract<ServerMessage, { type: 'grade' }>['report'];

/**
 * A failed check is the learner's (fine here); a check in error is the platform's: it could not
 * look in time, and the page says "a problem on our side". That counts as a fault.
 */
const unchecked = (r: GradeReport) =>
  r.checks
    .filter((c) => c.status === 'error')
    .map((c) => `${c.id} not checked after ${c.ms} ms`)
    .join(', ');

/** A learner opening the lesson page, making the requests it makes, in its order. */
async function join(url: string, n: number, out: Tally, fault: Faults): Promise<Learner | undefined> {
  let l: Learner | undefined;
  const ok = (what: string, r: Reply) => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  try {
    const client = new TestClient(url);
    const [me, progress] = await Promise.all([client.req('GET', '/api/me'), client.req('GET', '/api/progress')]);
    ok('GET /api/me', me);
    ok('GET /api/progress', progress);
    const created = await client.req<{ session: { id: string } }>('POST', '/api/sessions', { lesson: LESSON });
    ok('POST /api/sessions', created);
    const sessionId = created.body.session.id;
    ok('exercise start', await client.req('POST', `/api/sessions/${sessionId}/exercises/${EXERCISE}/start`, {}));
    const socket = await client.connect(sessionId);
    l = { n, client, sessionId, socket, closing: false };
    socket.ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as ServerMessage;
      if (msg.type === 'error') fault(`error message ${msg.code}`, `learner ${n}: ${msg.title}`);
      if (msg.type === 'grade' && msg.live) out.liveGrades++;
      if (msg.type === 'grade' && msg.live && msg.report.incomplete)
        fault('live grade incomplete', `learner ${n}: ${unchecked(msg.report)}`);
    });
    socket.ws.on('close', (code) => l?.closing || fault('socket closed unexpectedly', `learner ${n}: code ${code}`));
    socket.send({ type: 'live', exercise: EXERCISE });
    await socket.open(TERM);
    await idle(socket, 60_000);
    return l;
  } catch (err) {
    fault('join failed', `learner ${n}: ${(err as Error).message}`);
    if (l) {
      l.closing = true;
      await l.socket.close();
    }
    return undefined;
  }
}

/** One learner's lesson until `until` (performance.now()), then their nginx removed if it still runs. */
async function work(l: Learner, until: number, out: Tally, fault: Faults): Promise<void> {
  const lines = lesson(l.n);
  let nextGrade = performance.now() + rand([0, GRADE_EVERY_MS]);
  let web = false;
  for (let i = 0; performance.now() < until || web; i++) {
    checkInterrupted();
    const line = performance.now() < until ? lines[i % lines.length]! : `docker rm -f web-${l.n}`;
    try {
      const thought = performance.now() + rand(THINK_MS);
      if (performance.now() >= nextGrade) {
        nextGrade += GRADE_EVERY_MS;
        const g = await grade(l);
        out.grade.push(g.ms);
        if (g.report.passed) out.gradesPassed++;
        if (g.report.incomplete) fault('grade incomplete', `learner ${l.n}: ${unchecked(g.report)}`);
      }
      await sleep(Math.max(0, thought - performance.now()));
      await command(l, line, out.echo);
      out.commands++;
      if (line.includes(' run -d ')) web = true;
      if (line.includes(' rm -f ')) web = false;
    } catch (err) {
      const f = err instanceof Fault ? err : new Fault('unexpected', (err as Error).message);
      if (!f.counted) fault(f.kind, `learner ${l.n}, "${line}": ${f.message}`);
      if (l.socket.closeCode !== undefined) return;
      l.socket.send({ type: 'input', term: TERM, data: '\u0003' }); // Ctrl-C, back to a prompt
      await idle(l.socket, 30_000).catch(() => undefined);
    }
  }
}

/** Every 10 s on stderr: the last 10 s of echo and grades, and the host's load, to see when it went wrong. */
function ticker(out: Tally): NodeJS.Timeout {
  let [echoes, grades, commands] = [0, 0, 0];
  return setInterval(() => {
    const [e, g] = [out.echo.slice(echoes), out.grade.slice(grades)];
    log(
      `${out.commands - commands} commands, echo p50 ${ms(percentile(e, 50))} p99 ${ms(percentile(e, 99))} (n=${e.length}), ` +
        `grade p50 ${ms(percentile(g, 50))} (n=${g.length}), load ${loadavg()[0]!.toFixed(1)}`,
    );
    [echoes, grades, commands] = [out.echo.length, out.grade.length, out.commands];
  }, 10_000);
}

/**
 * Starts the deployment (its sandboxes on this host's engine, or with `swarm` on three sandbox hosts
 * on this machine, the swarm tier's set-up), brings the class in JOIN_BATCH at a time, lets it work,
 * and removes it all.
 */
export async function classroomNumbers(opts: {
  learners: number;
  seconds: number;
  swarm?: boolean;
}): Promise<ClassroomNumbers> {
  const swarm = opts.swarm ? await startSandboxSwarm({ log }) : undefined;
  const deployment = await startDeployment({
    replicas: 2,
    env: {
      DOCKYARD_MAX_SANDBOXES: String(Math.max(30, opts.learners)),
      DOCKYARD_SANDBOX_CREATE_LIMIT: '0',
      DOCKYARD_WARM_POOL_SIZE: '0',
      DOCKYARD_SANDBOX_MEMORY_MB: String(SANDBOX_MEMORY_MB),
      DOCKYARD_SANDBOX_STORAGE_MB: '1024',
      ...(swarm
        ? {
            DOCKYARD_DRIVER: 'swarm',
            DOCKYARD_DOCKER_SOCKET: swarm.rig.nodes[0]!.socket,
            DOCKYARD_SWARM_NODE_ENGINE: swarm.nodeEngineTemplate,
          }
        : {}),
    },
    ...(swarm ? { driver: swarm.driver } : {}),
  }).catch(async (err: unknown) => {
    await swarm?.close();
    throw err;
  });
  // On the sandbox hosts, every container's cgroup is under its host's cgroup parent.
  const hostCgroups = swarm?.rig.nodes.map((n) => n.cgroupParent);
  log(
    `deployment up: ${deployment.url}; leftovers after a second Ctrl-C: docker rm -f $(docker ps -aq --filter label=${SERVER_LABEL}=${deployment.id})`,
  );
  const out: Tally = {
    asked: opts.learners,
    learners: 0,
    replicas: deployment.replicas.length,
    hosts: swarm ? swarm.rig.nodes.length : 1,
    seconds: opts.seconds,
    readyMs: NaN,
    joinMs: [],
    perReplica: {},
    echo: [],
    grade: [],
    gradesPassed: 0,
    liveGrades: 0,
    commands: 0,
    errors: new Map(),
  };
  const fault: Faults = (kind, detail) => {
    out.errors.set(kind, (out.errors.get(kind) ?? 0) + 1);
    log(`${kind}: ${detail}`);
  };
  const learners: Learner[] = [];
  try {
    const started = performance.now();
    for (let first = 1; first <= opts.learners; first += JOIN_BATCH) {
      checkInterrupted();
      const batch = Array.from({ length: Math.min(JOIN_BATCH, opts.learners - first + 1) }, (_, i) => first + i);
      const joined = await Promise.all(
        batch.map(async (n) => {
          const t = performance.now();
          const l = await join(deployment.url, n, out, fault);
          if (l) out.joinMs.push(performance.now() - t);
          return l;
        }),
      );
      learners.push(...joined.filter((l) => l !== undefined));
      log(`${learners.length} of ${opts.learners} learners at a prompt`);
    }
    out.readyMs = performance.now() - started;
    out.learners = learners.length;
    for (const l of learners)
      out.perReplica[l.socket.replica ?? '?'] = (out.perReplica[l.socket.replica ?? '?'] ?? 0) + 1;
    const containers = await dockerClient('/var/run/docker.sock').listContainers();
    const otherContainers = containers.filter((c) => c.Labels[SERVER_LABEL] !== deployment.id).length;

    log(`class at work for ${opts.seconds} s`);
    const [before, from] = [await cpuNow(deployment, hostCgroups), performance.now()];
    const until = performance.now() + opts.seconds * 1000;
    const progress = ticker(out);
    await Promise.all(learners.map((l) => work(l, until, out, fault))).finally(() => clearInterval(progress));
    const after = await cpuNow(deployment, hostCgroups);
    const cpu = {
      busy: after.busy - before.busy,
      sandboxes: after.sandboxes - before.sandboxes,
      containers: after.containers - before.containers,
      servers: after.servers.map((s, i) => s - before.servers[i]!),
      learners: after.learners - before.learners,
      wallS: (performance.now() - from) / 1000,
      load1: loadavg()[0]!,
      otherContainers,
    };

    await Promise.all(
      learners.map(async (l) => {
        l.closing = true;
        await l.socket.close();
        const r = await l.client
          .req('DELETE', `/api/sessions/${l.sessionId}`)
          .catch((err: Error) => ({ status: err.message }));
        if (typeof r.status !== 'number' || r.status >= 300)
          fault('request failed', `learner ${l.n}: DELETE session: ${r.status}`);
      }),
    );
    return { ...out, cpu };
  } finally {
    for (const l of learners) l.closing = true;
    log('removing the deployment');
    await deployment.stop();
    await swarm?.close();
  }
}

/** The table's rows and a note with the details. */
export function classroomReport(c: ClassroomNumbers): { rows: Row[]; notes: string[] } {
  const errors = [...c.errors.values()].reduce((a, b) => a + b, 0);
  const echoP99 = percentile(c.echo, 99);
  const gradeP95 = percentile(c.grade, 95);
  const by = [...c.errors].map(([kind, n]) => `${kind} ×${n}`).join(', ');
  const name = c.hosts > 1 ? `classroom over ${c.hosts} sandbox hosts` : 'classroom';
  const rows: Row[] = [
    {
      metric: `${name}: keystroke echo p99, ${c.learners} learners through nginx on ${c.replicas} servers (n=${c.echo.length})`,
      result: ms(echoP99),
      target: 'p99 ≤ 50 ms',
      ok: echoP99 <= 50,
    },
    {
      metric: `${name}: grade p95 (${EXERCISE}, n=${c.grade.length})`,
      result: ms(gradeP95),
      target: 'p95 ≤ 1 s',
      ok: gradeP95 <= 1000,
    },
    { metric: `${name}: errors`, result: errors === 0 ? '0' : `${errors} (${by})`, target: '0', ok: errors === 0 },
  ];
  const servers = Object.entries(c.perReplica)
    .map(([r, n]) => `${n} on ${r}`)
    .join(', ');
  const note =
    `${c.hosts > 1 ? `Classroom over ${c.hosts} sandbox hosts (three engines on this machine, a Swarm; the swarm driver)` : 'Classroom'}: ${c.learners} of ${c.asked} learners opened the ${LESSON} lesson through nginx, ${JOIN_BATCH} at a time, ` +
    `with the page's requests (me, progress, session, exercise start, ticket, socket, live grading; sockets ${servers}); ` +
    `the class was ready in ${ms(c.readyMs)} (one learner's session, socket and prompt: p50 ${ms(percentile(c.joinMs, 50))}, max ${ms(max(c.joinMs))}). ` +
    `Then ${c.seconds} s each of a first lesson (hello-world, images, echo, nginx run -d / ps / logs / rm -f, busybox, ` +
    `version and info into files), typed key by key ${KEY_GAP_MS.join('–')} ms apart with ${THINK_MS.map((t) => t / 1000).join('–')} s of thought between commands: ` +
    `${c.commands} commands, ${c.echo.length} keystrokes timed at a prompt (echo p50 ${ms(percentile(c.echo, 50))}, ` +
    `${c.echo.filter((t) => t > 50).length} over 50 ms, slowest ${ms(max(c.echo))}), ${c.grade.length} gradings of ${EXERCISE} every ~${GRADE_EVERY_MS / 1000} s ` +
    `(p50 ${ms(percentile(c.grade, 50))}, ${c.gradesPassed} passed) and ${c.liveGrades} pushed by live grading; ` +
    `errors (a check the platform could not run in time is one, a failed check is not): ${by || 'none'}. ` +
    `${SANDBOX_MEMORY_MB} MiB sandboxes, warm pool off.`;
  const u = c.cpu;
  const cpu = (s: number) => s.toFixed(0);
  const rest = u.busy - u.containers - u.servers.reduce((a, b) => a + b, 0) - u.learners;
  const host =
    `Host CPU while the class worked (${u.wallS.toFixed(0)} s on ${availableParallelism()} cores): ` +
    `${cpu(u.busy)} CPU-seconds busy of ${cpu(u.wallS * availableParallelism())}: the class's sandboxes ${cpu(u.sandboxes)}, ` +
    `its servers ${u.servers.map(cpu).join(' and ')}, the learners' sockets (this process) ${cpu(u.learners)}, ` +
    `the engine's ${u.otherContainers} other containers ${cpu(u.containers - u.sandboxes)}, ` +
    `the rest (the engine, nginx, PostgreSQL, the kernel, other work on the host) ${cpu(rest)}; load average ${u.load1.toFixed(1)} at the end.`;
  return { rows, notes: [note, host] };
}
