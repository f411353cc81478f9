// Owns reading this process's cgroup CPU quota, for usable-cores.ts (the reader pool's default
// size): cgroup v2 (cpu.max) or v1 (cpu.cfs_quota_us over cpu.cfs_period_us), its directory
// found from /proc/self/cgroup and the cgroup file systems' mounts in /proc/self/mountinfo: a
// hierarchy mounted elsewhere than /sys/fs/cgroup (v2 in hybrid mode at
// /sys/fs/cgroup/unified), or whose mount shows only the container's own cgroup (Docker
// without a cgroup namespace, where /proc/self/cgroup names the host's path).

import { readFileSync } from 'node:fs';

/** A file's text, or undefined if it cannot be read (tests give their own). */
export type ReadText = (path: string) => string | undefined;

/** The system's `ReadText`: a file's text read now, or undefined if it cannot be read. */
export function readSystemText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

/** One cgroup file system mounted: the cgroup path at its root, where, and its type and options. */
interface CgroupMount {
  readonly root: string;
  readonly mountPoint: string;
  readonly v2: boolean;
  /** The v1 controllers it holds (`cpu`, `cpuacct`, …). */
  readonly controllers: readonly string[];
}

/** mountinfo's octal escapes (`\040` for a space) undone. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

/** The cgroup (v1) and cgroup2 mounts of a /proc/self/mountinfo text. */
export function parseCgroupMounts(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const [fsType, , superOptions] = right.split(' ');
    if ((fsType !== 'cgroup' && fsType !== 'cgroup2') || fields.length < 5) continue;
    mounts.push({
      root: unescapeMountPath(fields[3]!),
      mountPoint: unescapeMountPath(fields[4]!),
      v2: fsType === 'cgroup2',
      controllers: fsType === 'cgroup' ? (superOptions ?? '').split(',') : [],
    });
  }
  return mounts;
}

/**
 * The directories that may hold the cgroup at `path` under `mount`, the likeliest first: the
 * path below the mount's root, then the mount point itself (its root is the process's own
 * cgroup while /proc/self/cgroup names another path).
 */
function cgroupDirs(mount: CgroupMount, path: string): string[] {
  const { root, mountPoint } = mount;
  let below: string | undefined;
  if (root === '/') below = path;
  else if (path === root || path.startsWith(`${root}/`)) below = path.slice(root.length);
  const dir =
    below === undefined || below === '/' || below === '' ? mountPoint : mountPoint + below;
  return dir === mountPoint ? [mountPoint] : [dir, mountPoint];
}

/** The first of `dirs` where `file` reads, as [dir, text]. */
function readIn(
  read: ReadText,
  dirs: readonly string[],
  file: string,
): [string, string] | undefined {
  for (const dir of dirs) {
    const text = read(`${dir}/${file}`);
    if (text !== undefined) return [dir, text];
  }
  return undefined;
}

/** The cores a cgroup v2 `cpu.max` (`<quota> <period>`, or `max <period>`) allows, or undefined. */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  const q = Number(quota);
  const p = Number(period);
  return q > 0 && p > 0 ? q / p : undefined;
}

/** A count in a file of one number (`cpu.cfs_quota_us`), or undefined. */
function parseCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*-?\d+\s*$/.test(text)) return undefined;
  return Number(text);
}

/** The cores the v2 quota of the cgroup at `path` allows, if it has one. */
function v2Quota(read: ReadText, mount: CgroupMount, path: string): number | undefined {
  const found = readIn(read, cgroupDirs(mount, path), 'cpu.max');
  return found === undefined ? undefined : parseCpuMax(found[1]);
}

/** The cores the v1 quota (cpu controller) of the cgroup at `path` allows, if it has one. */
function v1Quota(read: ReadText, mount: CgroupMount, path: string): number | undefined {
  const found = readIn(read, cgroupDirs(mount, path), 'cpu.cfs_quota_us');
  const quota = parseCount(found?.[1]);
  const period = found && parseCount(read(`${found[0]}/cpu.cfs_period_us`));
  if (quota === undefined || period === undefined || quota <= 0 || period <= 0) return undefined;
  return quota / period;
}

/**
 * How many cores' time this process's cgroup CPU quota allows (v2, else v1; 1.5 = one and a
 * half cores), or undefined when it has none (or none that reads). Without a readable
 * mountinfo, v2 is taken as mounted at /sys/fs/cgroup and each v1 hierarchy at
 * /sys/fs/cgroup/<its controllers>.
 */
export function cgroupCpuQuota(read: ReadText): number | undefined {
  const lines = (read('/proc/self/cgroup') ?? '').split('\n');
  const mountinfo = read('/proc/self/mountinfo');
  const mounts = mountinfo === undefined ? undefined : parseCgroupMounts(mountinfo);
  const v2Path = lines
    .find((l) => l.startsWith('0::'))
    ?.slice(3)
    .trim();
  const v2Mount =
    mounts === undefined
      ? { root: '/', mountPoint: '/sys/fs/cgroup', v2: true, controllers: [] }
      : mounts.find((m) => m.v2);
  if (v2Path !== undefined && v2Mount !== undefined) {
    const quota = v2Quota(read, v2Mount, v2Path);
    if (quota !== undefined) return quota;
  }
  // The v1 hierarchy that holds the cpu controller, and this process's path in it.
  for (const line of lines) {
    const [, listed, path] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (listed === undefined || path === undefined) continue;
    const controllers = listed.split(',');
    if (!controllers.includes('cpu')) continue;
    const mount =
      mounts === undefined
        ? { root: '/', mountPoint: `/sys/fs/cgroup/${listed}`, v2: false, controllers }
        : mounts.find((m) => !m.v2 && m.controllers.includes('cpu'));
    return mount === undefined ? undefined : v1Quota(read, mount, path);
  }
  return undefined;
}
