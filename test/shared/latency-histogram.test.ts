// Tests LatencyHistogram: a value on a bound counts in that bucket (Prometheus's `le`), counts
// come out cumulative, values past the last bound count only in the total, and a snapshot is a
// copy the histogram does not change afterwards.

import { describe, expect, it } from 'vitest';
import { LatencyHistogram, SYNC_LATENCY_BOUNDS } from '../../dist/shared/latency-histogram.js';

describe('LatencyHistogram', () => {
  it('counts each value in the first bucket whose bound it does not pass, cumulatively', () => {
    const h = new LatencyHistogram([0.001, 0.01, 0.1]);
    for (const seconds of [0, 0.001, 0.0010001, 0.01, 0.05, 0.1, 0.5, 7]) h.record(seconds);
    const d = h.snapshot();
    expect(d.bounds).toEqual([0.001, 0.01, 0.1]);
    expect(d.counts).toEqual([2, 4, 6]);
    expect(d.count).toBe(8);
    expect(d.seconds).toBeCloseTo(0.001 + 0.0010001 + 0.01 + 0.05 + 0.1 + 0.5 + 7, 12);
  });

  it('hands out copies', () => {
    const h = new LatencyHistogram(SYNC_LATENCY_BOUNDS);
    const empty = h.snapshot();
    h.record(0.002);
    expect(empty.count).toBe(0);
    expect(empty.counts.every((n) => n === 0)).toBe(true);
    const one = h.snapshot();
    expect(one.count).toBe(1);
    expect(one.counts[SYNC_LATENCY_BOUNDS.indexOf(0.0025)]).toBe(1);
    expect(one.counts[SYNC_LATENCY_BOUNDS.indexOf(0.001)]).toBe(0);
  });
});
