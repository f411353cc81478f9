// Fast restart on the writer's own thread: a clean close writes the index snapshot and the next
// open restores it; without it, hint files (written by writeSegmentHint) stand in for scans,
// and a damaged hint falls back to a scan; a periodic snapshot is written in the background
// while writes go on; and the compaction throttle paces work and stops on request.

import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeSnapshot,
  encodeSnapshot,
  isSnapshotFailure,
} from '../../dist/shared/snapshot-format.js';
import { requestStop, Throttle } from '../../dist/shared/throttle.js';
import { writeSegmentHint } from '../../dist/workers/segment-hint.js';
import { pollUntil } from '../fixtures/poll.js';
import { expectValue, expectVoid, OpenWriter, removeTempDirs, tempDir } from './worker-harness.js';

afterEach(removeTempDirs);

const SNAPSHOT = 'INDEX-SNAPSHOT';

/** A writer with several sealed segments (70-byte segments: one record each) and a delete. */
async function filled(label: string, options = {}) {
  const dir = await tempDir(label);
  const w = await OpenWriter.open(dir, { segmentBytes: 70, ...options });
  for (const key of ['a', 'b', 'c', 'd']) await w.write([{ put: key, value: `${key}1` }]);
  await w.write([{ put: 'a', value: 'a2' }]);
  await w.write([{ del: 'b' }]);
  return { dir, w };
}

const expectContents = (w: OpenWriter) => {
  expect([w.get('a'), w.get('b'), w.get('c'), w.get('d')]).toEqual(['a2', undefined, 'c1', 'd1']);
};

describe('restart on the writer thread', () => {
  it('restores the snapshot a clean close wrote; without it, loads hints; a bad hint is scanned', async () => {
    const { dir, w } = await filled('restart');
    const unhinted = expectValue(await w.service.unhintedSegments());
    for (const s of unhinted) {
      writeSegmentHint(dir, s, new Throttle(new SharedArrayBuffer(4), 0));
      expectVoid(await w.service.hintWritten(s.id));
    }
    await w.close();
    expect(existsSync(join(dir, SNAPSHOT))).toBe(true);

    let r = await OpenWriter.open(dir, { segmentBytes: 70 });
    expect(r.opened.restoredSegments).toBeGreaterThan(0);
    expect(r.opened.recoveredRecords).toBe(0);
    expectContents(r);
    await r.close();

    rmSync(join(dir, SNAPSHOT));
    r = await OpenWriter.open(dir, { segmentBytes: 70 });
    expect(r.opened.restoredSegments).toBe(0);
    expect(r.opened.hintedSegments).toBe(unhinted.length);
    expectContents(r);
    await r.close();

    rmSync(join(dir, SNAPSHOT));
    const hint = readdirSync(dir).find((n) => n.endsWith('.hint'))!;
    const bytes = readFileSync(join(dir, hint));
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(join(dir, hint), bytes);
    r = await OpenWriter.open(dir, { segmentBytes: 70 });
    expect(r.opened.hintedSegments).toBe(unhinted.length - 1);
    expect(r.opened.scannedSegments).toBe(2);
    expectContents(r);
    await r.close();
  });

  it('a snapshot read into the index but not usable leaves it empty, at its size before', async () => {
    const { dir, w } = await filled('restart-refused');
    await w.close();
    const good = readFileSync(join(dir, SNAPSHOT));
    const decoded = decodeSnapshot(good);
    if (isSnapshotFailure(decoded)) throw new Error(decoded.reason);
    const refusedWith = async (bytes: Uint8Array) => {
      writeFileSync(join(dir, SNAPSHOT), bytes);
      const r = await OpenWriter.open(dir, { segmentBytes: 70 });
      try {
        expect(r.opened.restoredSegments).toBe(0);
        expectContents(r);
        expect(r.index.count).toBe(3);
      } finally {
        await r.close();
      }
    };
    // A flip in the slot array: the CRC finds it after the array was read into the index.
    const flipped = Buffer.from(good);
    flipped[flipped.length - 9] ^= 0x40;
    await refusedWith(flipped);
    // A damaged head claiming no slots at all: the table goes back to its own size, not 0.
    const empty = Buffer.concat(
      encodeSnapshot({ ...decoded, capacity: 0, slots: new Uint8Array(0) }),
    );
    empty[20] ^= 1;
    await refusedWith(empty);
    // Whole but naming a segment that is not there: refused after the read, index emptied.
    const stale = Buffer.concat(
      encodeSnapshot({
        ...decoded,
        segments: [...decoded.segments, { ...decoded.segments[0]!, id: 999, handle: 999 }],
      }),
    );
    await refusedWith(stale);
    // Cut short in its slot array.
    await refusedWith(good.subarray(0, good.length - 100));
    // And the good one is still taken.
    writeFileSync(join(dir, SNAPSHOT), good);
    const r = await OpenWriter.open(dir, { segmentBytes: 70 });
    expect(r.opened.restoredSegments).toBeGreaterThan(0);
    expectContents(r);
    await r.close();
  });

  it('writes periodic snapshots in the background while writes go on', async () => {
    const { dir, w } = await filled('periodic', { snapshotIntervalMs: 10 });
    try {
      await pollUntil(
        'a periodic snapshot is written',
        () => existsSync(join(dir, SNAPSHOT)),
        10_000,
      );
      const first = readFileSync(join(dir, SNAPSHOT));
      await w.write([{ put: 'e', value: 'e1' }]);
      await pollUntil(
        'a newer snapshot replaces the first',
        () => !readFileSync(join(dir, SNAPSHOT)).equals(first),
        10_000,
      );
    } finally {
      await w.close();
    }
    const r = await OpenWriter.open(dir, { segmentBytes: 70 });
    try {
      expectContents(r);
      expect(r.get('e')).toBe('e1');
    } finally {
      await r.close();
    }
  });
});

describe('Throttle', () => {
  it('sleeps when work runs ahead of the rate, and throws KV_CLOSED once stopped', () => {
    const control = new SharedArrayBuffer(4);
    const throttle = new Throttle(control, 1_000_000); // 1 MB/s: 20 kB is 20 ms of budget
    const started = performance.now();
    throttle.spent(20_000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    requestStop(control);
    expect(() => throttle.spent(1)).toThrow(expect.objectContaining({ code: 'KV_CLOSED' }));
  });
});
