// Tests where the cores' busy time is read from (core-times.ts), with the system's files and
// cores given by the test: the allowed cores' times summed (Cpus_allowed_list), every core's
// when that does not read, and not a cgroup CPU quota's; the CPU-list parser; and CoreLoad's
// flag from the allowed cores. The quota's own reading: cgroup-quota.test.ts.

import { describe, expect, it } from 'vitest';
import { CoreLoad, coresBusy, idleShare } from '../../dist/main/server/core-load.js';
import {
  type CoreInfo,
  machineCoreTimes,
  parseCpuList,
  sumCoreTimes,
} from '../../dist/main/server/core-times.js';

/** A core with `busy` ms of user time and `idle` ms idle. */
function core(busy: number, idle: number): CoreInfo {
  return { times: { user: busy, nice: 0, sys: 0, idle, irq: 0 } };
}

/** Reads `files` (path → text); any other path is unreadable. */
function files(texts: Record<string, string>): (path: string) => string | undefined {
  return (path) => texts[path];
}

const STATUS = 'Name:\tnode\nCpus_allowed:\tf\nCpus_allowed_list:\t1-2\nMems_allowed_list:\t0\n';

describe('core times', () => {
  it('parses CPU lists', () => {
    expect(parseCpuList('0-3,8,10-11')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('5\n')).toEqual([5]);
    expect(parseCpuList('0-1,x')).toBeUndefined();
  });

  it('sums the allowed cores only, or every core', () => {
    const cores = [core(10, 90), core(50, 50), core(70, 30), core(0, 100)];
    expect(sumCoreTimes(cores)).toEqual({ idle: 270, total: 400 });
    expect(sumCoreTimes(cores, [1, 2])).toEqual({ idle: 80, total: 200 });
    expect(sumCoreTimes(cores, [3, 9])).toEqual({ idle: 100, total: 100 }); // no core 9
  });

  it("reads the allowed cores' times when the cgroup has no quota", () => {
    let cores = [core(0, 0), core(0, 0), core(0, 0), core(0, 0)];
    const read = machineCoreTimes(
      files({
        '/proc/self/status': STATUS,
        '/proc/self/cgroup': '0::/\n',
        '/sys/fs/cgroup/cpu.max': 'max 100000\n',
        '/sys/fs/cgroup/cpu.stat': 'usage_usec 0\n',
      }),
      () => cores,
    );
    const before = read();
    // Cores 1 and 2 (this process's) busy, cores 0 and 3 (the host's others) idle.
    cores = [core(0, 1000), core(990, 10), core(990, 10), core(0, 1000)];
    expect(idleShare(before, read())).toBeCloseTo(0.01);
  });

  it("reads the allowed cores' times, not a cgroup CPU quota's", () => {
    // Measured in a one-core quota: counting it handed -P1 clients to the main thread and
    // served 10% fewer GETs (bench/ANALYSIS.md, "In a CPU quota").
    let cores = [core(0, 0), core(0, 0)];
    const read = machineCoreTimes(
      files({
        '/proc/self/status': 'Cpus_allowed_list:\t0-1\n',
        '/proc/self/cgroup': '0::/\n',
        '/sys/fs/cgroup/cpu.max': '100000 100000\n', // one core's worth
        '/sys/fs/cgroup/cpu.stat': 'usage_usec 99000000\n', // used up
      }),
      () => cores,
    );
    const before = read();
    cores = [core(500, 500), core(100, 900)];
    expect(idleShare(before, read())).toBeCloseTo(0.7);
  });

  it('reads every core when the allowed ones do not read', () => {
    const cores = [core(100, 900), core(300, 700)];
    const fallbacks: Record<string, string>[] = [
      {}, // nothing readable
      { '/proc/self/cgroup': '4:cpu,cpuacct:/docker/abc\n' }, // cgroup v1, its files unreadable
      { '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '200000 100000' }, // no cpu.stat
      { '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.stat': 'usage_usec 5\n' }, // no cpu.max
    ];
    for (const texts of fallbacks) {
      expect(machineCoreTimes(files(texts), () => cores)()).toEqual({ idle: 1600, total: 2000 });
    }
  });

  it('has the flag set while the allowed cores are busy, and cleared when they are not', () => {
    let cores = [core(0, 0), core(0, 0), core(0, 0)];
    const times = machineCoreTimes(
      files({ '/proc/self/status': 'Cpus_allowed_list:\t1-2\n' }),
      () => cores,
    );
    const load = new CoreLoad('when-cores-busy', times);
    const flag = new Int32Array(load.shared);
    try {
      cores = [core(0, 1000), core(950, 50), core(960, 40)]; // core 0 (not ours) idle
      load.sample();
      expect(coresBusy(flag)).toBe(true);
      cores = [core(1000, 1000), core(1200, 800), core(1300, 700)];
      load.sample();
      expect(coresBusy(flag)).toBe(false);
    } finally {
      load.close();
    }
  });
});
