// The benchmark's output: a markdown table of results against targets, and where it was measured.
import { availableParallelism, cpus, totalmem } from 'node:os';

export interface Row {
  metric: string;
  result: string;
  target: string;
  /** undefined: informational, no target to meet. */
  ok: boolean | undefined;
}

export function table(rows: readonly Row[]): string {
  const mark = (ok: boolean | undefined) => (ok === undefined ? '–' : ok ? '✓' : '✗');
  const esc = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
  return [
    '| metric | result | target | ok |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${esc(r.metric)} | ${esc(r.result)} | ${esc(r.target)} | ${mark(r.ok)} |`),
  ].join('\n');
}

export function machine(): string {
  const gib = (totalmem() / 2 ** 30).toFixed(1);
  return `Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${gib} GiB memory, Node ${process.version}; ${new Date().toISOString()}`;
}
