// Tests choosing what to merge (src/workers/compaction-plan.ts): contiguous runs only, Bitcask's
// trigger and include thresholds, tombstones counting as reclaimable only in a run that starts
// at the oldest segment, the input cap, compact()'s "everything sealed", and, when nothing is
// due, sealed unsorted segments to sort (sortSealed).

import { describe, expect, it } from 'vitest';
import type { CompactionPolicy } from '../../dist/shared/compaction-messages.js';
import { chooseRun as choose, reclaimableBytes } from '../../dist/workers/compaction-plan.js';
import type { Segment } from '../../dist/workers/segments.js';

const HEADER = 32;
const POLICY: CompactionPolicy = {
  triggerDeadRatio: 0.6,
  triggerDeadBytes: 1_000_000,
  includeDeadRatio: 0.4,
  smallSegmentBytes: 0,
  maxMergeBytes: 1_000_000,
  sortSealed: false,
  sortSkipThrough: 0,
  sortQuietMs: 0,
};

/** The run chooseRun picks (its reason is checked where it matters). */
const chooseRun = (...args: Parameters<typeof choose>) => choose(...args).run;

/** Segment `id` of `size` bytes, `dead` of them dead (`tombstones` of those tombstones). */
function seg(id: number, size: number, dead: number, tombstones = 0, kind: 0 | 1 | 2 = 0): Segment {
  return {
    id,
    handle: id,
    kind,
    first: id,
    last: id,
    size,
    overhead: HEADER,
    liveBytes: size - HEADER - dead,
    liveKeys: 1,
    tombstoneBytes: tombstones,
    hinted: false,
    expired: { bytes: 0, keys: 0, keyBytes: 0 },
    expiring: new Map(),
  };
}

const ids = (run: Segment[]) => run.map((s) => s.id);

describe('chooseRun', () => {
  it('merges nothing while no segment is 60% reclaimable', () => {
    const sealed = [seg(1, 1000, 500), seg(2, 1000, 590)];
    expect(chooseRun(sealed, sealed[0], POLICY, false)).toEqual([]);
  });

  it('takes a triggering segment with its contiguous neighbours that are at least 40% dead', () => {
    const sealed = [
      seg(1, 1000, 100),
      seg(2, 1000, 450),
      seg(3, 1000, 700),
      seg(4, 1000, 420),
      seg(5, 1000, 0),
    ];
    expect(ids(chooseRun(sealed, sealed[0], POLICY, false))).toEqual([2, 3, 4]);
  });

  it('triggers on dead bytes alone, and takes small segments as neighbours', () => {
    const policy = { ...POLICY, triggerDeadBytes: 300, smallSegmentBytes: 200 };
    const sealed = [seg(1, 1000, 0), seg(2, 150, 0), seg(3, 1000, 350), seg(4, 1000, 0)];
    expect(ids(chooseRun(sealed, sealed[0], policy, false))).toEqual([2, 3]);
  });

  it('counts tombstones as reclaimable only in a run that starts at the oldest segment', () => {
    // Segment 2 is 70% dead, but all of that is tombstones: a merge not starting at segment 1
    // would have to keep them, so it frees nothing and is not worth doing.
    const notOldest = [seg(1, 1000, 0), seg(2, 1000, 700, 700)];
    expect(chooseRun(notOldest, notOldest[0], POLICY, false)).toEqual([]);
    const oldest = [seg(2, 1000, 700, 700), seg(3, 1000, 0)];
    expect(ids(chooseRun(oldest, oldest[0], POLICY, false))).toEqual([2]);
    expect(reclaimableBytes(oldest[0]!, true)).toBe(700);
    expect(reclaimableBytes(oldest[0]!, false)).toBe(0);
  });

  it('stops adding segments past maxMergeBytes (always at least one)', () => {
    const policy = { ...POLICY, maxMergeBytes: 2500 };
    const sealed = [seg(1, 1000, 900), seg(2, 1000, 900), seg(3, 1000, 900), seg(4, 1000, 900)];
    expect(ids(chooseRun(sealed, sealed[0], policy, false))).toEqual([1, 2]);
    expect(ids(chooseRun([seg(1, 5000, 4000)], undefined, policy, false))).toEqual([1]);
  });

  it('with all, takes every candidate segment regardless of triggers, up to the cap', () => {
    const sealed = [seg(1, 1000, 0), seg(2, 1000, 0), seg(3, 1000, 0)];
    expect(ids(chooseRun(sealed, sealed[0], POLICY, true))).toEqual([1, 2, 3]);
    expect(ids(chooseRun(sealed, sealed[0], { ...POLICY, maxMergeBytes: 1500 }, true))).toEqual([
      1,
    ]);
    expect(chooseRun([], undefined, POLICY, true)).toEqual([]);
  });

  describe('sortSealed', () => {
    const SORT = { ...POLICY, sortSealed: true };
    const sorted = (id: number) => seg(id, 1000, 0, 0, 2);

    it('when nothing is due, takes the first run of neighbouring unsorted segments', () => {
      // 1 is sorted; 2 (log) and 3 (an earlier format's merged segment) are not; 4 is sorted.
      const sealed = [
        sorted(1),
        seg(2, 1000, 0),
        seg(3, 1000, 0, 0, 1),
        sorted(4),
        seg(5, 1000, 0),
      ];
      expect(choose(sealed, sealed[0], SORT, false)).toEqual({
        run: [sealed[1], sealed[2]],
        reason: 'sort',
      });
      expect(chooseRun(sealed, sealed[0], POLICY, false)).toEqual([]);
      expect(chooseRun([sorted(1), sorted(2)], undefined, SORT, false)).toEqual([]);
    });

    it('a merge a trigger fired comes first, with its reason', () => {
      const sealed = [seg(1, 1000, 0), seg(2, 1000, 900, 0, 2)];
      expect(choose(sealed, sealed[0], SORT, false)).toEqual({ run: [sealed[1]], reason: 'dead' });
      expect(choose(sealed, sealed[0], SORT, true).reason).toBe('all');
    });

    it('skips segments up to sortSkipThrough, and cuts at maxMergeBytes', () => {
      const sealed = [seg(1, 1000, 0), seg(2, 1000, 0), seg(3, 1000, 0), seg(4, 1000, 0)];
      expect(ids(chooseRun(sealed, sealed[0], { ...SORT, sortSkipThrough: 2 }, false))).toEqual([
        3, 4,
      ]);
      expect(ids(chooseRun(sealed, sealed[0], { ...SORT, maxMergeBytes: 2500 }, false))).toEqual([
        1, 2,
      ]);
      expect(chooseRun(sealed, sealed[0], { ...SORT, sortSkipThrough: 4 }, false)).toEqual([]);
    });
  });
});
