// Tests how many cores the defaults sized by cores count (usable-cores.ts): the affinity's
// (availableParallelism) when no cgroup quota reads, capped by a quota rounded up, never below
// one; and that the reader pool's default follows it.

import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../dist/main/options.js';
import { usableCores } from '../../dist/main/usable-cores.js';

/** A process in cgroup v2 `/job` whose cpu.max is `max`. */
function withCpuMax(max: string): (path: string) => string | undefined {
  return (path) =>
    ({
      '/proc/self/cgroup': '0::/job\n',
      '/sys/fs/cgroup/job/cpu.max': `${max}\n`,
    })[path];
}

describe('usable cores', () => {
  it("counts the affinity's cores, capped by a cgroup CPU quota rounded up", () => {
    expect(usableCores(withCpuMax('max 100000'), () => 64)).toBe(64);
    expect(
      usableCores(
        () => undefined,
        () => 8,
      ),
    ).toBe(8);
    expect(usableCores(withCpuMax('150000 100000'), () => 64)).toBe(2);
    expect(usableCores(withCpuMax('400000 100000'), () => 64)).toBe(4);
    expect(usableCores(withCpuMax('800000 100000'), () => 2)).toBe(2);
    expect(usableCores(withCpuMax('10000 100000'), () => 64)).toBe(1); // a tenth of a core
  });

  it("is the machine's own by default, and the reader pool's default", () => {
    // No quota where the tests run unless the machine has one; either way within the affinity.
    const cores = usableCores();
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(cores).toBeLessThanOrEqual(availableParallelism());
    expect(resolveOptions({}).readers).toBe(cores);
  });
});
