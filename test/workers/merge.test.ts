// Tests the merge and its install on one thread (the worker and the writer run them in their
// own threads in production): mergeSegments copies exactly the records the index points at
// plus the tombstones a non-oldest run must keep, writes the merged segment and hint under
// temporary names; installCompaction commits them, moves keys by compare-and-set (a key written
// meanwhile keeps its new location), drops expired keys, retires the inputs; damage found while
// merging is KV_CORRUPTION and the plan can be abandoned; writeSegmentHint hints a sealed segment.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CompactionPolicy } from '../../dist/shared/compaction-messages.js';
import { readHint } from '../../dist/shared/hint-format.js';
import { requestStop, Throttle } from '../../dist/shared/throttle.js';
import { mergeSegments } from '../../dist/workers/merge.js';
import { writeSegmentHint } from '../../dist/workers/segment-hint.js';
import { expectValue, expectVoid, OpenWriter, removeTempDirs, tempDir } from './worker-harness.js';

const ALL: CompactionPolicy = {
  triggerDeadRatio: 0.6,
  triggerDeadBytes: 1 << 30,
  includeDeadRatio: 0.4,
  smallSegmentBytes: 0,
  maxMergeBytes: 1 << 30,
};
const name = (id: number) => `${String(id).padStart(6, '0')}.log`;
const unlimited = () => new Throttle(new SharedArrayBuffer(4), 0);

afterEach(removeTempDirs);

/** A writer whose 70-byte segments hold one record each: six segments of puts, a delete and an expired put. */
async function writerWithSegments(label: string) {
  const dir = await tempDir(label);
  const w = await OpenWriter.open(dir, { segmentBytes: 70 });
  await w.write([{ put: 'a', value: 'one' }]);
  await w.write([{ put: 'b', value: 'bee' }]);
  await w.write([{ put: 'a', value: 'two' }]);
  await w.write([{ del: 'b' }]);
  await w.write([{ put: 'c', value: 'sea', expiresAt: Date.now() - 1000 }]);
  await w.write([{ put: 'd', value: 'dee' }]);
  return { dir, w };
}

describe('merge and install', () => {
  it('copies live records only, installs them by compare-and-set and retires the inputs', async () => {
    const { dir, w } = await writerWithSegments('merge');
    try {
      const plan = expectValue(await w.service.planCompaction(true, 0, 0xffffffff, ALL))!;
      expect(plan.dropTombstones).toBe(true);
      const progress: number[] = [];
      const result = mergeSegments(dir, w.index, plan, unlimited(), (done) => progress.push(done));
      expect(progress.at(-1)).toBe(plan.inputs.reduce((n, s) => n + s.size, 0));
      // a=two, d=dee copied; c expired (dropped), b's put and tombstone and a=one not copied.
      expect(result.records).toBe(2);
      expect(
        readdirSync(dir)
          .filter((n) => n.endsWith('.tmp'))
          .sort(),
      ).toEqual(
        [`${String(plan.outputId).padStart(6, '0')}.hint.tmp`, `${name(plan.outputId)}.tmp`].sort(),
      );
      // A write racing the merge: its key keeps the new location.
      await w.write([{ put: 'd', value: 'newer' }]);
      const outcome = expectValue(await w.service.installCompaction(plan, result));
      expect(outcome).toMatchObject({ moved: 1, superseded: 1, dropped: 1 });
      expect([w.get('a'), w.get('b'), w.get('c'), w.get('d')]).toEqual([
        'two',
        undefined,
        undefined,
        'newer',
      ]);
      for (const input of plan.inputs) expect(existsSync(join(dir, name(input.id)))).toBe(false);
      const stats = await w.stats();
      expect(stats.segments.filter((s) => s.merged)).toHaveLength(1);
      expect(stats.segments.find((s) => s.merged)).toMatchObject({ liveKeys: 1, hinted: true });
    } finally {
      await w.close();
    }
    const reopened = await OpenWriter.open(dir, { segmentBytes: 70 });
    try {
      expect([reopened.get('a'), reopened.get('b'), reopened.get('d')]).toEqual([
        'two',
        undefined,
        'newer',
      ]);
    } finally {
      await reopened.close();
    }
  });

  it('refuses a second plan while one is pending, and abandoning removes the temporary files', async () => {
    const { dir, w } = await writerWithSegments('merge-abandon');
    try {
      const plan = expectValue(await w.service.planCompaction(true, 0, 0xffffffff, ALL))!;
      const again = await w.service.planCompaction(true, 0, 0xffffffff, ALL);
      expect(again.ok).toBe(false);
      mergeSegments(dir, w.index, plan, unlimited(), () => {});
      expectVoid(await w.service.abandonCompaction(plan));
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      expect(w.get('a')).toBe('two');
      const fresh = await w.service.planCompaction(true, 0, 0xffffffff, ALL);
      expect(fresh.ok).toBe(true);
    } finally {
      await w.close();
    }
  });

  it('reports damage in an input as KV_CORRUPTION and leaves no temporary file; a stop is KV_CLOSED', async () => {
    const { dir, w } = await writerWithSegments('merge-damage');
    try {
      const plan = expectValue(await w.service.planCompaction(true, 0, 0xffffffff, ALL))!;
      const control = new SharedArrayBuffer(4);
      requestStop(control);
      expect(() => mergeSegments(dir, w.index, plan, new Throttle(control, 0), () => {})).toThrow(
        expect.objectContaining({ code: 'KV_CLOSED' }),
      );
      const path = join(dir, name(plan.inputs[0]!.id));
      const bytes = readFileSync(path);
      bytes[bytes.length - 2] ^= 0xff;
      writeFileSync(path, bytes);
      expect(() => mergeSegments(dir, w.index, plan, unlimited(), () => {})).toThrow(
        expect.objectContaining({ code: 'KV_CORRUPTION' }),
      );
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      expect(() => writeSegmentHint(dir, plan.inputs[0]!, unlimited())).toThrow(
        expect.objectContaining({ code: 'KV_CORRUPTION' }),
      );
      expectVoid(await w.service.abandonCompaction(plan));
    } finally {
      await w.close();
    }
  });

  it('keeps tombstones when the run does not start at the oldest segment', async () => {
    const { dir, w } = await writerWithSegments('merge-keep');
    try {
      const sealed = (await w.stats()).segments.filter((s) => !s.active);
      // Plan everything after the first segment: the run no longer starts at the oldest.
      const plan = expectValue(
        await w.service.planCompaction(true, sealed[0]!.last, 0xffffffff, ALL),
      )!;
      expect(plan.dropTombstones).toBe(false);
      const result = mergeSegments(dir, w.index, plan, unlimited(), () => {});
      expect(result.tombstoneBytes).toBeGreaterThan(0);
      expectValue(await w.service.installCompaction(plan, result));
      expect(w.get('b')).toBeUndefined();
    } finally {
      await w.close();
    }
  });
});

describe('writeSegmentHint', () => {
  it("writes a valid hint for a sealed segment, matching the segment's effects", async () => {
    const { dir, w } = await writerWithSegments('hint');
    try {
      const unhinted = expectValue(await w.service.unhintedSegments());
      expect(unhinted.length).toBeGreaterThan(1);
      for (const s of unhinted) {
        const entries = writeSegmentHint(dir, s, unlimited());
        expectVoid(await w.service.hintWritten(s.id));
        const hint = readHint(
          readFileSync(join(dir, `${String(s.id).padStart(6, '0')}.hint`)),
          s.id,
          s.size,
        );
        if (typeof hint === 'string') throw new Error(hint);
        expect(hint.entries).toBe(entries);
      }
      expect(expectValue(await w.service.unhintedSegments())).toEqual([]);
    } finally {
      await w.close();
    }
  });
});
