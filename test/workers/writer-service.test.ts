// Tests for the writer's RPC surface (src/workers/writer-service.ts) driven on the test thread:
// outcomes, read-back through a RecordReader over the published index, group commit, sync and
// the durability policies, stats and live/dead accounting, rotation, batches as units,
// malformed submissions failing only themselves, close, and reopening (recovery) agreeing with
// what the live writer reported.

import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FLAG_IN_BATCH,
  OFF_TYPE,
  RECORD_HEADER_BYTES,
  recordBytes,
  SEGMENT_HEADER_BYTES,
  SYNC_MARK_BYTES,
  scanRecord,
  syncMarkValue,
  TYPE_BATCH_COMMIT,
  TYPE_PUT,
  TYPE_SYNC_MARK,
} from '../../dist/shared/format.js';
import { WRITE_FAILED, WRITE_OK, WRITE_OK_EXISTED } from '../../dist/shared/messages.js';
import { WriterService } from '../../dist/workers/writer-service.js';
import { pollUntil } from '../fixtures/poll.js';
import {
  expectVoid,
  layoutRecord,
  type Op,
  OpenWriter,
  openFds,
  rec,
  recordCount,
  removeTempDirs,
  segment,
  submission,
  tempDir,
  utf8,
} from './worker-harness.js';

afterEach(removeTempDirs);

/** Every record of a segment file: offset, type, flags, seq, key (as text). */
function scanFile(path: string) {
  const bytes = readFileSync(path);
  const out: { offset: number; type: number; flags: number; seq: number; key: string }[] = [];
  let at = SEGMENT_HEADER_BYTES;
  while (at < bytes.length) {
    const step = scanRecord(bytes, at, bytes.length);
    if (step.kind !== 'record') expect.fail(`${path} at ${at}: ${step.kind}`);
    const keyStart = at + RECORD_HEADER_BYTES;
    out.push({
      offset: at,
      type: step.header.type,
      flags: step.header.flags,
      seq: step.header.seq,
      key: bytesText(bytes.subarray(keyStart, keyStart + step.header.keyLength)),
    });
    at += step.length;
  }
  return out;
}

const bytesText = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const seg = (dir: string, id: number): string => join(dir, `${String(id).padStart(6, '0')}.log`);
const putLen = (key: string, value: string): number =>
  recordBytes(utf8(key).length, utf8(value).length);
const COMMIT_LEN = recordBytes(0, 4);
/** The records of a segment file other than sync marks. */
const dataRecords = (path: string) => scanFile(path).filter((r) => r.type !== TYPE_SYNC_MARK);

describe('WriterService: writing and reading back', () => {
  it('opens an empty directory with one segment holding only its header', async () => {
    const dir = await tempDir('empty');
    const w = await OpenWriter.open(dir);
    try {
      expect(w.opened.recoveredRecords).toBe(0);
      expect(w.opened.truncatedBytes).toBe(0);
      const s = await w.stats();
      expect(s.segments).toEqual([
        {
          id: 1,
          file: '000001.log',
          bytes: SEGMENT_HEADER_BYTES,
          liveBytes: 0,
          deadBytes: 0,
          liveKeys: 0,
          expiredBytes: 0,
          expiredKeys: 0,
          tombstoneBytes: 0,
          merged: false,
          first: 1,
          last: 1,
          hinted: false,
          active: true,
        },
      ]);
      expect(s.lastSeq).toBe(0);
      expect(readFileSync(seg(dir, 1)).length).toBe(SEGMENT_HEADER_BYTES);
    } finally {
      await w.close();
    }
  });

  it('answers WRITE_OK for new keys and WRITE_OK_EXISTED for overwrites and live deletes', async () => {
    const dir = await tempDir('outcomes');
    const w = await OpenWriter.open(dir);
    try {
      const r1 = await w.write([
        { put: 'a', value: '1' },
        { put: 'b', value: '2' },
      ]);
      expect(r1.error).toBeUndefined();
      expect([...r1.outcomes]).toEqual([WRITE_OK, WRITE_OK]);
      const r2 = await w.write([{ put: 'a', value: '3' }, { del: 'b' }, { del: 'c' }]);
      expect([...r2.outcomes]).toEqual([WRITE_OK_EXISTED, WRITE_OK_EXISTED, WRITE_OK]);
      expect(w.get('a')).toBe('3');
      expect(w.get('b')).toBeUndefined();
      expect(w.get('c')).toBeUndefined();
      const s = await w.stats();
      expect(s.lastSeq).toBe(5);
      expect(s.writes).toBe(5);
    } finally {
      await w.close();
    }
  });

  it('stamps consecutive sequence numbers and valid CRCs on disk, ignoring bytes past length', async () => {
    const dir = await tempDir('seal');
    const w = await OpenWriter.open(dir);
    try {
      await w.write([
        { put: 'x', value: 'one' },
        { batch: [{ put: 'y', value: 'two' }, { del: 'x' }] },
      ]);
      await w.write([{ put: 'z', value: '' }]);
    } finally {
      await w.close();
    }
    // scanFile fails on any record with a bad CRC; the 0xee spare bytes never reach the file.
    const records = scanFile(seg(dir, 1));
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(records.map((r) => r.key)).toEqual(['x', 'y', 'x', '', 'z', '']);
    expect(records.map((r) => r.flags)).toEqual([0, FLAG_IN_BATCH, FLAG_IN_BATCH, 0, 0, 0]);
    // Close synced the segment, then ended it with a sync mark covering every byte before it.
    const mark = records[5]!;
    expect(mark.type).toBe(TYPE_SYNC_MARK);
    expect(syncMarkValue(readFileSync(seg(dir, 1)), mark.offset)).toBe(mark.offset);
  });

  it('continues the sequence after a reopen and serves what was written before', async () => {
    const dir = await tempDir('reopen');
    const w1 = await OpenWriter.open(dir);
    await w1.write([
      { put: 'k1', value: 'v1' },
      { put: 'k2', value: 'v2' },
    ]);
    await w1.write([{ del: 'k1' }]);
    await w1.close();
    const w2 = await OpenWriter.open(dir);
    try {
      // The index snapshot written at close covers all three records: none is replayed.
      expect(w2.opened.restoredSegments).toBe(1);
      expect(w2.opened.recoveredRecords).toBe(0);
      expect(w2.get('k1')).toBeUndefined();
      expect(w2.get('k2')).toBe('v2');
      // Three records, then the sync mark that close wrote.
      expect((await w2.stats()).lastSeq).toBe(4);
      const r = await w2.write([{ put: 'k1', value: 'again' }]);
      expect([...r.outcomes]).toEqual([WRITE_OK]);
    } finally {
      await w2.close();
    }
    const records = scanFile(seg(dir, 1));
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(records.map((r) => r.type === TYPE_SYNC_MARK)).toEqual([
      false,
      false,
      false,
      true,
      false,
      true,
    ]);
  });

  it('treats expired records as absent (an overwrite or delete of one finds no key) but still counts them live until overwritten', async () => {
    const dir = await tempDir('expiry');
    const w = await OpenWriter.open(dir);
    try {
      const past = Date.now() - 1000;
      const future = Date.now() + 3_600_000;
      await w.write([
        { put: 'old', value: 'gone', expiresAt: past },
        { put: 'new', value: 'here', expiresAt: future },
      ]);
      expect(w.get('old')).toBeUndefined();
      expect(w.get('new')).toBe('here');
      const r = await w.write([{ put: 'old', value: 'back' }]);
      // The expired key did not exist: a put over it is a new key (as SET over it in Redis).
      expect([...r.outcomes]).toEqual([WRITE_OK]);
      expect(w.get('old')).toBe('back');
      await w.write([{ put: 'brief', value: 'v', expiresAt: past }]);
      expect([...(await w.write([{ del: 'brief' }])).outcomes]).toEqual([WRITE_OK]);
    } finally {
      await w.close();
    }
  });
});

describe('WriterService: group commit, sync and durability', () => {
  it('appends every write queued before the loop turns in one flush', async () => {
    const dir = await tempDir('group');
    const w = await OpenWriter.open(dir);
    try {
      const before = await w.stats();
      const replies = await Promise.all([
        w.write([{ put: 'a', value: '1' }]),
        w.write([
          { put: 'b', value: '2' },
          { put: 'c', value: '3' },
        ]),
        w.write([{ batch: [{ put: 'd', value: '4' }] }]),
      ]);
      expect(replies.map((r) => [...r.outcomes])).toEqual([[0], [0, 0], [0, 0]]);
      const after = await w.stats();
      expect(after.flushes - before.flushes).toBe(1);
      expect(after.writes - before.writes).toBe(5);
      // An awaited write after that is a flush of its own.
      await w.write([{ put: 'e', value: '5' }]);
      expect((await w.stats()).flushes - after.flushes).toBe(1);
      expect(['a', 'b', 'c', 'd', 'e'].map((k) => w.get(k))).toEqual(['1', '2', '3', '4', '5']);
    } finally {
      await w.close();
    }
  });

  it("under 'no', syncs only when asked, once per dirty state, and sync appends queued writes first", async () => {
    const dir = await tempDir('sync');
    const w = await OpenWriter.open(dir, { durability: 'no' });
    try {
      await w.write([{ put: 'a', value: '1' }]);
      expect((await w.stats()).syncs).toBe(0);
      // Queued but not yet flushed: sync must append it before syncing.
      const pending = w.write([{ put: 'b', value: '2' }]);
      expectVoid(await w.service.sync());
      expect(scanFile(seg(dir, 1)).map((r) => r.key)).toEqual(['a', 'b']);
      expect([...(await pending).outcomes]).toEqual([WRITE_OK]);
      expect((await w.stats()).syncs).toBe(1);
      expectVoid(await w.service.sync()); // nothing new: no fdatasync
      expect((await w.stats()).syncs).toBe(1);
    } finally {
      await w.close();
    }
  });

  it("under 'always', fdatasyncs once per flush before answering", async () => {
    const dir = await tempDir('always');
    const w = await OpenWriter.open(dir, { durability: 'always' });
    try {
      await w.write([{ put: 'a', value: '1' }]);
      expect((await w.stats()).syncs).toBe(1);
      await Promise.all([w.write([{ put: 'b', value: '2' }]), w.write([{ put: 'c', value: '3' }])]);
      expect((await w.stats()).syncs).toBe(2);
      expectVoid(await w.service.sync()); // already synced
      expect((await w.stats()).syncs).toBe(2);
    } finally {
      await w.close();
    }
  });

  it("under 'everysec', the timer syncs written data without being asked", async () => {
    const dir = await tempDir('everysec');
    const w = await OpenWriter.open(dir, { durability: 'everysec' });
    try {
      await w.write([{ put: 'a', value: '1' }]);
      await pollUntil(
        'the everysec timer has synced',
        async () => (await w.stats()).syncs >= 1,
        10_000,
      );
    } finally {
      await w.close();
    }
  });
});

describe('WriterService: stats and rotation', () => {
  it('accounts live and dead bytes through overwrites, deletes and batches', async () => {
    const dir = await tempDir('accounting');
    const w = await OpenWriter.open(dir);
    try {
      await w.write([{ put: 'a', value: 'first' }]);
      await w.write([{ put: 'a', value: 'second!' }]);
      await w.write([{ put: 'b', value: 'bee' }, { del: 'b' }, { del: 'nobody' }]);
      await w.write([{ batch: [{ put: 'c', value: 'sea' }] }]);
      const live = putLen('a', 'second!') + putLen('c', 'sea');
      const dead =
        putLen('a', 'first') +
        putLen('b', 'bee') +
        putLen('b', '') +
        putLen('nobody', '') +
        COMMIT_LEN;
      const s = await w.stats();
      expect(s.segments).toEqual([
        {
          id: 1,
          file: '000001.log',
          bytes: SEGMENT_HEADER_BYTES + live + dead,
          liveBytes: live,
          deadBytes: dead,
          liveKeys: 2,
          expiredBytes: 0,
          expiredKeys: 0,
          // The tombstone of b (the delete of nobody removed nothing, but is written too).
          tombstoneBytes: putLen('b', '') + putLen('nobody', ''),
          merged: false,
          first: 1,
          last: 1,
          hinted: false,
          active: true,
        },
      ]);
    } finally {
      await w.close();
    }
  });

  it('rotates at segmentBytes, seals the old segment and keeps every key readable', async () => {
    const dir = await tempDir('rotate');
    const one = putLen('k00', 'v00');
    const w = await OpenWriter.open(dir, { segmentBytes: SEGMENT_HEADER_BYTES + 3 * one });
    try {
      // One buffer of 10 records: rotation happens inside a single append.
      const ops: Op[] = [];
      for (let i = 0; i < 10; i++)
        ops.push({ put: `k${String(i).padStart(2, '0')}`, value: 'v00' });
      const r = await w.write(ops);
      expect([...r.outcomes]).toEqual(new Array(10).fill(WRITE_OK));
      const s = await w.stats();
      // Each sealed segment ends with a sync mark: it may pass segmentBytes by that much.
      const sealed = SEGMENT_HEADER_BYTES + 3 * one + SYNC_MARK_BYTES;
      expect(s.segments.map((x) => x.bytes)).toEqual([
        sealed,
        sealed,
        sealed,
        SEGMENT_HEADER_BYTES + one,
      ]);
      expect(s.segments.map((x) => x.active)).toEqual([false, false, false, true]);
      expect(s.segments.map((x) => x.liveKeys)).toEqual([3, 3, 3, 1]);
      for (const o of ops) if ('put' in o) expect(w.get(o.put)).toBe('v00');
      // Overwriting a key of segment 1 makes its bytes dead there, live in the active one.
      await w.write([{ put: 'k00', value: 'new' }]);
      const s2 = await w.stats();
      expect(s2.segments[0]).toMatchObject({ liveKeys: 2, deadBytes: one + SYNC_MARK_BYTES });
      expect(s2.segments[3]).toMatchObject({ liveKeys: 2, liveBytes: 2 * one });
      expect(w.get('k00')).toBe('new');
    } finally {
      await w.close();
    }
  });

  it('writes a record bigger than segmentBytes whole into a segment of its own', async () => {
    const dir = await tempDir('big');
    const w = await OpenWriter.open(dir, { segmentBytes: 100 });
    try {
      const big = 'x'.repeat(300);
      await w.write([{ put: 'small', value: 's' }]);
      await w.write([{ put: 'big', value: big }]);
      await w.write([{ put: 'after', value: 'a' }]);
      const s = await w.stats();
      expect(s.segments.map((x) => x.bytes)).toEqual([
        SEGMENT_HEADER_BYTES + putLen('small', 's') + SYNC_MARK_BYTES,
        SEGMENT_HEADER_BYTES + putLen('big', big) + SYNC_MARK_BYTES,
        SEGMENT_HEADER_BYTES + putLen('after', 'a'),
      ]);
      expect(w.get('big')).toBe(big);
    } finally {
      await w.close();
    }
  });

  it('never splits an atomic batch across segments', async () => {
    const dir = await tempDir('batch-rotate');
    const one = putLen('p', 'vv');
    // Room for the first put and part of the batch, but not the whole batch.
    const limit = SEGMENT_HEADER_BYTES + one + 2 * one;
    const w = await OpenWriter.open(dir, { segmentBytes: limit });
    try {
      const r = await w.write([
        { put: 'p', value: 'vv' },
        {
          batch: [
            { put: 'q', value: 'vv' },
            { put: 'r', value: 'vv' },
            { put: 's', value: 'vv' },
          ],
        },
      ]);
      expect([...r.outcomes]).toEqual([0, 0, 0, 0, 0]);
    } finally {
      await w.close();
    }
    expect(dataRecords(seg(dir, 1)).map((x) => x.key)).toEqual(['p']);
    const second = dataRecords(seg(dir, 2));
    expect(second.map((x) => x.key)).toEqual(['q', 'r', 's', '']);
    expect(second[3]!.type).toBe(TYPE_BATCH_COMMIT);
  });
});

describe('WriterService: batches and malformed submissions', () => {
  it('applies a batch as a unit: every record published, outcomes per record', async () => {
    const dir = await tempDir('batch');
    const w = await OpenWriter.open(dir);
    try {
      await w.write([{ put: 'z', value: 'zz' }]);
      const r = await w.write([
        {
          batch: [{ put: 'x', value: '1' }, { put: 'y', value: '2' }, { del: 'z' }],
        },
      ]);
      expect(r.error).toBeUndefined();
      expect([...r.outcomes]).toEqual([WRITE_OK, WRITE_OK, WRITE_OK_EXISTED, WRITE_OK]);
      expect([w.get('x'), w.get('y'), w.get('z')]).toEqual(['1', '2', undefined]);
    } finally {
      await w.close();
    }
    const w2 = await OpenWriter.open(dir);
    try {
      expect([w2.get('x'), w2.get('y'), w2.get('z')]).toEqual(['1', '2', undefined]);
    } finally {
      await w2.close();
    }
  });

  it('fails only the malformed buffers of a flush, with KV_INTERNAL, and writes none of their bytes', async () => {
    const dir = await tempDir('malformed');
    const w = await OpenWriter.open(dir);
    try {
      const good = (k: string): Op[] => [{ put: k, value: k }];
      const badType = layoutRecord(TYPE_PUT, 0, 0, utf8('t'), utf8('v'));
      badType[OFF_TYPE] = 9;
      const overrun = layoutRecord(TYPE_PUT, 0, 0, utf8('o'), utf8('v'));
      const malformed: Record<string, Op[]> = {
        'trailing bytes': [{ put: 'm1', value: 'v' }, { raw: new Uint8Array(7) }],
        'bad type': [{ put: 'm2', value: 'v' }, { raw: badType }],
        'record overruns': [{ raw: overrun.subarray(0, overrun.length - 1) }],
        'batch without commit': [
          { raw: layoutRecord(TYPE_PUT, FLAG_IN_BATCH, 0, utf8('m3'), utf8('v')) },
        ],
        'commit count mismatch': [
          { raw: layoutRecord(TYPE_PUT, FLAG_IN_BATCH, 0, utf8('m4'), utf8('v')) },
          { commit: 2 },
        ],
        'plain record inside a batch': [
          { raw: layoutRecord(TYPE_PUT, FLAG_IN_BATCH, 0, utf8('m5'), utf8('v')) },
          { put: 'm6', value: 'v' },
          { commit: 2 },
        ],
        'commit flagged in a batch': [{ commit: 0, flags: FLAG_IN_BATCH }],
      };
      const names = Object.keys(malformed);
      const replies = await Promise.all([
        w.write(good('g1')),
        ...names.map((n) => w.write(malformed[n]!)),
        w.write(good('g2')),
      ]);
      expect([...replies[0]!.outcomes]).toEqual([WRITE_OK]);
      expect([...replies.at(-1)!.outcomes]).toEqual([WRITE_OK]);
      expect(replies[0]!.error).toBeUndefined();
      names.forEach((name, i) => {
        const reply = replies[i + 1]!;
        expect(reply.error?.code, name).toBe('KV_INTERNAL');
        expect(reply.outcomes.length, name).toBe(0);
      });
      expect(w.get('g1')).toBe('g1');
      expect(w.get('g2')).toBe('g2');
      for (const k of ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']) expect(w.get(k), k).toBeUndefined();
      expect((await w.stats()).writes).toBe(2);
    } finally {
      await w.close();
    }
    expect(dataRecords(seg(dir, 1)).map((r) => r.key)).toEqual(['g1', 'g2']);
  });

  it('accepts only what recovery will replay: a bare commit record must not hide later writes', async () => {
    // A commit record with count 0 and no batch before it is accepted by parseWriteBuffer, but
    // recovery treats a commit with no pending batch as a torn tail (last segment) or
    // corruption (sealed segment). Either the writer must refuse it, or recovery keep it.
    const dir = await tempDir('bare-commit');
    const w = await OpenWriter.open(dir);
    let accepted: boolean;
    try {
      const r = await w.write([{ commit: 0 }]);
      accepted = r.error === undefined;
      await w.write([{ put: 'after', value: 'acknowledged' }]);
      expect(w.get('after')).toBe('acknowledged');
    } finally {
      await w.close();
    }
    const w2 = await OpenWriter.open(dir);
    try {
      expect(
        { accepted, truncatedBytes: w2.opened.truncatedBytes, after: w2.get('after') },
        'an acknowledged write was lost on reopen',
      ).toEqual({ accepted, truncatedBytes: 0, after: 'acknowledged' });
    } finally {
      await w2.close();
    }
  });
});

describe('WriterService: close and failures', () => {
  it('appends writes queued before close, then answers later writes with KV_CLOSED', async () => {
    const dir = await tempDir('close');
    const w = await OpenWriter.open(dir);
    const queued = w.write([{ put: 'last', value: 'in' }]);
    await w.close();
    expect([...(await queued).outcomes]).toEqual([WRITE_OK]);
    const late = await w.write([{ put: 'late', value: 'out' }]);
    expect(late.error?.code).toBe('KV_CLOSED');
    expect(late.outcomes.length).toBe(0);
    expectVoid(await w.service.close()); // closing twice is harmless
    const sync = await w.service.sync();
    expect(sync.ok).toBe(false);
    const stats = await w.service.stats();
    expect(stats.ok).toBe(false);
    expect(dataRecords(seg(dir, 1)).map((r) => r.key)).toEqual(['last']);
  });

  it('answers a write before open with KV_CLOSED', async () => {
    const service = new WriterService();
    const { buffer, length } = submission([{ put: 'a', value: 'b' }]);
    const r = await service.write(buffer, length);
    expect(r.error?.code).toBe('KV_CLOSED');
  });

  it('refuses to open on a damaged sealed segment, naming file and offset, and leaks no fds', async () => {
    // Segment 2 overwrites "a" from segment 1 (recovery preads segment 1 to compare the key),
    // then holds a damaged record; segment 3 makes segment 2 a sealed one.
    const dir = await tempDir('open-fail');
    writeFileSync(seg(dir, 1), segment(1, [rec(1, 'put', 'a', '1')]));
    const first = rec(2, 'put', 'a', '2');
    const s2 = segment(2, [first, rec(3, 'put', 'b', '3')]);
    s2[s2.length - 1]! ^= 0x01; // b's value
    writeFileSync(seg(dir, 2), s2);
    writeFileSync(seg(dir, 3), segment(3, []));
    const before = openFds();
    const service = new WriterService();
    const reply = await service.open({
      dir,
      durability: 'no',
      segmentBytes: 1 << 20,
      hashBits: 32,
    });
    expect(reply.ok).toBe(false);
    if (!reply.ok) {
      expect(reply.error.code).toBe('KV_CORRUPTION');
      expect(reply.error.message).toContain('000002.log');
      expect(reply.error.message).toContain(`offset ${SEGMENT_HEADER_BYTES + first.length}`);
    }
    expect(openFds(), 'fds left open by a failed open').toEqual(before);
  });

  it('stops taking writes (KV_IO) when a sealed segment it must check has been cut short on disk', async () => {
    // Outside damage, not a mock: segment 1 is truncated to its header after rotation, so the
    // writer cannot read the stored key it must compare before overwriting "a".
    const dir = await tempDir('publish-fail');
    const w = await OpenWriter.open(dir, {
      segmentBytes: SEGMENT_HEADER_BYTES + putLen('a', 'v1'),
    });
    try {
      await w.write([{ put: 'a', value: 'v1' }]);
      await w.write([{ put: 'b', value: 'v2' }]); // rotates: segment 1 is sealed
      truncateSync(seg(dir, 1), SEGMENT_HEADER_BYTES);
      const [hit, bystander] = await Promise.all([
        w.write([{ put: 'a', value: 'v3' }]),
        w.write([{ put: 'c', value: 'v4' }]),
      ]);
      expect(hit.error?.code).toBe('KV_IO');
      expect(bystander.error?.code).toBe('KV_IO');
      const later = await w.write([{ put: 'd', value: 'v5' }]);
      expect(later.error?.code).toBe('KV_IO');
      expect([...later.outcomes]).toEqual([WRITE_FAILED]);
    } finally {
      await w.close();
    }
    // Reopening rebuilds the index from what is on disk: the rewrite of "a" reached the log.
    const w2 = await OpenWriter.open(dir);
    try {
      expect([w2.get('a'), w2.get('b'), w2.get('d')]).toEqual(['v3', 'v2', undefined]);
    } finally {
      await w2.close();
    }
  });
});

describe('WriterService: model', () => {
  type ModelOp =
    | { kind: 'put'; key: number; size: number }
    | { kind: 'del'; key: number }
    | { kind: 'batch'; ops: { kind: 'put' | 'del'; key: number; size: number }[] };
  const key = fc.nat(11);
  const opArb: fc.Arbitrary<ModelOp> = fc.oneof(
    fc.record({ kind: fc.constant('put' as const), key, size: fc.nat(40) }),
    fc.record({ kind: fc.constant('del' as const), key }),
    fc.record({
      kind: fc.constant('batch' as const),
      ops: fc.array(
        fc.record({ kind: fc.constantFrom('put' as const, 'del' as const), key, size: fc.nat(40) }),
        { minLength: 1, maxLength: 4 },
      ),
    }),
  );
  // Each inner array is one flush; each element of it one submitted buffer.
  const flushesArb = fc.array(
    fc.array(fc.array(opArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
    {
      minLength: 1,
      maxLength: 6,
    },
  );

  const toOp = (o: { kind: 'put' | 'del'; key: number; size?: number }, n: number): Op =>
    o.kind === 'put'
      ? { put: `key${o.key}`, value: `${n}:`.padEnd(o.size ?? 0, '#') }
      : { del: `key${o.key}` };

  async function run(hashBits: number, flushes: ModelOp[][][]): Promise<void> {
    const dir = await tempDir('model');
    const model = new Map<string, string>();
    let n = 0;
    const w = await OpenWriter.open(dir, { segmentBytes: 200, hashBits });
    let stats: Awaited<ReturnType<OpenWriter['stats']>>;
    try {
      for (const flush of flushes) {
        const expected: number[][] = [];
        const submissions = flush.map((buffer) => {
          const ops: Op[] = [];
          const outs: number[] = [];
          for (const o of buffer) {
            const items = o.kind === 'batch' ? o.ops : [o];
            const laid = items.map((i) => toOp(i, n++));
            for (const op of laid) {
              const k = 'put' in op ? op.put : 'del' in op ? op.del : '';
              outs.push(model.has(k) ? WRITE_OK_EXISTED : WRITE_OK);
              if ('put' in op) model.set(k, op.value as string);
              else model.delete(k);
            }
            if (o.kind === 'batch') {
              ops.push({ batch: laid });
              outs.push(WRITE_OK);
            } else ops.push(...laid);
          }
          expected.push(outs);
          expect(recordCount(ops)).toBe(outs.length);
          return ops;
        });
        const replies = await Promise.all(submissions.map((ops) => w.write(ops)));
        expect(replies.map((r) => [...r.outcomes])).toEqual(expected);
      }
      for (let k = 0; k < 12; k++) expect(w.get(`key${k}`)).toBe(model.get(`key${k}`));
      stats = await w.stats();
      const live = stats.segments.reduce((s, x) => s + x.liveKeys, 0);
      expect(live).toBe(model.size);
    } finally {
      await w.close();
    }
    const w2 = await OpenWriter.open(dir, { segmentBytes: 200, hashBits });
    try {
      for (let k = 0; k < 12; k++) expect(w2.get(`key${k}`)).toBe(model.get(`key${k}`));
      const after = await w2.stats();
      // Close ended the active segment (if it held records) with a sync mark: 40 dead bytes.
      const marked = (x: (typeof stats.segments)[number]) =>
        x.active && x.bytes > SEGMENT_HEADER_BYTES
          ? { ...x, bytes: x.bytes + SYNC_MARK_BYTES, deadBytes: x.deadBytes + SYNC_MARK_BYTES }
          : x;
      expect(after.segments).toEqual(stats.segments.map(marked));
      const closeMarks = stats.segments.some((x) => x.active && x.bytes > SEGMENT_HEADER_BYTES);
      expect(after.lastSeq).toBe(stats.lastSeq + (closeMarks ? 1 : 0));
    } finally {
      await w2.close();
    }
  }

  it('matches a Map, and recovery reproduces the live accounting exactly (property)', async () => {
    await fc.assert(
      fc.asyncProperty(flushesArb, (flushes) => run(32, flushes)),
      { numRuns: 40 },
    );
  });

  it('matches a Map when keys collide into 4 hashes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(flushesArb, (flushes) => run(2, flushes)),
      { numRuns: 40 },
    );
  });
});
