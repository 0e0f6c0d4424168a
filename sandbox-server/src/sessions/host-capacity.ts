// Start-up check: the kernel limits every sandbox shares leave room for the configured capacity.
import { type Capacity, sandboxesFitting, shortfalls } from '../../../infra/engine/host-limits.ts';
import { ApiError } from '../errors.ts';

/** KERNEL_LIMITS_TOO_LOW, naming each limit, its value, what the capacity needs and how many sandboxes fit. */
export async function checkKernelLimits(c: Capacity): Promise<void> {
  const low = await shortfalls(c);
  if (low.length === 0) return;
  const fits = Math.min(...low.map((s) => sandboxesFitting(s, c)));
  const lines = low.map(
    (s) => `${s.limit.key} is ${s.current}, and ${c.maxSandboxes} sandboxes need ${s.required} (${s.limit.raise})`,
  );
  throw new ApiError(
    'KERNEL_LIMITS_TOO_LOW',
    `${lines.join('; ')}. As it is, this host has room for ${fits} sandboxes (DOCKYARD_MAX_SANDBOXES is ${c.maxSandboxes}).`,
  );
}
