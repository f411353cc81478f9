// Tests where the cores' busy time is read from (core-times.ts), with the system's files and
// cores given by the test: the allowed cores' times summed (Cpus_allowed_list), a cgroup v2 CPU
// quota's time against its usage (cpu.max, cpu.stat; nested and namespaced cgroups), the fewer
// of the quota's and the allowed cores, and what falls back to the cores (no quota, `max`,
// unreadable files); and the parsers. cgroup v1 and the mounts: cgroup-quota.test.ts. With CoreLoad: a container whose quota is used
// up reads busy while the host's cores are idle.

import { describe, expect, it } from 'vitest';
import { parseCpuMax, parseUsageUsec } from '../../dist/main/server/cgroup-quota.js';
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
  it('parses CPU lists, cpu.max and cpu.stat', () => {
    expect(parseCpuList('0-3,8,10-11')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('5\n')).toEqual([5]);
    expect(parseCpuList('0-1,x')).toBeUndefined();
    expect(parseCpuMax('200000 100000\n')).toBe(2);
    expect(parseCpuMax('50000 100000')).toBe(0.5);
    expect(parseCpuMax('max 100000')).toBeUndefined();
    expect(parseUsageUsec('usage_usec 1234567\nuser_usec 1000\n')).toBe(1234567);
    expect(parseUsageUsec('user_usec 1000\n')).toBeUndefined();
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

  it("reads a cgroup quota's time against the cgroup's usage, nested or namespaced", () => {
    for (const [cgroup, dir] of [
      ['0::/kubepods/pod1/ctr\n', '/sys/fs/cgroup/kubepods/pod1/ctr'],
      ['0::/\n', '/sys/fs/cgroup'],
    ] as const) {
      let clock = 0;
      let usageUsec = 0;
      const idleHost = [core(0, 1000), core(0, 1000), core(0, 1000), core(0, 1000)];
      const read = machineCoreTimes(
        (path) =>
          ({
            '/proc/self/cgroup': `12:cpu:/x\n${cgroup}`,
            [`${dir}/cpu.max`]: '200000 100000\n', // two cores' worth
            [`${dir}/cpu.stat`]: `usage_usec ${usageUsec}\nuser_usec 0\n`,
          })[path],
        () => idleHost,
        () => clock,
      );
      const before = read();
      clock += 1000; // 1 s, in which the cgroup used 1.9 of its 2 cores
      usageUsec += 1_900_000;
      expect(idleShare(before, read())).toBeCloseTo(0.05);
    }
  });

  it('counts the fewer of the quota’s cores and the allowed cores', () => {
    let clock = 0;
    let usageUsec = 0;
    const read = machineCoreTimes(
      files({
        '/proc/self/status': STATUS, // 2 cores allowed
        '/proc/self/cgroup': '0::/\n',
        '/sys/fs/cgroup/cpu.max': '800000 100000\n', // 8 cores' worth
        get '/sys/fs/cgroup/cpu.stat'() {
          return `usage_usec ${usageUsec}\n`;
        },
      }),
      () => [],
      () => clock,
    );
    const before = read();
    clock += 1000;
    usageUsec += 1_000_000; // one of the two cores it may use
    expect(idleShare(before, read())).toBeCloseTo(0.5);
  });

  it('falls back to the cores without a cgroup quota it can read', () => {
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

  it('has the flag set when a quota is used up on an idle host', () => {
    let clock = 0;
    let usageUsec = 0;
    const times = machineCoreTimes(
      (path) =>
        ({
          '/proc/self/cgroup': '0::/\n',
          '/sys/fs/cgroup/cpu.max': '100000 100000\n',
          '/sys/fs/cgroup/cpu.stat': `usage_usec ${usageUsec}\n`,
        })[path],
      () => [core(0, 1000), core(0, 1000)],
      () => clock,
    );
    const load = new CoreLoad('when-cores-busy', times);
    const flag = new Int32Array(load.shared);
    try {
      clock += 1000;
      usageUsec += 990_000; // its one core's worth, used
      load.sample();
      expect(coresBusy(flag)).toBe(true);
      clock += 1000;
      usageUsec += 300_000;
      load.sample();
      expect(coresBusy(flag)).toBe(false);
    } finally {
      load.close();
    }
  });
});
