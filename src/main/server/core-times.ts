// Owns where the busy and idle time of the cores this process may run on is read from, for
// core-load.ts: every core's times (`os.cpus()`) summed over the cores its affinity allows
// (/proc/self/status, Cpus_allowed_list: a cpuset container or `taskset`), so a container
// pinned to some of the host's cores reads busy when those are. A CPU quota is not counted
// (`machineCoreTimes`).

import { cpus } from 'node:os';
import { type ReadText, readSystemText } from '../cgroup-quota.js';

/** Time the cores spent idle, and in all, so far (ms). */
export interface CoreTimes {
  readonly idle: number;
  readonly total: number;
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
 * The reader of the cores' times for this process: the allowed cores' times. A cgroup CPU quota
 * is not counted (bench/ANALYSIS.md, "In a CPU quota"): it limits kvd's CPU time, not the cores
 * its threads and its clients share, and in a one-core quota handing clients that wait for each
 * reply to the main thread served 10% fewer GETs than keeping two threads.
 */
export function machineCoreTimes(
  read: ReadText = readSystemText,
  readCores: () => readonly CoreInfo[] = cpus,
): () => CoreTimes {
  const status = read('/proc/self/status');
  const listed = /^Cpus_allowed_list:\s*(\S+)$/m.exec(status ?? '');
  const allowed = listed === null ? undefined : parseCpuList(listed[1]!);
  return () => sumCoreTimes(readCores(), allowed);
}
