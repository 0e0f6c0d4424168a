// The sizing of the kernel limits every sandbox shares, from the configured capacity.
import { describe, expect, it } from 'vitest';
import {
  KERNEL_LIMITS,
  KEYS_PER_SANDBOX,
  requiredValue,
  sandboxesFitting,
  sandboxUsernsLimits,
  type Capacity,
} from './host-limits.ts';

const MiB = 2 ** 20;
const defaults: Capacity = { maxSandboxes: 40, memoryBytes: 2048 * MiB, pids: 1024 };
const limit = (key: string) => KERNEL_LIMITS.find((l) => l.key === key)!;

describe('kernel limits sized from the capacity', () => {
  it('gives every sandbox its share and leaves the host its own', () => {
    expect(requiredValue(limit('kernel.keys.maxkeys'), defaults)).toBe(200 + 40 * KEYS_PER_SANDBOX);
    expect(requiredValue(limit('kernel.keys.maxbytes'), defaults)).toBe(20000 + 40 * KEYS_PER_SANDBOX * 100);
    // Every sandbox at its pids limit, and the host's default besides.
    expect(requiredValue(limit('kernel.pid_max'), defaults)).toBe(32768 + 40 * 1024);
    // Namespaces: the cap in each sandbox's user namespace (at most 128), plus that namespace.
    expect(requiredValue(limit('user.max_net_namespaces'), defaults)).toBe(4096 + 40 * 129);
    expect(requiredValue(limit('user.max_net_namespaces'), { ...defaults, pids: 64 })).toBe(4096 + 40 * 65);
  });

  it('sizes the counts of memory-charged objects from what every sandbox memory can hold', () => {
    // A 2 GiB sandbox holds at most 4 Mi inotify instances of 512 charged bytes.
    expect(limit('fs.inotify.max_user_instances').perSandbox(defaults)).toBe(4 * 2 ** 20);
    expect(requiredValue(limit('fs.inotify.max_user_instances'), defaults)).toBe(128 + 40 * 4 * 2 ** 20);
    expect(limit('fs.epoll.max_user_watches').perSandbox({ ...defaults, memoryBytes: 256 * MiB })).toBe(2 * 2 ** 20);
  });

  it('says how many sandboxes a value leaves room for', () => {
    const ns = limit('user.max_user_namespaces');
    const status = { limit: ns, current: 96364, required: requiredValue(ns, defaults) };
    // (96364 - 4096) / 129
    expect(sandboxesFitting(status, defaults)).toBe(715);
    expect(sandboxesFitting({ ...status, current: undefined }, defaults)).toBe(Infinity);
  });

  it("caps each sandbox's own user namespace, and leaves it no fanotify", () => {
    const own = sandboxUsernsLimits(256);
    expect(own.max_mnt_namespaces).toBe(128);
    expect(sandboxUsernsLimits(100).max_mnt_namespaces).toBe(100);
    expect(own).toMatchObject({ max_inotify_instances: 1024, max_fanotify_groups: 0, max_fanotify_marks: 0 });
    expect(Object.keys(own)).toHaveLength(12);
  });
});
