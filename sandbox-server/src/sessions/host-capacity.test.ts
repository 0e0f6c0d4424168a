// The start-up check of the kernel limits, against this machine's real values.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.ts';
import { checkKernelLimits } from './host-capacity.ts';

const MiB = 2 ** 20;

describe('checkKernelLimits', () => {
  it('refuses a capacity no host holds, naming each limit, what it needs and how many sandboxes fit', async () => {
    const err = await checkKernelLimits({ maxSandboxes: 10_000_000, memoryBytes: 2048 * MiB, pids: 1024 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('KERNEL_LIMITS_TOO_LOW');
    expect((err as ApiError).message).toMatch(/kernel\.keys\.maxkeys is \d+, and 10000000 sandboxes need 160000200/);
    expect((err as ApiError).message).toMatch(
      /this host has room for \d+ sandboxes \(DOCKYARD_MAX_SANDBOXES is 10000000\)/,
    );
  });
});
