// Tests for the daemon's burst clock (src/main/server/burst-clock.ts): one reading shared until
// forgotten, a fresh one after.

import { describe, expect, it } from 'vitest';
import { BurstClock } from '../../dist/main/server/burst-clock.js';

/** Spins until performance.now() passes `t` (it advances in well under a millisecond). */
function spinPast(t: number): void {
  const limit = Date.now() + 1_000;
  while (performance.now() <= t) if (Date.now() > limit) throw new Error('the clock stood still');
}

describe('BurstClock', () => {
  it('shares one reading until forget(), then reads the clock again', () => {
    const clock = new BurstClock();
    const before = performance.now();
    const first = clock.now();
    expect(first).toBeGreaterThanOrEqual(before);
    spinPast(first);
    expect(clock.now()).toBe(first); // the same burst
    clock.forget();
    const second = clock.now();
    expect(second).toBeGreaterThan(first);
    spinPast(second);
    expect(clock.now()).toBe(second);
  });
});
