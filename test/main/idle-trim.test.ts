// Tests for giving the daemon's freed C heap back when idle (src/main/server/idle-trim.ts) and
// the native calls behind it (src/native/kvd_native.c: trim, mmapThreshold). The idle logic is
// driven look by look (`check()`), with a recording trim: no timers.

import { describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import {
  COLLECT_AFTER_IDLE_MS,
  IDLE_CHECK_MS,
  IdleTrim,
} from '../../dist/main/server/idle-trim.js';
import { heapTrim } from '../../dist/shared/file-map.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

/** A trim that records its calls and answers `releases`. */
function recordingTrim(releases = true) {
  const calls: string[] = [];
  return {
    calls,
    heap: {
      trim: () => {
        calls.push('trim');
        return releases;
      },
      mmapThreshold: () => true,
    },
  };
}

/** An IdleTrim whose trims and collections are recorded in `calls`; `busy()` is one command. */
function collectingIdleTrim() {
  let commands = 0;
  const { calls, heap } = recordingTrim();
  const idle = new IdleTrim(
    heap,
    () => commands,
    () => calls.push('collect'),
  );
  return { idle, calls, busy: () => void commands++ };
}

describe('IdleTrim', () => {
  it('trims once per idle period: not while commands arrive, once when they stop', () => {
    let commands = 0;
    const { calls, heap } = recordingTrim();
    const idle = new IdleTrim(heap, () => commands);
    idle.check(); // nothing happened since it was made (the server had just started): no trim
    expect(calls).toEqual([]);
    commands += 5;
    idle.check(); // busy
    commands += 1;
    idle.check(); // still busy
    expect(calls).toEqual([]);
    idle.check(); // idle since the last look: trim
    expect(calls).toEqual(['trim']);
    idle.check(); // still idle: not again
    idle.check();
    expect(calls).toEqual(['trim']);
    commands += 1;
    idle.check(); // busy again
    idle.check(); // idle again: one more trim
    expect(calls).toEqual(['trim', 'trim']);
    expect(idle.trims).toBe(2);
    expect(idle.released).toBe(2);
  });

  it('collects once after COLLECT_AFTER_IDLE_MS of idle looks, and trims at the look after', () => {
    const { idle, calls, busy } = collectingIdleTrim();
    const looksToCollect = COLLECT_AFTER_IDLE_MS / IDLE_CHECK_MS;
    expect(looksToCollect).toBeGreaterThan(1);
    busy();
    idle.check(); // busy
    idle.check(); // first idle look: trim only
    expect(calls).toEqual(['trim']);
    for (let look = 2; look < looksToCollect; look++) idle.check();
    expect(calls).toEqual(['trim']); // idle, but not long enough
    idle.check(); // idle for COLLECT_AFTER_IDLE_MS: collect
    expect(calls).toEqual(['trim', 'collect']);
    idle.check(); // the next look gives back what V8 freed after it
    expect(calls).toEqual(['trim', 'collect', 'trim']);
    for (let look = 0; look < 2 * looksToCollect; look++) idle.check();
    expect(calls).toEqual(['trim', 'collect', 'trim']); // once per idle period
    expect(idle.collections).toBe(1);
    expect(idle.trims).toBe(2);
    // Activity before the collection is due starts the count again.
    busy();
    idle.check();
    for (let look = 1; look < looksToCollect; look++) idle.check();
    busy();
    idle.check();
    for (let look = 1; look < looksToCollect; look++) idle.check();
    expect(idle.collections).toBe(1);
    idle.check();
    expect(idle.collections).toBe(2);
  });

  it('counts the idle time in looks of the interval it was started with', () => {
    const { idle, calls, busy } = collectingIdleTrim();
    idle.start(COLLECT_AFTER_IDLE_MS / 2); // timer never fires in this test: looks are driven
    idle.stop();
    busy();
    idle.check();
    idle.check(); // idle for one look: half of the time
    expect(idle.collections).toBe(0);
    idle.check(); // two looks: the whole time
    expect(calls).toEqual(['trim', 'collect']);
  });

  it('collects without a C heap trim when the native addon is missing', () => {
    let commands = 0;
    let collected = 0;
    const idle = new IdleTrim(
      undefined,
      () => commands,
      () => collected++,
    );
    commands++;
    idle.check();
    for (let look = 0; look < COLLECT_AFTER_IDLE_MS / IDLE_CHECK_MS; look++) idle.check();
    expect(collected).toBe(1);
    expect(idle.trims).toBe(0);
  });

  it('counts a trim that released nothing apart', () => {
    let commands = 0;
    const { heap } = recordingTrim(false);
    const idle = new IdleTrim(heap, () => commands);
    commands++;
    idle.check();
    idle.check();
    expect(idle.trims).toBe(1);
    expect(idle.released).toBe(0);
  });

  it("trims after a store's background merge with no command in between", async () => {
    const dir = await makeTempDir('idle-trim-merge');
    const store = await Store.open(dir, { compaction: { auto: false } });
    try {
      for (let i = 0; i < 200; i++) await store.set(`k${i}`, `v${i}`);
      const { calls, heap } = recordingTrim();
      const idle = new IdleTrim(heap, () => store.backgroundJobsEnded());
      idle.check();
      const before = store.backgroundJobsEnded();
      await store.compact();
      // The install, then the worker's exit: each ends a job.
      await pollUntil(
        'the merge worker exits',
        () => store.backgroundJobsEnded() >= before + 2,
        10_000,
      );
      idle.check(); // a job ended since the last look: busy
      expect(calls).toEqual([]);
      idle.check(); // nothing since: trim
      expect(calls).toEqual(['trim']);
    } finally {
      await store.close();
      await removeTempDirs();
    }
  });

  it('stops its timer', () => {
    const { heap } = recordingTrim();
    const idle = new IdleTrim(heap, () => 0);
    idle.start(60_000);
    idle.stop(); // a running timer here would be reported by vitest as a leak only if ref'd
    expect(idle.trims).toBe(0);
  });
});

describe('native heap calls', () => {
  it('are built, and answer booleans', () => {
    expect(heapTrim, 'kvd_native.node must be built (npm run build:native)').toBeDefined();
    const heap = heapTrim!;
    // A burst of big freed blocks, then a trim: on glibc there is something to give back.
    let kept = 0;
    for (let i = 0; i < 64; i++) kept += Buffer.allocUnsafeSlow(256 * 1024).length;
    expect(kept).toBe(64 * 256 * 1024);
    expect(typeof heap.trim()).toBe('boolean');
    expect(heap.mmapThreshold(64 * 1024)).toBe(process.platform === 'linux');
  });

  it('refuses a threshold that is not a byte count', () => {
    expect(() => heapTrim!.mmapThreshold(-1)).toThrow(/byte count/);
    expect(() => (heapTrim!.mmapThreshold as (v: unknown) => boolean)('64k')).toThrow(/byte count/);
  });
});
