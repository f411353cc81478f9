// I/O errors injected through the file layer (RecordingFileSystem's fault plan): EIO and
// ENOSPC on a segment write, on fdatasync (in line and in the background), on a segment's
// creation at rotation, on a merge's rename and on the index snapshot's rename. Each must give
// the caller a clear error, and the store must either go on correctly or refuse every later
// write, never acknowledge a write it did not make durable, and reopen with every acknowledged
// write.

import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Throttle } from '../../dist/shared/throttle.js';
import { mergeSegments } from '../../dist/workers/merge.js';
import { type FaultableOp, RecordingFileSystem } from '../../dist/workers/recording-file-system.js';
import { pollUntil } from '../fixtures/poll.js';
import {
  expectValue,
  expectVoid,
  MERGE_EVERYTHING,
  OpenWriter,
  removeTempDirs,
  tempDir,
} from './worker-harness.js';

afterEach(removeTempDirs);

/** A file layer that fails the next `count` operations of kind `op` on paths matching `path`. */
function failing(op: FaultableOp, code: string, path: RegExp, count = 1) {
  const files = new RecordingFileSystem();
  let left = 0;
  files.faults = (kind, p) => {
    if (kind !== op || !path.test(p) || left === 0) return undefined;
    left--;
    return code;
  };
  return { files, arm: () => (left = count), disarm: () => (left = 0) };
}

/** Reopens `dir` with the real file layer and returns `keys`' values. */
async function reopened(dir: string, keys: string[]): Promise<(string | undefined)[]> {
  const w = await OpenWriter.open(dir);
  try {
    return keys.map((k) => w.get(k));
  } finally {
    await w.close();
  }
}

describe('injected I/O errors', () => {
  it('ENOSPC on a segment write: that write fails with KV_DISK_FULL, nothing of it stays, later writes go on', async () => {
    const dir = await tempDir('io-enospc');
    const f = failing('write', 'ENOSPC', /\.log$/);
    const w = await OpenWriter.open(dir, { durability: 'always', files: f.files });
    try {
      await w.write([{ put: 'a', value: 'before' }]);
      f.arm();
      const failed = await w.write([{ put: 'b', value: 'refused' }]);
      expect(failed.error?.code).toBe('KV_DISK_FULL');
      expect(failed.error?.message).toMatch(/ENOSPC/);
      expect(w.get('b')).toBeUndefined();
      const after = await w.write([{ put: 'c', value: 'after' }]);
      expect(after.error).toBeUndefined();
      expect([w.get('a'), w.get('c')]).toEqual(['before', 'after']);
    } finally {
      await w.close();
    }
    expect(await reopened(dir, ['a', 'b', 'c'])).toEqual(['before', undefined, 'after']);
  });

  it("EIO on fdatasync under 'always': the write fails with KV_IO and the writer refuses every later write", async () => {
    const dir = await tempDir('io-fsync');
    const f = failing('fdatasync', 'EIO', /\.log$/);
    const w = await OpenWriter.open(dir, { durability: 'always', files: f.files });
    try {
      await w.write([{ put: 'a', value: 'acknowledged' }]);
      f.arm();
      const failed = await w.write([{ put: 'b', value: 'unsure' }]);
      expect(failed.error?.code).toBe('KV_IO');
      // It cannot tell what reached the disk: it stops rather than guess (fsync errors are
      // not retried: the kernel may have dropped the dirty pages).
      const later = await w.write([{ put: 'c', value: 'refused' }]);
      expect(later.error?.code).toBe('KV_IO');
      expect(later.error?.message).toMatch(/reopen/);
      expect(w.get('c')).toBeUndefined();
    } finally {
      await w.close();
    }
    const values = await reopened(dir, ['a', 'c']);
    expect(values).toEqual(['acknowledged', undefined]);
  });

  it("EIO on the background fdatasync under 'everysec': the writer stops taking writes", async () => {
    const dir = await tempDir('io-bgsync');
    const f = failing('fdatasync', 'EIO', /\.log$/);
    const w = await OpenWriter.open(dir, {
      durability: 'everysec',
      files: f.files,
      syncIntervalMs: 5,
    });
    try {
      f.arm();
      await w.write([{ put: 'a', value: 'written' }]);
      await pollUntil(
        'a write is refused after the failed background sync',
        async () => (await w.write([{ put: 'probe', value: 'x' }])).error?.code === 'KV_IO',
        5_000,
      );
    } finally {
      await w.close();
    }
    // What the write promised under everysec (in the page cache, not synced) is still readable.
    expect(await reopened(dir, ['a'])).toEqual(['written']);
  });

  it('ENOSPC creating the next segment at rotation: the write fails, the writer stops, acknowledged writes stay', async () => {
    const dir = await tempDir('io-rotate');
    const f = failing('open', 'ENOSPC', /000002\.log$/);
    const w = await OpenWriter.open(dir, {
      durability: 'always',
      segmentBytes: 100,
      files: f.files,
    });
    try {
      await w.write([{ put: 'a', value: 'x'.repeat(30) }]);
      f.arm();
      const failed = await w.write([{ put: 'b', value: 'y'.repeat(30) }]);
      expect(failed.error?.code).toBe('KV_IO');
      expect(failed.error?.message).toMatch(/rotation|000002/);
      expect((await w.write([{ put: 'c', value: 'z' }])).error?.code).toBe('KV_IO');
    } finally {
      await w.close();
    }
    expect(await reopened(dir, ['a', 'b'])).toEqual(['x'.repeat(30), undefined]);
  });

  it("EIO on a merge's rename: the install fails before its commit, the store goes on and a later merge succeeds", async () => {
    const dir = await tempDir('io-merge');
    const f = failing('rename', 'EIO', /\.sst\.tmp$/);
    const w = await OpenWriter.open(dir, { segmentBytes: 100, files: f.files });
    try {
      for (const k of ['a', 'b', 'a', 'c']) await w.write([{ put: k, value: `${k}-value` }]);
      const unlimited = new Throttle(new SharedArrayBuffer(4), 0);
      const plan = expectValue(
        await w.service.planCompaction(true, 0, 0xffffffff, MERGE_EVERYTHING),
      )!;
      const result = mergeSegments(dir, w.index, plan, unlimited, () => {}, f.files);
      f.arm();
      const refused = await w.service.installCompaction(plan, result);
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.error.code).toBe('KV_IO');
      // A refused install spends the move list too: the plan is abandoned next.
      expect(result.moves.byteLength).toBe(0);
      expectVoid(await w.service.abandonCompaction(plan));
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      // Reads and writes go on; the next merge commits.
      expect([w.get('a'), w.get('b'), w.get('c')]).toEqual(['a-value', 'b-value', 'c-value']);
      expect((await w.write([{ put: 'd', value: 'd-value' }])).error).toBeUndefined();
      const again = expectValue(
        await w.service.planCompaction(true, 0, 0xffffffff, MERGE_EVERYTHING),
      )!;
      const merged = mergeSegments(dir, w.index, again, unlimited, () => {}, f.files);
      expectValue(await w.service.installCompaction(again, merged));
    } finally {
      await w.close();
    }
    expect(await reopened(dir, ['a', 'b', 'c', 'd'])).toEqual([
      'a-value',
      'b-value',
      'c-value',
      'd-value',
    ]);
  });

  it('ENOSPC renaming the index snapshot at close: close still succeeds, the next open rebuilds without it', async () => {
    const dir = await tempDir('io-snapshot');
    const f = failing('rename', 'ENOSPC', /INDEX-SNAPSHOT\.tmp$/);
    const w = await OpenWriter.open(dir, { files: f.files });
    await w.write([{ put: 'a', value: 'kept' }]);
    f.arm();
    await w.close(); // the snapshot is derived data: a warning, not a failure
    expect(readdirSync(dir)).not.toContain('INDEX-SNAPSHOT');
    const again = await OpenWriter.open(dir);
    try {
      expect(again.opened.restoredSegments).toBe(0);
      expect(again.get('a')).toBe('kept');
    } finally {
      await again.close();
    }
  });
});
