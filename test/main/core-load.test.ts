// Tests the cores-busy flag the network threads read (core-load.ts): the idle share between two
// readings of the cores' times, the flag set from the start with 'always', and with
// 'when-cores-busy' clear at first, then set and cleared by each reading.

import { afterEach, describe, expect, it } from 'vitest';
import {
  CORES_BUSY_IDLE_SHARE,
  CoreLoad,
  coresBusy,
  idleShare,
} from '../../dist/main/server/core-load.js';

const loads: CoreLoad[] = [];
afterEach(() => {
  for (const load of loads.splice(0)) load.close();
});

describe('CoreLoad', () => {
  it('measures the share of the cores’ time spent idle between two readings', () => {
    expect(idleShare({ idle: 100, total: 1_000 }, { idle: 150, total: 2_000 })).toBe(0.05);
    expect(idleShare({ idle: 100, total: 1_000 }, { idle: 900, total: 2_000 })).toBe(0.8);
    // No time passed: idle, so nothing is handed back on a reading that says nothing.
    expect(idleShare({ idle: 5, total: 10 }, { idle: 5, total: 10 })).toBe(1);
    expect(0.05 < CORES_BUSY_IDLE_SHARE && 0.8 > CORES_BUSY_IDLE_SHARE).toBe(true);
  });

  it("reads as busy from the start with 'always', and idle at first with 'when-cores-busy'", () => {
    const always = new CoreLoad('always');
    const measured = new CoreLoad('when-cores-busy');
    loads.push(always, measured);
    expect(coresBusy(new Int32Array(always.shared))).toBe(true);
    expect(coresBusy(new Int32Array(measured.shared))).toBe(false);
  });

  it('sets the flag from each reading: busy under the idle share, idle again over it', () => {
    const times = { idle: 0, total: 0 };
    const load = new CoreLoad('when-cores-busy', () => ({ ...times }));
    loads.push(load);
    const flag = new Int32Array(load.shared);
    times.idle += 50; // 5% idle
    times.total += 1_000;
    load.sample();
    expect(coresBusy(flag)).toBe(true);
    times.idle += 500; // 50% idle
    times.total += 1_000;
    load.sample();
    expect(coresBusy(flag)).toBe(false);
  });
});
