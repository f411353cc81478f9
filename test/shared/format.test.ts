// Tests for the on-disk format (src/shared/format.ts): golden bytes pinned against FORMAT.md's
// worked example, round trips, segment header checks, and byte-flip / truncation detection in
// memory, LevelDB log_test style.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  batchCommitCount,
  checkSegmentHeader,
  decodeHeader,
  decodeSegmentHeader,
  encodeBatchCommitValue,
  encodeRecord,
  encodeSegmentHeader,
  encodeSyncMark,
  FLAG_IN_BATCH,
  FORMAT_VERSION,
  findNextRecord,
  KIND_LOG,
  KIND_MERGED,
  MAX_RECORD_BYTES,
  OFF_CRC,
  OFF_EXPIRES,
  OFF_FLAGS,
  OFF_KEY_LEN,
  OFF_SEQ,
  OFF_TYPE,
  OFF_VALUE_LEN,
  OLDEST_READABLE_VERSION,
  parseSegmentFileName,
  RECORD_HEADER_BYTES,
  type RecordType,
  recordBytes,
  recordChecksumOk,
  recordExpiresAt,
  recordKeyLength,
  recordType,
  recordValueLength,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  SYNC_MARK_BYTES,
  scanRecord,
  sealRecord,
  segmentFileName,
  syncMarkValue,
  TYPE_BATCH_COMMIT,
  TYPE_DELETE,
  TYPE_PUT,
  TYPE_SYNC_MARK,
  writeRecordHeader,
} from '../../dist/shared/format.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array =>
  new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

// FORMAT.md's worked example. Every field was laid out by hand from the table in FORMAT.md and
// the CRC computed by an independent bitwise CRC32C (Python), not by src/shared/crc32c.ts.
const GOLDEN_SEQ = 0x0102_0304_0506; // above 2^32, so both u64 halves are exercised
const GOLDEN_EXPIRES = 1_700_000_000_000; // 0x0000018B_CFE56800 ms
const GOLDEN_PUT = [
  'e9ed3361', // CRC32C of bytes 4..39 (0x6133EDE9, little-endian)
  '01', // type PUT
  '00', // flags
  '0000', // reserved
  '0605040302010000', // seq
  '0068e5cf8b010000', // expiresAt
  '03000000', // key length
  '05000000', // value length
  '6b6579', // "key"
  '76616c7565', // "value"
].join('');
const GOLDEN_SEGMENT_HEADER_1 = [
  '4b564453', // "KVDS"
  '0300', // format version 3
  '0000', // kind 0: log segment
  '01000000', // segment id 1
  '01000000', // first: 1 (a log segment spans its own id)
  '01000000', // last: 1
  '0000000000000000', // reserved
  '0386be0c', // CRC32C of bytes 0..27 (0x0CBE8603)
].join('');
const GOLDEN_MERGED_HEADER_9 = [
  '4b564453', // "KVDS"
  '0300', // format version 3
  '0100', // kind 1: merged segment
  '09000000', // segment id 9
  '03000000', // first: 3
  '07000000', // last: 7
  '0000000000000000', // reserved
  '033688a9', // CRC32C of bytes 0..27 (0xA9883603)
].join('');
const GOLDEN_COMMIT_OF_2 = [
  '84cc5c32', // CRC32C of bytes 4..39
  '03', // type BATCH_COMMIT
  '00', // flags
  '0000', // reserved
  '0700000000000000', // seq 7
  '0000000000000000', // no expiry
  '00000000', // key length 0
  '04000000', // value length 4
  '02000000', // value: u32 count 2
].join('');

const GOLDEN_SYNC_MARK = [
  '97c551f2', // CRC32C of bytes 4..39 (0xF251C597)
  '04', // type SYNC_MARK
  '00', // flags
  '0000', // reserved
  '0900000000000000', // seq 9
  '0000000000000000', // no expiry
  '00000000', // key length 0
  '08000000', // value length 8
  '0010000000000000', // value: u64 synced through byte 4096
].join('');

const recordArb = fc.record({
  type: fc.constantFrom<RecordType>(TYPE_PUT, TYPE_DELETE, TYPE_BATCH_COMMIT),
  flags: fc.constantFrom(0, FLAG_IN_BATCH),
  seq: fc.maxSafeNat(),
  expiresAt: fc.oneof(fc.constant(0), fc.maxSafeNat()),
  key: fc.uint8Array({ maxLength: 40 }),
  value: fc.uint8Array({ maxLength: 200 }),
});

describe('record encoding', () => {
  it('layout constants match FORMAT.md', () => {
    expect(FORMAT_VERSION).toBe(3);
    expect(OLDEST_READABLE_VERSION).toBe(2);
    expect([TYPE_SYNC_MARK, SYNC_MARK_BYTES]).toEqual([4, 40]);
    expect(RECORD_HEADER_BYTES).toBe(32);
    expect([
      OFF_CRC,
      OFF_TYPE,
      OFF_FLAGS,
      OFF_SEQ,
      OFF_EXPIRES,
      OFF_KEY_LEN,
      OFF_VALUE_LEN,
    ]).toEqual([0, 4, 5, 8, 16, 24, 28]);
    expect([TYPE_PUT, TYPE_DELETE, TYPE_BATCH_COMMIT, FLAG_IN_BATCH]).toEqual([1, 2, 3, 1]);
    expect(recordBytes(3, 5)).toBe(40);
  });

  it('encodes a sync mark to its golden bytes and reads its value back', () => {
    const b = encodeSyncMark(9, 4096);
    expect(hex(b)).toBe(GOLDEN_SYNC_MARK);
    const step = scanRecord(b, 0, b.length);
    expect(step.kind === 'record' && step.header.type).toBe(TYPE_SYNC_MARK);
    expect(syncMarkValue(b, 0)).toBe(4096);
    expect(syncMarkValue(encodeSyncMark(1, 2 ** 40 + 3), 0)).toBe(2 ** 40 + 3);
  });

  it('encodes the worked example to its golden bytes', () => {
    const b = encodeRecord(TYPE_PUT, 0, GOLDEN_SEQ, GOLDEN_EXPIRES, utf8('key'), utf8('value'));
    expect(hex(b)).toBe(GOLDEN_PUT);
  });

  it('decodes the golden bytes', () => {
    const b = fromHex(GOLDEN_PUT);
    expect(decodeHeader(b, 0)).toEqual({
      type: TYPE_PUT,
      flags: 0,
      seq: GOLDEN_SEQ,
      expiresAt: GOLDEN_EXPIRES,
      keyLength: 3,
      valueLength: 5,
    });
    expect(recordType(b, 0)).toBe(TYPE_PUT);
    expect(recordKeyLength(b, 0)).toBe(3);
    expect(recordValueLength(b, 0)).toBe(5);
    expect(recordExpiresAt(b, 0)).toBe(GOLDEN_EXPIRES);
    expect(recordChecksumOk(b, 0, b.length)).toBe(true);
    expect(scanRecord(b, 0, b.length)).toMatchObject({ kind: 'record', length: 40 });
  });

  it('round-trips any record, alone or at an offset inside a larger buffer', () => {
    fc.assert(
      fc.property(recordArb, fc.nat(64), (r, pad) => {
        const rec = encodeRecord(r.type, r.flags, r.seq, r.expiresAt, r.key, r.value);
        expect(rec.length).toBe(recordBytes(r.key.length, r.value.length));
        const b = new Uint8Array(pad + rec.length + pad).fill(0xa5);
        b.set(rec, pad);
        const step = scanRecord(b, pad, pad + rec.length);
        expect(step).toEqual({
          kind: 'record',
          length: rec.length,
          header: {
            type: r.type,
            flags: r.flags,
            seq: r.seq,
            expiresAt: r.expiresAt,
            keyLength: r.key.length,
            valueLength: r.value.length,
          },
        });
        const keyAt = pad + RECORD_HEADER_BYTES;
        expect(b.subarray(keyAt, keyAt + r.key.length)).toEqual(r.key);
        expect(b.subarray(keyAt + r.key.length, pad + rec.length)).toEqual(r.value);
      }),
    );
  });

  it('laying out a header then sealing it in place gives the same bytes as encodeRecord', () => {
    fc.assert(
      fc.property(recordArb, fc.nat(16), (r, at) => {
        const length = recordBytes(r.key.length, r.value.length);
        const b = new Uint8Array(at + length).fill(0xff); // stale bytes must all be overwritten
        writeRecordHeader(b, at, r.type, r.flags, r.expiresAt, r.key.length, r.value.length);
        b.set(r.key, at + RECORD_HEADER_BYTES);
        b.set(r.value, at + RECORD_HEADER_BYTES + r.key.length);
        expect(recordChecksumOk(b, at, length)).toBe(false); // CRC and seq not stamped yet
        sealRecord(b, at, r.seq);
        expect(hex(b.subarray(at))).toBe(
          hex(encodeRecord(r.type, r.flags, r.seq, r.expiresAt, r.key, r.value)),
        );
      }),
    );
  });
});

describe('scanRecord', () => {
  it('reports short when fewer than 32 bytes remain, or fewer than the record needs', () => {
    const b = fromHex(GOLDEN_PUT);
    for (let end = 0; end < b.length; end++) {
      expect(scanRecord(b, 0, end), `prefix of ${end} bytes`).toEqual({ kind: 'short' });
    }
    expect(scanRecord(b, 10, b.length)).toEqual({ kind: 'short' });
  });

  it('reports bad for an unknown record type even when the CRC matches', () => {
    for (const type of [0, 5, 0xff]) {
      const b = fromHex(GOLDEN_PUT);
      b[OFF_TYPE] = type;
      sealRecord(b, 0, GOLDEN_SEQ); // recompute the CRC: only the type is wrong
      expect(recordChecksumOk(b, 0, b.length)).toBe(true);
      const step = scanRecord(b, 0, b.length);
      expect(step.kind).toBe('bad');
      expect(step.kind === 'bad' && step.reason).toMatch(/type/);
    }
  });

  it('reports bad on a checksum mismatch', () => {
    const b = fromHex(GOLDEN_PUT);
    b[b.length - 1] ^= 0x01;
    const step = scanRecord(b, 0, b.length);
    expect(step.kind).toBe('bad');
    expect(step.kind === 'bad' && step.reason).toMatch(/checksum/);
  });

  it('reports bad when the lengths add up past the largest locatable record', () => {
    const b = fromHex(GOLDEN_PUT);
    new DataView(b.buffer).setUint32(OFF_KEY_LEN, 0xffff_ffff, true);
    expect(RECORD_HEADER_BYTES + 0xffff_ffff).toBeGreaterThan(MAX_RECORD_BYTES);
    expect(scanRecord(b, 0, b.length).kind).toBe('bad');
  });

  it('detects every single-bit flip in the worked example', () => {
    const golden = fromHex(GOLDEN_PUT);
    for (let bit = 0; bit < golden.length * 8; bit++) {
      const b = golden.slice();
      b[bit >> 3] ^= 1 << (bit & 7);
      const kind = scanRecord(b, 0, b.length).kind;
      expect(kind === 'bad' || kind === 'short', `bit ${bit} gave ${kind}`).toBe(true);
    }
  });

  it('never accepts a record with any single bit flipped (property)', () => {
    fc.assert(
      fc.property(
        recordArb,
        fc.uint8Array({ maxLength: 64 }), // whatever follows in the segment
        fc.nat(),
        (r, after, bitSeed) => {
          const rec = encodeRecord(r.type, r.flags, r.seq, r.expiresAt, r.key, r.value);
          const b = new Uint8Array(rec.length + after.length);
          b.set(rec);
          b.set(after, rec.length);
          const bit = bitSeed % (rec.length * 8);
          b[bit >> 3] ^= 1 << (bit & 7);
          // Scanned with the trailing bytes in range, as recovery scans a segment: a length field
          // that grew must not let the CRC pass over the next record's bytes either.
          const step = scanRecord(b, 0, b.length);
          expect(step.kind === 'bad' || step.kind === 'short', `bit ${bit}: ${step.kind}`).toBe(
            true,
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('batch commit records', () => {
  it('encodes the count as a little-endian u32 value', () => {
    expect(hex(encodeBatchCommitValue(0))).toBe('00000000');
    expect(hex(encodeBatchCommitValue(2))).toBe('02000000');
    expect(hex(encodeBatchCommitValue(0x0102_0304))).toBe('04030201');
    expect(hex(encodeBatchCommitValue(0xffff_ffff))).toBe('ffffffff');
  });

  it('encodes a commit of two records to its golden bytes', () => {
    const b = encodeRecord(
      TYPE_BATCH_COMMIT,
      0,
      7,
      0,
      new Uint8Array(0),
      encodeBatchCommitValue(2),
    );
    expect(hex(b)).toBe(GOLDEN_COMMIT_OF_2);
    expect(batchCommitCount(b, 0)).toBe(2);
  });

  it('reads the count back from a commit record anywhere in a buffer, whatever its key', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffff_ffff }),
        fc.uint8Array({ maxLength: 16 }),
        fc.nat(40),
        (count, key, at) => {
          const rec = encodeRecord(TYPE_BATCH_COMMIT, 0, 1, 0, key, encodeBatchCommitValue(count));
          const b = new Uint8Array(at + rec.length);
          b.set(rec, at);
          expect(scanRecord(b, at, b.length).kind).toBe('record');
          expect(batchCommitCount(b, at)).toBe(count);
        },
      ),
    );
  });

  it('a batch is its records with FLAG_IN_BATCH, then one commit naming their count', () => {
    const parts = [
      encodeRecord(TYPE_PUT, FLAG_IN_BATCH, 1, 0, utf8('a'), utf8('1')),
      encodeRecord(TYPE_DELETE, FLAG_IN_BATCH, 2, 0, utf8('b'), new Uint8Array(0)),
      encodeRecord(TYPE_BATCH_COMMIT, 0, 3, 0, new Uint8Array(0), encodeBatchCommitValue(2)),
    ];
    const b = Buffer.concat(parts);
    const seen: { type: number; inBatch: boolean }[] = [];
    let at = 0;
    let lastCommitAt = -1;
    while (at < b.length) {
      const step = scanRecord(b, at, b.length);
      if (step.kind !== 'record') throw new Error(`unexpected ${step.kind} at ${at}`);
      seen.push({ type: step.header.type, inBatch: (step.header.flags & FLAG_IN_BATCH) !== 0 });
      if (step.header.type === TYPE_BATCH_COMMIT) lastCommitAt = at;
      at += step.length;
    }
    expect(seen).toEqual([
      { type: TYPE_PUT, inBatch: true },
      { type: TYPE_DELETE, inBatch: true },
      { type: TYPE_BATCH_COMMIT, inBatch: false },
    ]);
    expect(batchCommitCount(b, lastCommitAt)).toBe(2);
  });
});

describe('segment header', () => {
  it('encodes segment 1 to its golden bytes', () => {
    expect(SEGMENT_HEADER_BYTES).toBe(32);
    expect(hex(encodeSegmentHeader(1))).toBe(GOLDEN_SEGMENT_HEADER_1);
    expect(decodeSegmentHeader(fromHex(GOLDEN_SEGMENT_HEADER_1), 1)).toEqual({
      id: 1,
      version: 3,
      kind: KIND_LOG,
      first: 1,
      last: 1,
    });
    expect(Buffer.from(fromHex(GOLDEN_SEGMENT_HEADER_1).subarray(0, 4)).toString('latin1')).toBe(
      'KVDS',
    );
    expect(SEGMENT_MAGIC).toBe(0x5344564b);
  });

  it('encodes a merged segment 9 spanning segments 3..7 to its golden bytes', () => {
    expect(hex(encodeSegmentHeader(9, KIND_MERGED, 3, 7))).toBe(GOLDEN_MERGED_HEADER_9);
    expect(decodeSegmentHeader(fromHex(GOLDEN_MERGED_HEADER_9), 9)).toEqual({
      id: 9,
      version: 3,
      kind: KIND_MERGED,
      first: 3,
      last: 7,
    });
  });

  it('rejects spans no writer produces: a log segment not spanning its id, a merged one ending at or after its id', () => {
    const reseal = (h: Uint8Array) => {
      new DataView(h.buffer).setUint32(28, crcOfFirst(h, 28), true);
      return h;
    };
    const log = encodeSegmentHeader(5);
    new DataView(log.buffer).setUint32(16, 6, true);
    expect(checkSegmentHeader(reseal(log), 5)).toMatch(/kind 0 spanning 5\.\.6/);
    expect(checkSegmentHeader(encodeSegmentHeader(7, KIND_MERGED, 3, 7), 7)).toMatch(/spanning/);
    expect(checkSegmentHeader(encodeSegmentHeader(9, KIND_MERGED, 8, 3), 9)).toMatch(/spanning/);
    const kind = encodeSegmentHeader(5);
    new DataView(kind.buffer).setUint16(6, 2, true);
    expect(checkSegmentHeader(reseal(kind), 5)).toMatch(/kind 2/);
  });

  it('round-trips any segment id, also when the header sits at a non-zero byteOffset', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff_ffff }), fc.nat(32), (id, pad) => {
        const h = encodeSegmentHeader(id);
        expect(checkSegmentHeader(h, id)).toBeUndefined();
        const file = new Uint8Array(pad + SEGMENT_HEADER_BYTES + 8);
        file.set(h, pad);
        expect(checkSegmentHeader(file.subarray(pad), id)).toBeUndefined();
      }),
    );
  });

  it('rejects a header cut short', () => {
    const h = encodeSegmentHeader(1);
    for (let n = 0; n < SEGMENT_HEADER_BYTES; n++) {
      expect(checkSegmentHeader(h.subarray(0, n), 1)).toMatch(/cut short/);
    }
  });

  it('rejects a bad magic', () => {
    const h = encodeSegmentHeader(1);
    h[0] = 0x4c; // "LVDS"
    expect(checkSegmentHeader(h, 1)).toMatch(/magic/);
  });

  it('rejects a checksum mismatch anywhere in bytes 6..31 (bytes 4..5 name another version)', () => {
    for (let byte = 4; byte < 6; byte++) {
      const h = encodeSegmentHeader(1);
      h[byte] ^= 0x10;
      expect(checkSegmentHeader(h, 1), `byte ${byte}`).toMatch(/unsupported format version/);
    }
    for (let byte = 6; byte < SEGMENT_HEADER_BYTES; byte++) {
      const h = encodeSegmentHeader(1);
      h[byte] ^= 0x10;
      expect(checkSegmentHeader(h, 1), `byte ${byte}`).toMatch(/checksum/);
    }
  });

  it('names the version of an older store (v1: a 16-byte header) instead of a checksum error', () => {
    const v1 = new Uint8Array(16);
    const v = new DataView(v1.buffer);
    v.setUint32(0, SEGMENT_MAGIC, true);
    v.setUint16(4, 1, true);
    v.setUint32(8, 1, true);
    expect(checkSegmentHeader(v1, 1)).toBe('unsupported format version 1');
    // Callers decide by the typed reason, never by the words.
    expect(decodeSegmentHeader(v1, 1)).toEqual({ reason: 'unsupported-version', version: 1 });
    expect(decodeSegmentHeader(v1.subarray(0, 3), 1)).toEqual({ reason: 'cut-short' });
  });

  it('rejects another format version even with a valid checksum', () => {
    const h = encodeSegmentHeader(1);
    const v = new DataView(h.buffer);
    v.setUint16(4, 1, true);
    v.setUint32(28, crcOfFirst(h, 28), true);
    expect(checkSegmentHeader(h, 1)).toMatch(/version 1/);
  });

  it('reads a format 2 header (written before sync marks) and says which version it is', () => {
    const h = encodeSegmentHeader(1);
    const v = new DataView(h.buffer);
    v.setUint16(4, 2, true);
    v.setUint32(28, crcOfFirst(h, 28), true);
    expect(decodeSegmentHeader(h, 1)).toEqual({
      id: 1,
      version: 2,
      kind: KIND_LOG,
      first: 1,
      last: 1,
    });
    expect(decodeSegmentHeader(encodeSegmentHeader(1), 1)).toMatchObject({ version: 3 });
  });

  it('rejects a header that names another segment id', () => {
    expect(checkSegmentHeader(encodeSegmentHeader(2), 1)).toMatch(/id 2/);
  });
});

describe('findNextRecord', () => {
  it('finds where valid records resume after damage, at any offset, and nothing in noise', () => {
    const a = encodeRecord(TYPE_PUT, 0, 1, 0, utf8('a'), utf8('1'));
    const b = encodeRecord(TYPE_DELETE, 0, 2, 0, utf8('bb'), new Uint8Array(0));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (noise) => {
        const image = new Uint8Array(a.length + noise.length + b.length);
        image.set(a);
        image.set(noise, a.length);
        image.set(b, a.length + noise.length);
        // From just past the first record's start, the first match is the second record (or
        // an accidental valid record inside the noise, which needs a CRC collision).
        const found = findNextRecord(image, 1, image.length);
        expect(found).toBe(a.length + noise.length);
      }),
    );
    expect(findNextRecord(new Uint8Array(100), 0, 100)).toBe(-1);
    expect(findNextRecord(a, 0, a.length - 1)).toBe(-1); // cut short: not whole
  });
});

describe('segment file names', () => {
  it('pads ids to six digits and parses them back', () => {
    expect(segmentFileName(1)).toBe('000001.log');
    expect(segmentFileName(123456)).toBe('123456.log');
    expect(segmentFileName(1234567)).toBe('1234567.log');
    fc.assert(
      fc.property(fc.nat({ max: 0xffff_ffff }), (id) => {
        expect(parseSegmentFileName(segmentFileName(id))).toBe(id);
      }),
    );
  });

  it('ignores every other name in the data directory', () => {
    for (const name of [
      '00001.log',
      '000001.log.torn-16',
      '000001.hint',
      'MANIFEST',
      'LOCK',
      '000001.LOG',
      'x000001.log',
    ]) {
      expect(parseSegmentFileName(name), name).toBeUndefined();
    }
  });
});

/** Bitwise CRC32C, independent of src/shared/crc32c.ts, for re-sealing edited headers. */
function crcOfFirst(b: Uint8Array, n: number): number {
  let crc = 0xffff_ffff;
  for (let i = 0; i < n; i++) {
    crc ^= b[i]!;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}
