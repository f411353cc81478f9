// Owns where the busy and idle time of the cores this process may use is read from, for
// core-load.ts: by default every core's times (`os.cpus()`) summed over the cores its affinity
// allows (/proc/self/status, Cpus_allowed_list: a cpuset container or `taskset`); when its
// cgroup (v2) has a CPU quota (cpu.max), the quota's time against what the cgroup used
// (cpu.stat's usage_usec). A container limited either way then reads busy when its own share of
// the cores is, not when the host's cores are. cgroup v1 quotas are not read (the host's or the
// allowed cores' times are).

import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Time the cores spent idle, and in all, so far (ms). */
export interface CoreTimes {
  readonly idle: number;
  readonly total: number;
}

/** A file's text, or undefined if it cannot be read (tests give their own). */
export type ReadText = (path: string) => string | undefined;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

/** The CPU numbers of a list like `0-3,8,10-11`, or undefined if it is not one. */
export function parseCpuList(text: string): number[] | undefined {
  const cpuNumbers: number[] = [];
  for (const part of text.trim().split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (range === null) return undefined;
    const first = Number(range[1]);
    const last = range[2] === undefined ? first : Number(range[2]);
    for (let cpu = first; cpu <= last; cpu++) cpuNumbers.push(cpu);
  }
  return cpuNumbers;
}

/** The cores a cgroup v2 `cpu.max` (`<quota> <period>`, or `max <period>`) allows, or undefined. */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  const q = Number(quota);
  const p = Number(period);
  return q > 0 && p > 0 ? q / p : undefined;
}

/** `usage_usec` of a cgroup v2 `cpu.stat`, or undefined. */
export function parseUsageUsec(text: string): number | undefined {
  const match = /^usage_usec (\d+)$/m.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/** The directory of this process's cgroup (v2), from /proc/self/cgroup's `0::<path>` line. */
function cgroupDir(read: ReadText): string | undefined {
  const line = read('/proc/self/cgroup')
    ?.split('\n')
    .find((l) => l.startsWith('0::'));
  if (line === undefined) return undefined;
  const path = line.slice(3).trim();
  return path === '/' ? '/sys/fs/cgroup' : `/sys/fs/cgroup${path}`;
}

/** What `os.cpus()` gives of each core that `machineCoreTimes` reads. */
export interface CoreInfo {
  readonly times: {
    readonly user: number;
    readonly nice: number;
    readonly sys: number;
    readonly idle: number;
    readonly irq: number;
  };
}

/** The times of `cores`, summed over the CPU numbers in `allowed` (all of them if undefined). */
export function sumCoreTimes(cores: readonly CoreInfo[], allowed?: readonly number[]): CoreTimes {
  let idle = 0;
  let total = 0;
  const add = (core: CoreInfo | undefined): void => {
    if (core === undefined) return;
    const t = core.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  };
  if (allowed === undefined) for (const core of cores) add(core);
  else for (const cpu of allowed) add(cores[cpu]);
  return { idle, total };
}

/**
 * The reader of the cores' times for this process: its cgroup's quota if it has one (the fewer of
 * the quota's cores and the allowed cores), else the allowed cores' times. `now` is a monotonic
 * clock in ms.
 */
export function machineCoreTimes(
  read: ReadText = readText,
  readCores: () => readonly CoreInfo[] = cpus,
  now: () => number = () => performance.now(),
): () => CoreTimes {
  const status = read('/proc/self/status');
  const listed = /^Cpus_allowed_list:\s*(\S+)$/m.exec(status ?? '');
  const allowed = listed === null ? undefined : parseCpuList(listed[1]!);
  const dir = cgroupDir(read);
  const max = dir === undefined ? undefined : read(`${dir}/cpu.max`);
  const quota = max === undefined ? undefined : parseCpuMax(max);
  const statPath = `${dir}/cpu.stat`;
  const usage = (): number | undefined => {
    const stat = read(statPath);
    return stat === undefined ? undefined : parseUsageUsec(stat);
  };
  if (quota !== undefined && usage() !== undefined) {
    const cores = Math.min(quota, allowed?.length ?? readCores().length);
    return () => {
      const total = now() * cores;
      return { idle: total - (usage() ?? 0) / 1000, total };
    };
  }
  return () => sumCoreTimes(readCores(), allowed);
}
