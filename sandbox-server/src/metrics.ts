// Prometheus metrics: sandboxes by state, creations and failures, pool size, terminals, latencies.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionManager } from './sessions/session-manager.ts';
import type { TerminalRegistry } from './terminals/terminal-registry.ts';

/** Without sessions or terminals (the HTTP shell alone) their gauges stay empty. */
export function createMetrics(sessions?: SessionManager, terminals?: TerminalRegistry) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dockyard_process_' });
  new Gauge({
    name: 'dockyard_sandboxes',
    help: 'Sandboxes on this host by state: session (held by a learner), pool (warm), creating',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const s = sessions?.stats();
      if (!s) return;
      this.set({ state: 'session' }, s.sessions);
      this.set({ state: 'pool' }, s.pool);
      this.set({ state: 'creating' }, s.creating);
    },
  });
  new Gauge({
    name: 'dockyard_capacity_sandboxes',
    help: 'Most sandboxes this host runs (DOCKYARD_MAX_SANDBOXES)',
    registers: [registry],
    collect() {
      const s = sessions?.stats();
      if (s) this.set(s.capacity);
    },
  });
  new Gauge({
    name: 'dockyard_terminals_active',
    help: 'Terminals open across all sessions',
    registers: [registry],
    collect() {
      if (terminals) this.set(terminals.count());
    },
  });
  const sessionsCreated = new Counter({
    name: 'dockyard_sessions_created_total',
    help: 'Sessions created, by where their sandbox came from',
    labelNames: ['source'],
    registers: [registry],
  });
  const sessionReady = new Histogram({
    name: 'dockyard_session_ready_seconds',
    help: 'From the create request to a ready sandbox',
    labelNames: ['source'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'dockyard_api_errors_total',
    help: 'API errors by code',
    labelNames: ['code'],
    registers: [registry],
  });
  const grades = new Histogram({
    name: 'dockyard_grade_seconds',
    help: 'Time to grade an exercise, by outcome: passed, failed, incomplete (a check could not be evaluated)',
    labelNames: ['outcome'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20],
    registers: [registry],
  });
  return {
    registry,
    graded(report: { ms: number; passed: boolean; incomplete: boolean }) {
      const outcome = report.incomplete ? 'incomplete' : report.passed ? 'passed' : 'failed';
      grades.observe({ outcome }, report.ms / 1000);
    },
    sessionCreated(ms: number, fromPool: boolean) {
      const source = fromPool ? 'pool' : 'cold';
      sessionsCreated.inc({ source });
      sessionReady.observe({ source }, ms / 1000);
    },
    apiError(code: string) {
      failures.inc({ code });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
