// Tests for start-up recovery (src/workers/recovery.ts) on segment files crafted byte by byte:
// torn tails cut at every byte and kept aside, unfinished and mismatched batches, corruption in
// sealed segments refused with file and offset, bad segment headers, segments cut short at
// creation, sequence numbers, deletes across segments, live-byte accounting, and I/O failures.

import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../dist/shared/crc32c.js';
import { encodeSegmentHeader } from '../../dist/shared/format.js';
import { expectRecoveryError, name, withRecovery, writeSegments } from './recovery-harness.js';
import { rec, removeTempDirs, segment, tempDir } from './worker-harness.js';

afterEach(removeTempDirs);

/** The span fields stats() reports for log segment `id` (no hint file in these tests). */
const logSpan = (id: number) => ({ merged: false, first: id, last: id, hinted: false });
/** Bytes of a segment header (FORMAT.md): the first record starts here. */
const HEADER = 32;

function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(dir).sort()) out.set(f, readFileSync(join(dir, f)).toString('hex'));
  return out;
}

/** A segment header for `id` with the version field and CRC chosen by hand. */
function headerWith(id: number, version: number): Buffer {
  const b = Buffer.from(encodeSegmentHeader(id));
  b.writeUInt16LE(version, 4);
  b.writeUInt32LE(crc32c(b, 0, 12), 12);
  return b;
}

describe('recover: clean logs', () => {
  it('finds nothing in an empty directory and creates nothing', async () => {
    const dir = await tempDir('rec-empty');
    withRecovery(dir, ({ result }) => {
      expect(result).toEqual({
        last: undefined,
        lastSeq: 0,
        records: 0,
        truncatedBytes: 0,
        hinted: 0,
        scanned: 0,
        restored: 0,
        lastSyncedThrough: 0,
        lastFullMarkEnd: 0,
      });
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('replays puts, overwrites and deletes across segments in id order (numeric, not by name)', async () => {
    const dir = await tempDir('rec-order');
    // "1000000.log" sorts before "999999.log" as a string; replay must follow the number.
    writeFileSync(
      join(dir, '999999.log'),
      segment(999999, [rec(1, 'put', 'a', 'old'), rec(2, 'put', 'b', 'bee')]),
    );
    writeFileSync(
      join(dir, '1000000.log'),
      segment(1000000, [rec(3, 'put', 'a', 'new'), rec(4, 'del', 'b')]),
    );
    for (const other of ['LOCK', '1.log', '000001.log.torn-40', 'notes.txt'])
      writeFileSync(join(dir, other), 'not a segment');
    withRecovery(dir, ({ result, get }) => {
      expect(result.last?.id).toBe(1000000);
      expect(result.records).toBe(4);
      expect(result.lastSeq).toBe(4);
      expect(get('a')).toBe('new');
      expect(get('b')).toBeUndefined();
    });
  });

  it('takes lastSeq as the highest sequence number seen, wherever it is', async () => {
    const dir = await tempDir('rec-seq');
    writeSegments(dir, {
      1: segment(1, [rec(5, 'put', 'a'), rec(3, 'put', 'b')]),
      2: segment(2, [rec(9, 'del', 'a'), rec(7, 'put', 'c')]),
    });
    withRecovery(dir, ({ result }) => expect(result.lastSeq).toBe(9));
  });

  it('applies deletes to puts of earlier segments and accounts live and dead bytes per segment', async () => {
    const dir = await tempDir('rec-accounting');
    const a = rec(1, 'put', 'a', 'alpha');
    const b = rec(2, 'put', 'b', 'beta');
    const delA = rec(3, 'del', 'a');
    const b2 = rec(4, 'put', 'b', 'beta2');
    const c = rec(5, 'put', 'c', 'gamma');
    const delC = rec(6, 'del', 'c', '', { inBatch: true });
    const d = rec(7, 'put', 'd', 'delta', { inBatch: true });
    const commit = rec(8, 'commit', '', '', { count: 2 });
    const expired = rec(9, 'put', 'e', 'old', { expiresAt: Date.now() - 1000 });
    writeSegments(dir, {
      1: segment(1, [a, b]),
      2: segment(2, [delA, b2, c]),
      3: segment(3, [delC, d, commit, expired]),
    });
    withRecovery(dir, ({ result, segments, get }) => {
      expect(result.records).toBe(8);
      expect([get('a'), get('b'), get('c'), get('d'), get('e')]).toEqual([
        undefined,
        'beta2',
        undefined,
        'delta',
        undefined,
      ]);
      const size = (...rs: Uint8Array[]) => HEADER + rs.reduce((n, r) => n + r.length, 0);
      expect(segments.stats(3)).toEqual([
        {
          id: 1,
          file: '000001.log',
          bytes: size(a, b),
          liveBytes: 0,
          deadBytes: a.length + b.length,
          liveKeys: 0,
          expiredBytes: 0,
          expiredKeys: 0,
          tombstoneBytes: 0,
          ...logSpan(1),
          active: false,
        },
        {
          id: 2,
          file: '000002.log',
          bytes: size(delA, b2, c),
          liveBytes: b2.length,
          deadBytes: delA.length + c.length,
          liveKeys: 1,
          expiredBytes: 0,
          expiredKeys: 0,
          tombstoneBytes: delA.length,
          ...logSpan(2),
          active: false,
        },
        {
          id: 3,
          file: '000003.log',
          bytes: size(delC, d, commit, expired),
          // An expired record still occupies its slot until overwritten (reads treat it as absent).
          liveBytes: d.length + expired.length,
          deadBytes: delC.length + commit.length,
          liveKeys: 2,
          expiredBytes: 0,
          expiredKeys: 0,
          tombstoneBytes: delC.length,
          ...logSpan(3),
          active: true,
        },
      ]);
    });
  });

  it('matches a model of the log when every key collides into 4 hashes (property)', async () => {
    type Rec = { del: boolean; key: number; value: string };
    const recArb = fc.record({
      del: fc.boolean(),
      key: fc.nat(9),
      value: fc.string({ maxLength: 12 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(recArb, { maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        async (files: Rec[][]) => {
          const dir = await tempDir('rec-model');
          const model = new Map<string, string>();
          let seq = 0;
          files.forEach((records, i) => {
            const bytes = records.map((r) => {
              const k = `key-${r.key}`.repeat(1 + (r.key % 3)); // keys of several lengths
              if (r.del) model.delete(k);
              else model.set(k, r.value);
              return r.del ? rec(++seq, 'del', k) : rec(++seq, 'put', k, r.value);
            });
            writeSegments(dir, { [i + 1]: segment(i + 1, bytes) });
          });
          withRecovery(
            dir,
            ({ result, index, segments, get }) => {
              expect(result.lastSeq).toBe(seq);
              for (let k = 0; k < 10; k++) {
                const key = `key-${k}`.repeat(1 + (k % 3));
                expect(get(key), key).toBe(model.get(key));
              }
              expect(index.count).toBe(model.size);
              const stats = segments.stats(files.length);
              expect(stats.reduce((n, s) => n + s.liveKeys, 0)).toBe(model.size);
            },
            { hashBits: 2 },
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('recover: the last segment (torn tails)', () => {
  it('cuts a record torn at any byte, saving exactly the cut bytes beside the segment', async () => {
    const a = rec(1, 'put', 'a', 'one');
    const b = rec(2, 'put', 'b', 'two');
    const c = rec(3, 'put', 'c', 'three');
    const whole = segment(1, [a, b, c]);
    const cutAt = HEADER + a.length + b.length;
    for (let keep = 1; keep < c.length; keep++) {
      const dir = await tempDir('rec-torn');
      writeSegments(dir, { 1: whole.subarray(0, cutAt + keep) });
      withRecovery(dir, ({ result, get }) => {
        expect(result.truncatedBytes, `keep ${keep}`).toBe(keep);
        expect(result.last?.size).toBe(cutAt);
        expect(result.records).toBe(2);
        expect([get('a'), get('b'), get('c')]).toEqual(['one', 'two', undefined]);
      });
      expect(readFileSync(join(dir, name(1)))).toEqual(whole.subarray(0, cutAt));
      expect(readFileSync(join(dir, `${name(1)}.torn-${cutAt}`))).toEqual(
        whole.subarray(cutAt, cutAt + keep),
      );
    }
  });

  it('cuts at a damaged record whatever byte is flipped, keeping the good records after it aside', async () => {
    const a = rec(1, 'put', 'a', 'one');
    const b = rec(2, 'put', 'bb', 'two');
    const c = rec(3, 'put', 'c', 'three');
    const whole = segment(1, [a, b, c]);
    const at = HEADER + a.length;
    for (let i = 0; i < b.length; i++) {
      const dir = await tempDir('rec-flip');
      const damaged = Buffer.from(whole);
      damaged[at + i]! ^= 0x40;
      writeSegments(dir, { 1: damaged });
      withRecovery(dir, ({ result, get }) => {
        expect(result.last?.size, `byte ${i}`).toBe(at);
        expect([get('a'), get('bb'), get('c')]).toEqual(['one', undefined, undefined]);
      });
      expect(readFileSync(join(dir, `${name(1)}.torn-${at}`))).toEqual(damaged.subarray(at));
    }
  });

  it('keeps the bytes an earlier recovery cut at the same offset', async () => {
    // Crash, recovery cuts at X and saves .torn-X; writes resume at X; a second crash tears the
    // log at X again. The first .torn-X may hold the only copy of acknowledged writes (under
    // 'no' or 'everysec'), so the second cut must not overwrite it.
    const dir = await tempDir('rec-torn-twice');
    const a = rec(1, 'put', 'a', 'one');
    const at = HEADER + a.length;
    const earlier = Buffer.from('bytes cut by an earlier recovery');
    writeFileSync(join(dir, `${name(1)}.torn-${at}`), earlier);
    const now = Buffer.from([9, 9, 9]);
    writeSegments(dir, { 1: Buffer.concat([segment(1, [a]), now]) });
    withRecovery(dir, ({ result }) => expect(result.truncatedBytes).toBe(now.length));
    const kept = readdirSync(dir)
      .filter((f) => f.startsWith(`${name(1)}.torn-`))
      .map((f) => readFileSync(join(dir, f)).toString('hex'))
      .sort();
    expect(kept, 'torn files after the second cut').toEqual(
      [earlier.toString('hex'), now.toString('hex')].sort(),
    );
  });

  it('logs a warning naming the file, offset and bytes cut', async () => {
    const dir = await tempDir('rec-warn');
    const a = rec(1, 'put', 'a', 'one');
    writeSegments(dir, { 1: Buffer.concat([segment(1, [a]), Buffer.from([1, 2, 3])]) });
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    withRecovery(dir, () => undefined, { log });
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      level: 40,
      file: name(1),
      offset: HEADER + a.length,
      bytes: 3,
      recordsAfter: 0,
    });
  });

  it('drops an unfinished batch at the tail whole, cutting at its first record', async () => {
    const dir = await tempDir('rec-unfinished');
    const a = rec(1, 'put', 'a', 'one');
    const b = rec(2, 'put', 'b', 'two', { inBatch: true });
    const delA = rec(3, 'del', 'a', '', { inBatch: true });
    writeSegments(dir, { 1: segment(1, [a, b, delA]) });
    withRecovery(dir, ({ result, get }) => {
      expect(result.truncatedBytes).toBe(b.length + delA.length);
      expect(result.records).toBe(1);
      expect([get('a'), get('b')]).toEqual(['one', undefined]);
    });
    expect(readFileSync(join(dir, `${name(1)}.torn-${HEADER + a.length}`))).toEqual(
      Buffer.concat([b, delA]),
    );
  });

  it('drops an unfinished batch whose last record is torn, cutting at the batch start', async () => {
    const dir = await tempDir('rec-unfinished-torn');
    const a = rec(1, 'put', 'a', 'one');
    const b = rec(2, 'put', 'b', 'two', { inBatch: true });
    const c = rec(3, 'put', 'c', 'three', { inBatch: true });
    writeSegments(dir, { 1: segment(1, [a, b, c.subarray(0, 20)]) });
    withRecovery(dir, ({ result, get }) => {
      expect(result.last?.size).toBe(HEADER + a.length);
      expect([get('a'), get('b'), get('c')]).toEqual(['one', undefined, undefined]);
    });
  });

  it('drops a batch whose commit count does not match, and everything after it', async () => {
    const dir = await tempDir('rec-mismatch');
    const a = rec(1, 'put', 'a', 'one');
    const b = rec(2, 'put', 'b', 'two', { inBatch: true });
    const c = rec(3, 'put', 'c', 'three', { inBatch: true });
    const commit = rec(4, 'commit', '', '', { count: 3 });
    const d = rec(5, 'put', 'd', 'four');
    writeSegments(dir, { 1: segment(1, [a, b, c, commit, d]) });
    withRecovery(dir, ({ result, get }) => {
      expect(result.last?.size).toBe(HEADER + a.length);
      expect(result.truncatedBytes).toBe(b.length + c.length + commit.length + d.length);
      expect([get('a'), get('b'), get('c'), get('d')]).toEqual([
        'one',
        undefined,
        undefined,
        undefined,
      ]);
    });
  });

  it('applies a committed batch and cuts only the torn record after it', async () => {
    const dir = await tempDir('rec-committed');
    const b = rec(1, 'put', 'b', 'two', { inBatch: true });
    const c = rec(2, 'put', 'c', 'three', { inBatch: true });
    const commit = rec(3, 'commit', '', '', { count: 2 });
    const d = rec(4, 'put', 'd', 'four');
    writeSegments(dir, { 1: segment(1, [b, c, commit, d.subarray(0, d.length - 1)]) });
    withRecovery(dir, ({ result, get }) => {
      expect(result.records).toBe(2);
      expect(result.truncatedBytes).toBe(d.length - 1);
      expect([get('b'), get('c'), get('d')]).toEqual(['two', 'three', undefined]);
    });
  });

  it('removes a last segment shorter than its header, or 16 bytes of zeros, and appends to the one before', async () => {
    for (const tail of [
      Buffer.alloc(0),
      Buffer.from([0x4b, 0x56, 0x44]),
      Buffer.alloc(15),
      Buffer.alloc(16),
    ]) {
      const dir = await tempDir('rec-short-last');
      const a = rec(1, 'put', 'a', 'one');
      writeSegments(dir, { 1: segment(1, [a]), 2: tail });
      withRecovery(dir, ({ result, get }) => {
        expect(result.last?.id, `tail of ${tail.length}`).toBe(1);
        expect(result.last?.size).toBe(HEADER + a.length);
        expect(get('a')).toBe('one');
      });
      expect(existsSync(join(dir, name(2)))).toBe(false);
    }
  });

  it('removes the only segment when it was cut short at creation', async () => {
    const dir = await tempDir('rec-short-only');
    writeSegments(dir, { 1: encodeSegmentHeader(1).subarray(0, 10) });
    withRecovery(dir, ({ result }) => expect(result.last).toBeUndefined());
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps a last segment that holds only a valid header', async () => {
    const dir = await tempDir('rec-header-only');
    writeSegments(dir, { 1: segment(1, [rec(1, 'put', 'a', 'one')]), 2: segment(2, []) });
    withRecovery(dir, ({ result }) => {
      expect(result.last?.id).toBe(2);
      expect(result.last?.size).toBe(HEADER);
    });
  });

  it('refuses a last segment with records behind a bad header', async () => {
    const dir = await tempDir('rec-last-bad-header');
    const s = segment(1, [rec(1, 'put', 'a', 'one')]);
    s[0] = 0;
    writeSegments(dir, { 1: s });
    const error = expectRecoveryError(dir, 'KV_CORRUPTION');
    expect(error.message).toContain(`${name(1)} at offset 0`);
  });
});

describe('recover: sealed segments (corruption)', () => {
  const a = rec(1, 'put', 'a', 'one');
  const b = rec(2, 'put', 'b', 'two');
  const next = segment(2, [rec(10, 'put', 'z', 'last')]);

  async function expectSealedCorruption(first: Uint8Array, offset: number): Promise<void> {
    const dir = await tempDir('rec-sealed');
    writeSegments(dir, { 1: first, 2: next });
    const before = snapshot(dir);
    const error = expectRecoveryError(dir, 'KV_CORRUPTION');
    expect(error.message).toContain(`${name(1)} at offset ${offset}`);
    expect(snapshot(dir), 'recovery changed files while refusing to open').toEqual(before);
  }

  it('refuses a damaged record anywhere in a sealed segment, naming file and offset', async () => {
    const whole = segment(1, [a, b]);
    const at = HEADER + a.length;
    for (let i = 0; i < b.length; i++) {
      const damaged = Buffer.from(whole);
      damaged[at + i]! ^= 0x04;
      await expectSealedCorruption(damaged, at);
    }
  });

  it('refuses a sealed segment that ends inside a record', async () => {
    const whole = segment(1, [a, b]);
    await expectSealedCorruption(whole.subarray(0, whole.length - 1), HEADER + a.length);
    await expectSealedCorruption(whole.subarray(0, HEADER + a.length + 31), HEADER + a.length);
  });

  it('refuses a sealed segment ending in an unfinished batch, naming the batch start', async () => {
    const inBatch = rec(2, 'put', 'b', 'two', { inBatch: true });
    await expectSealedCorruption(segment(1, [a, inBatch]), HEADER + a.length);
  });

  it('refuses a commit whose count does not match in a sealed segment, naming the commit', async () => {
    const inBatch = rec(2, 'put', 'b', 'two', { inBatch: true });
    const commit = rec(3, 'commit', '', '', { count: 2 });
    await expectSealedCorruption(
      segment(1, [a, inBatch, commit]),
      HEADER + a.length + inBatch.length,
    );
  });

  it('refuses a bad segment header: magic, checksum, version, id, or cut short', async () => {
    const records = Buffer.concat([a]);
    const badMagic = Buffer.from(encodeSegmentHeader(1));
    badMagic[0] = 0x4c;
    const badCrc = Buffer.from(encodeSegmentHeader(1));
    badCrc[13]! ^= 1;
    for (const header of [
      badMagic,
      badCrc,
      headerWith(1, 2),
      headerWith(1, 0),
      Buffer.from(encodeSegmentHeader(3)), // a segment 3 renamed to 000001.log
    ]) {
      await expectSealedCorruption(Buffer.concat([header, records]), 0);
    }
    await expectSealedCorruption(encodeSegmentHeader(1).subarray(0, 12), 0);
    await expectSealedCorruption(Buffer.alloc(16), 0);
  });
});

describe('recover: I/O failures', () => {
  it('fails with KV_IO when a segment cannot be read', async () => {
    const dir = await tempDir('rec-unreadable');
    mkdirSync(join(dir, name(1))); // a directory where a segment file should be
    const error = expectRecoveryError(dir, 'KV_IO');
    expect(error.message).toContain(name(1));
  });

  it('fails with KV_IO, leaving the segment whole, when the torn tail cannot be saved aside', async () => {
    const dir = await tempDir('rec-cannot-save');
    const a = rec(1, 'put', 'a', 'one');
    const s = Buffer.concat([segment(1, [a]), Buffer.from('torn')]);
    writeSegments(dir, { 1: s });
    // The usual name is taken (so recovery picks `.1`), and `.1` is a dangling symlink: an
    // exclusive create fails on it, so the bytes cannot be saved.
    mkdirSync(join(dir, `${name(1)}.torn-${HEADER + a.length}`));
    symlinkSync(join(dir, 'nowhere', 'x'), join(dir, `${name(1)}.torn-${HEADER + a.length}.1`));
    const error = expectRecoveryError(dir, 'KV_IO');
    expect(error.message).toContain(name(1));
    expect(readFileSync(join(dir, name(1)))).toEqual(s);
  });
});
