// Tests how this process's cgroup CPU quota is found (cgroup-quota.ts), with the system's files
// given by the test: cgroup v1 (cpu.cfs_quota_us over cpu.cfs_period_us) with
// the controllers mounted apart or together, a container whose mount shows only its own cgroup
// (Docker without a cgroup namespace), v2 mounted in hybrid mode (/sys/fs/cgroup/unified), the
// mountinfo's escapes, no quota (-1, max) and unreadable files; the parsers; and this machine's
// own mounts.

import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cgroupCpuQuota, parseCgroupMounts, parseCpuMax } from '../../dist/main/cgroup-quota.js';

/** A mountinfo line of a cgroup (v1) mount of `controllers`, its cgroup `root` at `point`. */
function v1Mount(id: number, root: string, point: string, controllers: string): string {
  return `${id} 31 0:${id} ${root} ${point} rw,nosuid,nodev,noexec,relatime shared:${id} - cgroup cgroup rw,${controllers}`;
}

const V2_UNIFIED = '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw';
const TMPFS = '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755';

describe('cgroup CPU quota', () => {
  it('parses cpu.max', () => {
    expect(parseCpuMax('200000 100000\n')).toBe(2);
    expect(parseCpuMax('50000 100000')).toBe(0.5);
    expect(parseCpuMax('max 100000')).toBeUndefined();
  });

  it('parses the cgroup mounts of a mountinfo, escapes undone, other mounts left out', () => {
    const mounts = parseCgroupMounts(
      [
        TMPFS,
        v1Mount(32, '/', '/sys/fs/cgroup/cpu,cpuacct', 'cpu,cpuacct'),
        '50 31 0:50 /docker/x /sys/fs/cgroup/my\\040cpu rw - cgroup cgroup rw,cpu',
        V2_UNIFIED,
        '',
      ].join('\n'),
    );
    expect(mounts).toEqual([
      {
        root: '/',
        mountPoint: '/sys/fs/cgroup/cpu,cpuacct',
        v2: false,
        controllers: ['rw', 'cpu', 'cpuacct'],
      },
      {
        root: '/docker/x',
        mountPoint: '/sys/fs/cgroup/my cpu',
        v2: false,
        controllers: ['rw', 'cpu'],
      },
      { root: '/', mountPoint: '/sys/fs/cgroup/unified', v2: true, controllers: [] },
    ]);
  });

  it('reads a v1 quota, the controllers mounted apart (as on this VM)', () => {
    const quota = cgroupCpuQuota(
      (path) =>
        ({
          '/proc/self/cgroup': '3:cpuset:/\n2:cpuacct:/app\n1:cpu:/app\n0::/\n',
          '/proc/self/mountinfo': [
            TMPFS,
            v1Mount(32, '/', '/sys/fs/cgroup/cpu', 'cpu'),
            v1Mount(33, '/', '/sys/fs/cgroup/cpuacct', 'cpuacct'),
            V2_UNIFIED,
          ].join('\n'),
          '/sys/fs/cgroup/cpu/app/cpu.cfs_quota_us': '150000\n',
          '/sys/fs/cgroup/cpu/app/cpu.cfs_period_us': '100000\n',
          // The root's files, which must not be read for /app.
          '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n',
          '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
        })[path],
    );
    expect(quota).toBe(1.5);
  });

  it("reads a container's own cgroup at its mount when /proc/self/cgroup names the host's path", () => {
    // Docker without a cgroup namespace: the mount's root is the container's cgroup.
    const quota = cgroupCpuQuota(
      (path) =>
        ({
          '/proc/self/cgroup': '4:cpu,cpuacct:/docker/abc\n0::/\n',
          '/proc/self/mountinfo': [
            v1Mount(32, '/docker/abc', '/sys/fs/cgroup/cpu,cpuacct', 'cpu,cpuacct'),
          ].join('\n'),
          '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '50000\n',
          '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
        })[path],
    );
    expect(quota).toBe(0.5);
    // A child of the container's cgroup is below the mount point by the path under its root.
    const child = cgroupCpuQuota(
      (path) =>
        ({
          '/proc/self/cgroup': '4:cpu,cpuacct:/docker/abc/worker\n',
          '/proc/self/mountinfo': v1Mount(32, '/docker/abc', '/c', 'cpu,cpuacct'),
          '/c/cpu.cfs_quota_us': '50000\n',
          '/c/cpu.cfs_period_us': '100000\n',
          '/c/worker/cpu.cfs_quota_us': '25000\n',
          '/c/worker/cpu.cfs_period_us': '100000\n',
        })[path],
    );
    expect(child).toBe(0.25);
    // No mountinfo to read: the host's path is not there, the mount point's files are.
    const unmapped = cgroupCpuQuota(
      (path) =>
        ({
          '/proc/self/cgroup': '4:cpu,cpuacct:/docker/abc\n',
          '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '50000\n',
          '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
        })[path],
    );
    expect(unmapped).toBe(0.5);
  });

  it('takes the v1 hierarchies at /sys/fs/cgroup/<controllers> without a mountinfo', () => {
    const quota = cgroupCpuQuota(
      (path) =>
        ({
          '/proc/self/cgroup': '4:cpu,cpuacct:/svc\n',
          '/sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_quota_us': '200000',
          '/sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_period_us': '100000',
        })[path],
    );
    expect(quota).toBe(2);
  });

  it('reads v2 where it is mounted (hybrid mode), before v1', () => {
    const quota = cgroupCpuQuota(
      (path) =>
        ({
          '/proc/self/cgroup': '1:cpu,cpuacct:/svc\n0::/svc\n',
          '/proc/self/mountinfo': [
            TMPFS,
            v1Mount(32, '/', '/sys/fs/cgroup/cpu,cpuacct', 'cpu,cpuacct'),
            V2_UNIFIED,
          ].join('\n'),
          '/sys/fs/cgroup/unified/svc/cpu.max': '300000 100000\n',
          '/sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_quota_us': '100000',
          '/sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_period_us': '100000',
          // Where v2 would be in unified mode: not this machine's.
          '/sys/fs/cgroup/svc/cpu.max': '100000 100000\n',
        })[path],
    );
    expect(quota).toBe(3);
  });

  it('finds no quota when there is none or its files do not read', () => {
    const mountinfo = [v1Mount(32, '/', '/sys/fs/cgroup/cpu,cpuacct', 'cpu,cpuacct')].join('\n');
    const cases: Record<string, string>[] = [
      {},
      { '/proc/self/cgroup': '4:cpu,cpuacct:/\n', '/proc/self/mountinfo': mountinfo },
      {
        '/proc/self/cgroup': '4:cpu,cpuacct:/\n',
        '/proc/self/mountinfo': mountinfo,
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n', // no quota
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
      },
      {
        '/proc/self/cgroup': '4:cpu,cpuacct:/\n',
        '/proc/self/mountinfo': mountinfo,
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '100000\n', // no cpu.cfs_period_us
      },
      {
        '/proc/self/cgroup': '4:cpu,cpuacct:/\n',
        '/proc/self/mountinfo': mountinfo,
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': 'garbage\n',
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
      },
      {
        '/proc/self/cgroup': '0::/\n',
        '/proc/self/mountinfo': V2_UNIFIED,
        '/sys/fs/cgroup/unified/cpu.max': 'max 100000\n',
      },
    ];
    for (const texts of cases) expect(cgroupCpuQuota((path) => texts[path])).toBeUndefined();
  });

  it("parses this machine's own mounts: each cgroup mount point is a directory", () => {
    const text = readFileSync('/proc/self/mountinfo', 'latin1');
    const mounts = parseCgroupMounts(text);
    expect(mounts.length).toBe(text.split('\n').filter((l) => / - cgroup2? /.test(l)).length);
    for (const mount of mounts) {
      expect(statSync(mount.mountPoint).isDirectory()).toBe(true);
      expect(mount.root.startsWith('/')).toBe(true);
    }
  });
});
