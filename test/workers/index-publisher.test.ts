// Tests for the writer's side of the index (src/workers/index-publisher.ts): the stored key of
// every candidate slot is compared, from the in-memory window when it covers the record and by
// pread otherwise, so colliding fingerprints never overwrite another key; live-byte accounting
// follows every upsert and remove; a record cut off on disk is reported, not guessed at.

import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KvError } from '../../dist/shared/errors.js';
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES } from '../../dist/shared/format.js';
import { IndexTable } from '../../dist/shared/index-table.js';
import { IndexPublisher } from '../../dist/workers/index-publisher.js';
import { SegmentTable } from '../../dist/workers/segments.js';
import { rec, removeTempDirs, segment, tempDir } from './worker-harness.js';

afterEach(removeTempDirs);

/**
 * A segment file holding `records` back to back, registered with a publisher. Returns where
 * each record starts and a `publish(i)` that puts (or, for deletes, removes) record i by its
 * bytes as they are on disk.
 */
async function setup(
  recordsByKey: [kind: 'put' | 'del', key: string, value?: string][],
  hashBits = 32,
) {
  const dir = await tempDir('publisher');
  const records = recordsByKey.map(([kind, key, value], i) => rec(i + 1, kind, key, value ?? ''));
  const file = segment(1, records);
  writeFileSync(join(dir, '000001.log'), file);
  const index = IndexTable.create(0, hashBits);
  const segments = new SegmentTable(dir, index);
  const s = segments.add({ id: 1, kind: 0, first: 1, last: 1 }, file.length);
  const publisher = new IndexPublisher(index, segments);
  const offsets: number[] = [];
  let at = SEGMENT_HEADER_BYTES;
  for (const r of records) {
    offsets.push(at);
    at += r.length;
  }
  const publish = (i: number): boolean => {
    const r = records[i]!;
    const keyLength = r.length - RECORD_HEADER_BYTES - (recordsByKey[i]![2] ?? '').length;
    if (recordsByKey[i]![0] === 'del') return publisher.remove(r, RECORD_HEADER_BYTES, keyLength);
    return publisher.put(
      r,
      RECORD_HEADER_BYTES,
      keyLength,
      { handle: s.handle, offset: offsets[i]!, length: r.length },
      0,
    );
  };
  return { dir, file, index, segments, segment: s, publisher, offsets, records, publish };
}

describe('IndexPublisher', () => {
  it('reports whether a put replaced or a remove removed a live key, and keeps accounts', async () => {
    const f = await setup([
      ['put', 'a', 'one'],
      ['put', 'b', 'two'],
      ['put', 'a', 'three'],
      ['del', 'b'],
      ['del', 'b'],
    ]);
    try {
      expect([0, 1, 2, 3, 4].map((i) => f.publish(i))).toEqual([false, false, true, true, false]);
      expect(f.index.count).toBe(1);
      expect(f.segment.liveKeys).toBe(1);
      expect(f.segment.liveBytes).toBe(f.records[2]!.length);
    } finally {
      f.publisher.close();
    }
  });

  it('tells colliding keys apart by their stored bytes, by pread and from the window alike', async () => {
    // hashBits 1: all keys share two tags. Keys of several lengths exercise every way a
    // candidate can differ: record too short to hold the key, other key length, other bytes.
    const keys = ['k', 'kk', 'kl', 'km', 'a-much-longer-key', 'x'];
    const f = await setup(
      [
        ...keys.map((k): ['put', string, string] => ['put', k, '']),
        ...keys.map((k): ['put', string, string] => ['put', k, 'v2']),
      ],
      1,
    );
    try {
      // First pass by pread (no window), second pass with the whole file as the window.
      expect(keys.map((_, i) => f.publish(i))).toEqual(keys.map(() => false));
      f.publisher.setWindow(f.segment.handle, 0, f.file);
      expect(keys.map((_, i) => f.publish(keys.length + i))).toEqual(keys.map(() => true));
      expect(f.index.count).toBe(keys.length);
      // Every key now points at its second record.
      const seen = new Map<number, number>();
      f.index.forEachSlot((_tag, _handle, offset) => seen.set(offset, 1));
      expect([...seen.keys()].sort((a, b) => a - b)).toEqual(f.offsets.slice(keys.length));
      f.publisher.clearWindow();
    } finally {
      f.publisher.close();
    }
  });

  it('falls back to pread when the window covers another segment or not the record', async () => {
    const f = await setup([
      ['put', 'a', 'one'],
      ['put', 'b', 'two'],
      ['put', 'a', 'three'],
    ]);
    try {
      f.publish(0);
      f.publish(1);
      // A window of only the bytes from record 1 on: record 0 (the stored "a") is outside it.
      f.publisher.setWindow(f.segment.handle, f.offsets[1]!, f.file.subarray(f.offsets[1]!));
      expect(f.publish(2)).toBe(true);
      f.publisher.setWindow(f.segment.handle + 1, 0, f.file);
      expect(f.publish(2)).toBe(true);
    } finally {
      f.publisher.close();
    }
  });

  it('compares keys longer than its 4 KiB scratch buffer', async () => {
    const long = 'L'.repeat(5000);
    const f = await setup([
      ['put', long, 'one'],
      ['put', long, 'two'],
      ['put', `${long.slice(1)}M`, 'other'],
    ]);
    try {
      expect([f.publish(0), f.publish(1), f.publish(2)]).toEqual([false, true, false]);
      expect(f.index.count).toBe(2);
    } finally {
      f.publisher.close();
    }
  });

  it('raises KV_CORRUPTION when the stored record it must compare has been cut off the file', async () => {
    const f = await setup([
      ['put', 'a', 'one'],
      ['put', 'a', 'two'],
    ]);
    try {
      f.publish(0);
      truncateSync(join(f.dir, '000001.log'), f.offsets[0]! + 10);
      let caught: unknown;
      try {
        f.publish(1);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(KvError);
      expect((caught as KvError).code).toBe('KV_CORRUPTION');
      expect((caught as KvError).message).toContain('000001.log');
      // Nothing changed: "a" still points at its first record.
      expect(f.segment.liveBytes).toBe(f.records[0]!.length);
    } finally {
      f.publisher.close();
    }
  });

  it('records a version it displaces before the slot changes, while a snapshot is held', async () => {
    const f = await setup([
      ['put', 'a', 'one'],
      ['put', 'a', 'two'],
      ['del', 'a'],
    ]);
    try {
      f.publish(0);
      const versions = f.publisher.versions;
      versions.holdSnapshot();
      const tag = f.index.tagOfKey('a');
      // At every slot change, which versions a snapshot at sequence 1 and at 2 would find.
      const seen: number[][] = [];
      const look = () =>
        seen.push([1, 2].flatMap((at) => [...versions.candidates(tag, at)].map((v) => v.seq)));
      const slots = f.index as unknown as Record<
        'writeSlot' | 'markDeleted',
        (...args: unknown[]) => unknown
      >;
      for (const name of ['writeSlot', 'markDeleted'] as const) {
        const real = slots[name];
        slots[name] = function (this: unknown, ...args: unknown[]) {
          look();
          return real.apply(this, args);
        };
      }
      const at = (i: number) => ({ handle: f.segment.handle, offset: f.offsets[i]!, length: 0 });
      f.publisher.beginPublish();
      f.publisher.put(
        f.records[1]!,
        RECORD_HEADER_BYTES,
        1,
        { ...at(1), length: f.records[1]!.length },
        0,
        2,
      );
      f.publisher.remove(f.records[2]!, RECORD_HEADER_BYTES, 1, 3);
      f.publisher.endPublish();
      // Before the put's slot change, the version of seq 1 (displaced by 2) was in the log;
      // before the removal's, that of seq 2 (displaced by 3) too.
      expect(seen).toEqual([[1], [1, 2]]);
      versions.releaseSnapshot();
    } finally {
      f.publisher.close();
    }
  });

  it('reserve makes room ahead of the upserts that follow', async () => {
    const f = await setup([['put', 'a', 'one']]);
    try {
      const capacity = f.index.capacity;
      f.publisher.reserve(capacity);
      expect(f.index.capacity).toBeGreaterThan(capacity);
    } finally {
      f.publisher.close();
    }
  });
});
