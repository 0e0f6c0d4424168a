// Small statistics and formatting helpers for the benchmark's table.

/** Nearest-rank percentile: an observed value, so "p99 of 100" is the 99th smallest, never an interpolation. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export function max(values: readonly number[]): number {
  return values.length === 0 ? NaN : Math.max(...values);
}

/** Milliseconds, with a precision that suits the magnitude. */
export function ms(v: number): string {
  if (Number.isNaN(v)) return 'n/a';
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  return v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`;
}

export function mib(bytes: number): string {
  return Number.isNaN(bytes) ? 'n/a' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export const sleep = (millis: number) => new Promise<void>((r) => setTimeout(r, millis));

/** A progress line on stderr, so stdout carries only the table. */
export function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}
