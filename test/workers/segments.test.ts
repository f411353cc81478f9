// Tests for the writer's segment table (src/workers/segments.ts): handles registered in the
// shared index, creating a segment file durably with its header (and refusing to clobber one),
// live/dead accounting, and running out of handles.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KvError } from '../../dist/shared/errors.js';
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES } from '../../dist/shared/format.js';
import { IndexTable, MAX_SEGMENT_HANDLES } from '../../dist/shared/index-table.js';
import { nodeFileSystem } from '../../dist/workers/file-system.js';
import { SegmentTable } from '../../dist/workers/segments.js';
import { removeTempDirs, tempDir } from './worker-harness.js';

afterEach(removeTempDirs);

function kvCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof KvError) return error.code;
    throw error;
  }
  return 'no error';
}

describe('SegmentTable', () => {
  it('gives each segment its own non-zero handle and records it in the shared index', async () => {
    const index = IndexTable.create();
    const table = new SegmentTable(await tempDir('seg-handles'), index);
    const a = table.add(logHeader(7), 100);
    const b = table.add(logHeader(3), 50);
    expect(a.handle).not.toBe(0);
    expect(b.handle).not.toBe(a.handle);
    expect(index.segments.idOf(a.handle)).toBe(7);
    expect(index.segments.idOf(b.handle)).toBe(3);
    expect(table.get(a.handle)).toBe(a);
    expect(table.list().map((s) => s.id)).toEqual([3, 7]);
    expect(kvCode(() => table.get(999))).toBe('KV_INTERNAL');
  });

  it('creates a segment file holding exactly its header, and refuses to overwrite one', async () => {
    const dir = await tempDir('seg-create');
    const index = IndexTable.create();
    const table = new SegmentTable(dir, index);
    const s = table.create(1);
    expect(s.size).toBe(SEGMENT_HEADER_BYTES);
    expect(readFileSync(join(dir, '000001.log'))).toEqual(Buffer.from(encodeSegmentHeader(1)));
    writeFileSync(join(dir, '000002.log'), 'precious');
    expect(kvCode(() => table.create(2))).toBe('KV_IO');
    expect(readFileSync(join(dir, '000002.log'), 'utf8')).toBe('precious');
    expect(table.list().map((x) => x.id)).toEqual([1]);
  });

  it('fails with KV_IO when the directory is gone', async () => {
    const table = new SegmentTable(join(await tempDir('seg-gone'), 'missing'), IndexTable.create());
    expect(kvCode(() => table.create(1))).toBe('KV_IO');
    expect(() => nodeFileSystem.syncDirectory(join(table.dir, 'nowhere'))).toThrow();
  });

  it('counts a live record whose expiry has passed as dead, whether it is then overwritten or not', async () => {
    const table = new SegmentTable(await tempDir('seg-expiry'), IndexTable.create());
    const s = table.add(logHeader(1), SEGMENT_HEADER_BYTES + 300);
    const t0 = 1_800_000_000_000;
    const at = (offset: number, length: number) => ({ handle: s.handle, offset, length });
    table.addLive(at(32, 100), t0 + 500, 3); // expires during second t0/1000 + 1
    table.addLive(at(132, 100), t0 + 5_000, 4); // later
    table.addLive(at(232, 100), 0, 5); // never
    table.sweepExpired(t0);
    expect(table.stats(0)[0]).toMatchObject({ liveBytes: 300, deadBytes: 0, expiredBytes: 0 });
    table.sweepExpired(t0 + 1_000);
    expect(table.stats(0)[0]).toMatchObject({
      liveBytes: 200,
      liveKeys: 2,
      deadBytes: 100,
      expiredBytes: 100,
      expiredKeys: 1,
    });
    // Overwriting the expired record: its bytes stay dead, counted once.
    table.removeLive(at(32, 100), t0 + 500, 3);
    expect(table.stats(0)[0]).toMatchObject({ liveBytes: 200, deadBytes: 100, expiredBytes: 0 });
    // Overwriting one that has not expired yet takes it out of its bucket.
    table.removeLive(at(132, 100), t0 + 5_000, 4);
    table.sweepExpired(t0 + 10_000);
    expect(table.stats(0)[0]).toMatchObject({ liveBytes: 100, deadBytes: 200, expiredBytes: 0 });
    // A record written already expired counts as dead at once.
    table.addLive(at(332, 10), t0 + 1, 1);
    expect(table.stats(0)[0]).toMatchObject({ expiredBytes: 10, expiredKeys: 1 });
    expect(s.expiring.size).toBe(0);
  });

  it('accounts live and dead bytes per segment', async () => {
    const table = new SegmentTable(await tempDir('seg-live'), IndexTable.create());
    const s = table.add(logHeader(1), SEGMENT_HEADER_BYTES + 300);
    const t = table.add(logHeader(2), SEGMENT_HEADER_BYTES + 40);
    table.addLive({ handle: s.handle, offset: 32, length: 100 });
    table.addLive({ handle: s.handle, offset: 132, length: 200 });
    table.addLive({ handle: t.handle, offset: 32, length: 40 });
    table.removeLive({ handle: s.handle, offset: 32, length: 100 });
    table.addTombstone(s.handle, 0); // a tombstone's bytes count as dead, and as tombstones
    const common = {
      merged: false,
      hinted: false,
      tombstoneBytes: 0,
      expiredBytes: 0,
      expiredKeys: 0,
    };
    expect(table.stats(2)).toEqual([
      {
        ...common,
        id: 1,
        file: '000001.log',
        first: 1,
        last: 1,
        bytes: 332,
        liveBytes: 200,
        deadBytes: 100,
        liveKeys: 1,
        active: false,
      },
      {
        ...common,
        id: 2,
        file: '000002.log',
        first: 2,
        last: 2,
        bytes: 72,
        liveBytes: 40,
        deadBytes: 0,
        liveKeys: 1,
        active: true,
      },
    ]);
  });

  it('refuses a segment past the last free handle with KV_INTERNAL', async () => {
    const index = IndexTable.create();
    const table = new SegmentTable(await tempDir('seg-full'), index);
    const handles = new Set<number>();
    for (let id = 1; id < MAX_SEGMENT_HANDLES; id++)
      handles.add(table.add(logHeader(id), 32).handle);
    expect(handles.size).toBe(MAX_SEGMENT_HANDLES - 1);
    expect(handles.has(0)).toBe(false);
    expect(kvCode(() => table.add(logHeader(MAX_SEGMENT_HANDLES), 32))).toBe('KV_INTERNAL');
    expect(table.list()).toHaveLength(MAX_SEGMENT_HANDLES - 1);
  });
});

/** The header of log segment `id`. */
function logHeader(id: number) {
  return { id, kind: 0, first: id, last: id } as const;
}
