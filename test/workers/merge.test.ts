// Tests the merge and its install on one thread (the worker and the writer run them in their
// own threads in production): mergeSegments copies exactly the records the index points at
// plus the tombstones a non-oldest run must keep, writes the merged segment and hint under
// temporary names; installCompaction commits them, moves keys by compare-and-set (a key written
// meanwhile keeps its new location), drops expired keys, retires the inputs; a damaged record no
// live key needs is skipped and reported, one a live key needs stops the install
// (KV_CORRUPTION); writeSegmentHint hints a sealed segment and refuses a damaged one.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES } from '../../dist/shared/format.js';
import { isHintFailure, readHint } from '../../dist/shared/hint-format.js';
import { isSortedFailure } from '../../dist/shared/sorted-format.js';
import { openSortedSegment } from '../../dist/shared/sorted-segment-reader.js';
import { requestStop, Throttle } from '../../dist/shared/throttle.js';
import { mergeSegments } from '../../dist/workers/merge.js';
import { writeSegmentHint } from '../../dist/workers/segment-hint.js';
import {
  expectValue,
  expectVoid,
  MERGE_EVERYTHING,
  OpenWriter,
  removeTempDirs,
  tempDir,
} from './worker-harness.js';

const name = (id: number) => `${String(id).padStart(6, '0')}.log`;
const unlimited = () => new Throttle(new SharedArrayBuffer(4), 0);

afterEach(removeTempDirs);

/** Flips a byte of the value of the first record of segment `id` (one record per segment here). */
function flipValueByte(dir: string, id: number): void {
  const path = join(dir, name(id));
  const bytes = readFileSync(path);
  bytes[SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 2] ^= 0xff;
  writeFileSync(path, bytes);
}

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
      const plan = expectValue(
        await w.service.planCompaction(true, 0, 0xffffffff, MERGE_EVERYTHING),
      )!;
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
        [
          `${String(plan.outputId).padStart(6, '0')}.keys.tmp`,
          `${String(plan.outputId).padStart(6, '0')}.sst.tmp`,
        ].sort(),
      );
      // The output is a data segment: point entries in key order, one per key.
      const sst = openSortedSegment(
        readFileSync(join(dir, `${String(plan.outputId).padStart(6, '0')}.sst.tmp`)),
      );
      if (isSortedFailure(sst)) throw new Error(sst.reason);
      expect(sst.footer.pointEntries).toBe(true);
      expect(
        [...sst.seek()].map((e) => {
          const entry = e as { key: Uint8Array; value: Uint8Array };
          return `${Buffer.from(entry.key)}=${Buffer.from(entry.value)}`;
        }),
      ).toEqual(['a=two', 'd=dee']);
      // A write racing the merge: its key keeps the new location.
      await w.write([{ put: 'd', value: 'newer' }]);
      const outcome = expectValue(await w.service.installCompaction(plan, result));
      expect(outcome).toMatchObject({ moved: 1, superseded: 1, dropped: 1 });
      // The install spends the move list and gives its memory back (release-buffer.ts).
      expect(result.moves.byteLength).toBe(0);
      expect([w.get('a'), w.get('b'), w.get('c'), w.get('d')]).toEqual([
        'two',
        undefined,
        undefined,
        'newer',
      ]);
      for (const input of plan.inputs) expect(existsSync(join(dir, name(input.id)))).toBe(false);
      // The merged segment's key run: the keys it copied, sorted; the inputs' runs are gone.
      const keysFile = (id: number) => join(dir, `${String(id).padStart(6, '0')}.keys`);
      const run = openSortedSegment(readFileSync(keysFile(plan.outputId)));
      if (isSortedFailure(run)) throw new Error(run.reason);
      expect(
        [...run.seek()].map((e) => Buffer.from((e as { key: Uint8Array }).key).toString()),
      ).toEqual(['a', 'd']);
      for (const input of plan.inputs) expect(existsSync(keysFile(input.id))).toBe(false);
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
      const plan = expectValue(
        await w.service.planCompaction(true, 0, 0xffffffff, MERGE_EVERYTHING),
      )!;
      const again = await w.service.planCompaction(true, 0, 0xffffffff, MERGE_EVERYTHING);
      expect(again.ok).toBe(false);
      mergeSegments(dir, w.index, plan, unlimited(), () => {});
      expectVoid(await w.service.abandonCompaction(plan));
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      expect(w.get('a')).toBe('two');
      const fresh = await w.service.planCompaction(true, 0, 0xffffffff, MERGE_EVERYTHING);
      expect(fresh.ok).toBe(true);
    } finally {
      await w.close();
    }
  });

  it('stops with KV_CLOSED and leaves no temporary file; a damaged sealed segment gets no hint', async () => {
    const { dir, w } = await writerWithSegments('merge-stop');
    try {
      const plan = expectValue(
        await w.service.planCompaction(true, 0, 0xffffffff, MERGE_EVERYTHING),
      )!;
      const control = new SharedArrayBuffer(4);
      requestStop(control);
      expect(() => mergeSegments(dir, w.index, plan, new Throttle(control, 0), () => {})).toThrow(
        expect.objectContaining({ code: 'KV_CLOSED' }),
      );
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      flipValueByte(dir, plan.inputs[0]!.id);
      expect(() => writeSegmentHint(dir, plan.inputs[0]!, unlimited())).toThrow(
        expect.objectContaining({ code: 'KV_CORRUPTION' }),
      );
      expectVoid(await w.service.abandonCompaction(plan));
    } finally {
      await w.close();
    }
  });

  it('skips and reports a damaged record no live key needs, and installs the rest', async () => {
    const { dir, w } = await writerWithSegments('merge-damage-dead');
    try {
      const plan = expectValue(
        await w.service.planCompaction(true, 0, 0xffffffff, MERGE_EVERYTHING),
      )!;
      flipValueByte(dir, plan.inputs[0]!.id); // a=one, overwritten by a=two: dead
      const result = mergeSegments(dir, w.index, plan, unlimited(), () => {});
      expect(result.damaged).toEqual([
        expect.objectContaining({
          segmentId: plan.inputs[0]!.id,
          from: SEGMENT_HEADER_BYTES,
          key: 'a',
        }),
      ]);
      const outcome = expectValue(await w.service.installCompaction(plan, result));
      expect(outcome).toMatchObject({ moved: 2, damagedRanges: 1 });
      expect(outcome.damagedBytes).toBeGreaterThan(0);
      expect([w.get('a'), w.get('b'), w.get('d')]).toEqual(['two', undefined, 'dee']);
      expect((await w.stats()).damageSkippedByMerges).toEqual({
        ranges: 1,
        bytes: outcome.damagedBytes,
      });
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    } finally {
      await w.close();
    }
  });

  it('refuses to install over a damaged live record (KV_CORRUPTION naming the key); after its delete a merge skips it', async () => {
    const { dir, w } = await writerWithSegments('merge-damage-live');
    try {
      const plan = expectValue(
        await w.service.planCompaction(true, 0, 0xffffffff, MERGE_EVERYTHING),
      )!;
      flipValueByte(dir, plan.inputs[2]!.id); // a=two: the live value of a
      const result = mergeSegments(dir, w.index, plan, unlimited(), () => {});
      const refused = await w.service.installCompaction(plan, result);
      expect(refused.ok).toBe(false);
      if (!refused.ok) {
        expect(refused.error.code).toBe('KV_CORRUPTION');
        expect(refused.error.message).toMatch(/000003\.log at offset 32/);
        expect(refused.error.message).toMatch(/"a"/);
      }
      // Nothing committed: the inputs stay, the temporary files are gone, reads still work.
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      for (const input of plan.inputs) expect(existsSync(join(dir, name(input.id)))).toBe(true);
      expect(w.get('d')).toBe('dee');
      expect(() => w.get('a')).toThrow(expect.objectContaining({ code: 'KV_CORRUPTION' }));
      // The owner deletes the damaged key: the next merge skips the damage and completes.
      await w.write([{ del: 'a' }]);
      const again = expectValue(
        await w.service.planCompaction(true, 0, 0xffffffff, MERGE_EVERYTHING),
      )!;
      const merged = mergeSegments(dir, w.index, again, unlimited(), () => {});
      const outcome = expectValue(await w.service.installCompaction(again, merged));
      expect(outcome.damagedRanges).toBe(1);
      expect([w.get('a'), w.get('d')]).toEqual([undefined, 'dee']);
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
        await w.service.planCompaction(true, sealed[0]!.last, 0xffffffff, MERGE_EVERYTHING),
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
        if (isHintFailure(hint)) throw new Error(hint.reason);
        expect(hint.entries).toBe(entries);
      }
      expect(expectValue(await w.service.unhintedSegments())).toEqual([]);
    } finally {
      await w.close();
    }
  });
});
