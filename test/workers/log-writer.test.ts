// Tests for appending (src/workers/log-writer.ts) driven directly, with failures provoked for
// real rather than mocked: a write refused by the kernel (RLIMIT_FSIZE makes writev fail with
// EFBIG, i.e. KV_DISK_FULL) is cut back off the file; a rotation that cannot create the next
// segment stops the writer; and the everysec background sync against an explicit sync.

import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SEGMENT_HEADER_BYTES } from '../../dist/shared/format.js';
import { IndexTable } from '../../dist/shared/index-table.js';
import { createLogger } from '../../dist/shared/logger.js';
import type { Durability } from '../../dist/shared/messages.js';
import { WRITE_FAILED, WRITE_OK, WRITE_OK_EXISTED } from '../../dist/shared/messages.js';
import { RecordReader } from '../../dist/shared/record-reader.js';
import { IndexPublisher } from '../../dist/workers/index-publisher.js';
import { LogWriter } from '../../dist/workers/log-writer.js';
import { recover } from '../../dist/workers/recovery.js';
import { SegmentTable } from '../../dist/workers/segments.js';
import { pollUntil } from '../fixtures/poll.js';
import {
  type Op,
  recordCount,
  removeTempDirs,
  submission,
  tempDir,
  text,
} from './worker-harness.js';

afterEach(removeTempDirs);

const logger = createLogger('test');
const name = (id: number): string => `${String(id).padStart(6, '0')}.log`;

/** What WriterService.open does, by hand: recover, then a LogWriter on the last segment. */
class Fixture {
  readonly index = IndexTable.create();
  readonly segments: SegmentTable;
  readonly publisher: IndexPublisher;
  readonly log: LogWriter;
  readonly reader: RecordReader;
  readonly truncatedBytes: number;

  constructor(
    readonly dir: string,
    durability: Durability = 'no',
    segmentBytes = 1 << 20,
  ) {
    this.segments = new SegmentTable(dir, this.index);
    this.publisher = new IndexPublisher(this.index, this.segments);
    const recovered = recover(this.segments, this.publisher, logger);
    this.truncatedBytes = recovered.truncatedBytes;
    const active = recovered.last ?? this.segments.create(1);
    this.log = new LogWriter(
      this.segments,
      this.publisher,
      active,
      recovered.lastSeq,
      { durability, segmentBytes },
      logger,
    );
    this.reader = new RecordReader(dir, this.index);
  }

  /** Appends each element of `buffers` as one submitted buffer, in one call. */
  append(...buffers: Op[][]) {
    return this.log.append(
      buffers.map((ops) => {
        const { buffer, length } = submission(ops);
        return new Uint8Array(buffer, 0, length);
      }),
    );
  }

  get(key: string): string | undefined {
    return text(this.reader.get(key));
  }

  /** Closes the reader, the publisher and then the log writer. */
  close(): void {
    this.reader.close();
    this.publisher.close();
    this.log.close();
  }
}

/** Runs `fn` with this process's soft RLIMIT_FSIZE set to `bytes`, restoring it after. */
function withFileSizeLimit<T>(bytes: number, fn: () => T): T {
  execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${bytes}:`]);
  try {
    return fn();
  } finally {
    execFileSync('prlimit', ['--pid', String(process.pid), '--fsize=unlimited:']);
  }
}

// Needs util-linux prlimit, and no file size limit already in force (so restoring is exact).
const canLimitFileSize = ((): boolean => {
  if (process.platform !== 'linux') return false;
  try {
    const args = ['--pid', String(process.pid), '--fsize', '--output=SOFT,HARD', '--noheadings'];
    return (
      execFileSync('prlimit', args).toString().trim().split(/\s+/).join(' ') ===
      'unlimited unlimited'
    );
  } catch {
    return false;
  }
})();

describe('LogWriter.append', () => {
  it('answers one reply per buffer, including empty buffers and an empty call', async () => {
    const f = new Fixture(await tempDir('lw-shape'));
    try {
      expect(f.log.append([])).toEqual([]);
      const replies = f.append([], [{ put: 'a', value: '1' }], []);
      expect(replies.map((r) => [...r.outcomes])).toEqual([[], [WRITE_OK], []]);
      expect(replies.every((r) => r.error === undefined)).toBe(true);
      expect(f.log.flushes).toBe(2);
      expect(f.log.writes).toBe(1);
    } finally {
      f.close();
    }
  });

  it('fills a segment with runs from several buffers and rotates between units, in order', async () => {
    const dir = await tempDir('lw-runs');
    const f = new Fixture(dir, 'always', 250);
    const buffers: Op[][] = [];
    for (let b = 0; b < 5; b++) {
      buffers.push([
        { put: `b${b}-x`, value: 'v'.repeat(20) },
        { batch: [{ put: `b${b}-y`, value: 'w'.repeat(10) }, { del: `b${b}-x` }] },
      ]);
    }
    try {
      const replies = f.append(...buffers);
      expect(replies.map((r) => [...r.outcomes])).toEqual(
        buffers.map(() => [WRITE_OK, WRITE_OK, WRITE_OK_EXISTED, WRITE_OK]),
      );
      for (let b = 0; b < 5; b++) {
        expect(f.get(`b${b}-x`)).toBeUndefined();
        expect(f.get(`b${b}-y`)).toBe('w'.repeat(10));
      }
      const stats = f.segments.stats(f.log.activeId);
      expect(stats.length).toBeGreaterThan(1);
      for (const s of stats) expect(s.bytes).toBeLessThanOrEqual(250);
      // 'always': one fdatasync per segment appended to in this call.
      expect(f.log.syncs).toBe(stats.length);
      // Each sealed segment ends with a sync mark, which takes a sequence number too.
      const records = buffers.reduce((n, b) => n + recordCount(b), 0);
      expect(f.log.sequence).toBe(records + stats.length - 1);
    } finally {
      f.close();
    }
  });
});

describe('LogWriter: a write the file system refuses (KV_DISK_FULL)', () => {
  it.skipIf(!canLimitFileSize)(
    'fails the records of that write, cuts the partial bytes back off, and keeps writing afterwards',
    async () => {
      const dir = await tempDir('lw-efbig');
      const f = new Fixture(dir);
      const path = join(dir, name(1));
      try {
        f.append([{ put: 'a', value: 'before' }]);
        const size = statSync(path).size;
        // The kernel lets 10 more bytes in, then refuses (EFBIG): a short write, then a failure.
        const replies = withFileSizeLimit(size + 10, () =>
          f.append([{ put: 'b', value: 'x'.repeat(100) }], [{ put: 'c', value: 'y' }]),
        );
        expect(replies.map((r) => r.error?.code)).toEqual(['KV_DISK_FULL', 'KV_DISK_FULL']);
        expect(replies.map((r) => [...r.outcomes])).toEqual([[WRITE_FAILED], [WRITE_FAILED]]);
        expect(statSync(path).size).toBe(size); // nothing of the failed write is left
        expect(f.segments.stats(f.log.activeId)[0]!.bytes).toBe(size);
        expect([f.get('b'), f.get('c')]).toEqual([undefined, undefined]);
        // Not a writer failure: with room again, the next write succeeds where the last failed.
        const next = f.append([{ put: 'd', value: 'after' }]);
        expect(next[0]!.error).toBeUndefined();
        expect([f.get('a'), f.get('d')]).toEqual(['before', 'after']);
      } finally {
        f.close();
      }
      const reopened = new Fixture(dir);
      try {
        expect(reopened.truncatedBytes).toBe(0);
        expect([reopened.get('a'), reopened.get('b'), reopened.get('d')]).toEqual([
          'before',
          undefined,
          'after',
        ]);
      } finally {
        reopened.close();
      }
    },
  );
});

describe('LogWriter: a failed write that cannot be cut back', () => {
  it.skipIf(!canLimitFileSize)(
    'stops taking writes (KV_IO) when the cut-back after a failed write fails too',
    async () => {
      // Outside damage first: the active segment is cut short behind the writer's back. Under a
      // size limit below the writer's idea of the end, the append fails (EFBIG) and so does the
      // ftruncate meant to restore that end (it would grow the file): the writer cannot tell
      // what the log holds any more, so it must refuse every later write.
      const dir = await tempDir('lw-cutback');
      const f = new Fixture(dir);
      try {
        f.append([
          { put: 'a', value: 'x'.repeat(40) },
          { put: 'b', value: 'x'.repeat(40) },
        ]);
        truncateSync(join(dir, name(1)), SEGMENT_HEADER_BYTES);
        const [failed] = withFileSizeLimit(SEGMENT_HEADER_BYTES + 32, () =>
          f.append([{ put: 'c', value: 'y' }]),
        );
        expect(failed!.error?.code).toBe('KV_DISK_FULL');
        expect([...failed!.outcomes]).toEqual([WRITE_FAILED]);
        const [later] = f.append([{ put: 'd', value: 'z' }]);
        expect(later!.error?.code).toBe('KV_IO');
        expect([...later!.outcomes]).toEqual([WRITE_FAILED]);
        expect(f.get('d')).toBeUndefined();
      } finally {
        f.close();
      }
    },
  );
});

describe('LogWriter: a rotation that cannot create the next segment', () => {
  it('fails the write with KV_IO and refuses every later write until reopened', async () => {
    const dir = await tempDir('lw-rotate-fail');
    const f = new Fixture(dir, 'no', 100);
    try {
      f.append([{ put: 'a', value: 'x'.repeat(50) }]);
      // Someone else put a file where the next segment must be created ('wx' refuses it).
      writeFileSync(join(dir, name(2)), 'not ours');
      const [r] = f.append([{ put: 'b', value: 'y'.repeat(50) }]);
      expect(r!.error?.code).toBe('KV_IO');
      expect([...r!.outcomes]).toEqual([WRITE_FAILED]);
      const [later] = f.append([{ put: 'c', value: 'z' }]);
      expect(later!.error?.code).toBe('KV_IO');
      expect([...later!.outcomes]).toEqual([WRITE_FAILED]);
      expect([f.get('a'), f.get('b'), f.get('c')]).toEqual(['x'.repeat(50), undefined, undefined]);
    } finally {
      // Not f.log.close(): the failed rotation already closed the writer's fd, and closing that
      // number again is the bug the next test pins down.
      f.reader.close();
      f.publisher.close();
    }
  });

  it('closes only its own fd afterwards (the old segment fd was already closed by the rotation)', async () => {
    const dir = await tempDir('lw-double-close');
    const f = new Fixture(dir, 'no', 100);
    f.reader.close();
    f.publisher.close();
    f.append([{ put: 'a', value: 'x'.repeat(50) }]);
    writeFileSync(join(dir, name(2)), 'not ours');
    f.append([{ put: 'b', value: 'y'.repeat(50) }]);
    // Another part of the process opens a file now; it may get the fd number the rotation freed.
    const bystander = openSync(join(dir, name(1)), 'r');
    let closeError: unknown;
    try {
      f.log.close();
    } catch (error) {
      closeError = error;
    }
    let bystanderOpen = true;
    try {
      fstatSync(bystander);
      closeSync(bystander);
    } catch {
      bystanderOpen = false;
    }
    expect(
      { closeError: closeError === undefined ? 'none' : String(closeError), bystanderOpen },
      'LogWriter.close after a failed rotation closed a stale fd number again',
    ).toEqual({ closeError: 'none', bystanderOpen: true });
  });
});

describe('LogWriter: syncing', () => {
  it('syncInBackground fdatasyncs dirty data once, through its own fd', async () => {
    const f = new Fixture(await tempDir('lw-bg'), 'everysec');
    try {
      f.log.syncInBackground(); // nothing written: nothing to do
      f.append([{ put: 'a', value: '1' }]);
      expect(f.log.syncs).toBe(0);
      f.log.syncInBackground();
      await pollUntil('the background fdatasync has completed', () => f.log.syncs === 1, 10_000);
      f.log.sync(); // clean: no fdatasync
      expect(f.log.syncs).toBe(1);
    } finally {
      f.close();
    }
  });

  it('sync() does not return before the data is synced while a background sync is in flight', async () => {
    // Store.flush() promises durability. If the everysec timer has just issued its
    // asynchronous fdatasync, sync() must still not report success before a sync completes.
    const f = new Fixture(await tempDir('lw-bg-race'), 'everysec');
    try {
      f.append([{ put: 'a', value: '1' }]);
      f.log.syncInBackground();
      f.log.sync();
      expect(f.log.syncs, 'sync() returned while the only fdatasync was still in flight').toBe(1);
    } finally {
      await pollUntil('the fdatasync in flight has completed', () => f.log.syncs >= 1, 10_000);
      f.close();
    }
  });

  it('close() syncs unsynced data and releases the fd', async () => {
    const dir = await tempDir('lw-close');
    const f = new Fixture(dir);
    f.append([{ put: 'a', value: '1' }]);
    f.close();
    const g = new Fixture(dir);
    try {
      expect(g.get('a')).toBe('1');
      expect(statSync(join(dir, name(1))).size).toBeGreaterThan(SEGMENT_HEADER_BYTES);
    } finally {
      g.close();
    }
  });
});
