// Parsing /proc/<pid>/cgroup and /etc/subuid for cgroup delegation.
import { describe, expect, it } from 'vitest';
import { cgroupDirs, remappedRoot } from './cgroup-delegation.ts';

describe('cgroupDirs', () => {
  it('maps v1 controllers and the hybrid v2 line to their directories', () => {
    const proc = ['12:cpu,cpuacct:/docker/abc', '1:name=systemd:/docker/abc', '0::/docker/abc'].join('\n');
    expect(cgroupDirs(proc)).toEqual([
      '/sys/fs/cgroup/cpu,cpuacct/docker/abc',
      '/sys/fs/cgroup/systemd/docker/abc',
      '/sys/fs/cgroup/unified/docker/abc',
    ]);
  });

  it('maps a pure v2 host to the root hierarchy', () => {
    expect(cgroupDirs('0::/system.slice/docker-abc.scope\n', '/sys/fs/cgroup', true)).toEqual([
      '/sys/fs/cgroup/system.slice/docker-abc.scope',
    ]);
  });
});

describe('remappedRoot', () => {
  it('finds the dockremap range start', () => {
    expect(remappedRoot('alice:200000:65536\ndockremap:100000:65536\n')).toBe(100000);
  });
  it('returns undefined without a dockremap line', () => {
    expect(remappedRoot('alice:200000:65536\n')).toBeUndefined();
  });
});
