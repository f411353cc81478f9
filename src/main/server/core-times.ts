// Owns where the busy and idle time of the cores this process may use is read from, for
// core-load.ts: by default every core's times (`os.cpus()`) summed over the cores its affinity
// allows (/proc/self/status, Cpus_allowed_list: a cpuset container or `taskset`); when its
// cgroup has a CPU quota (v2 or v1: cgroup-quota.ts), the quota's time against what the cgroup
// used. A container limited either way then reads busy when its own share of the cores is, not
// when the host's cores are.

import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { cgroupCpuQuota, type ReadText } from './cgroup-quota.js';

/** Time the cores spent idle, and in all, so far (ms). */
export interface CoreTimes {
  readonly idle: number;
  readonly total: number;
}

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
  const quota = cgroupCpuQuota(read);
  if (quota !== undefined) {
    const cores = Math.min(quota.cores, allowed?.length ?? readCores().length);
    return () => {
      const total = now() * cores;
      return { idle: total - (quota.usageMs() ?? 0), total };
    };
  }
  return () => sumCoreTimes(readCores(), allowed);
}
