// Golden bytes of FORMAT.md's data-segment worked example (point entries), written by the
// writer and read back field by field; the point-entry codec's refusals; and the properties'
// log sequence number and entry bytes that only data segments carry.

import { describe, expect, it } from 'vitest';
import { TYPE_DELETE, TYPE_PUT } from '../../dist/shared/format.js';
import {
  decodePointEntry,
  PointEntryFields,
  pointEntryChecksumOk,
  pointEntryLength,
  writePointEntry,
} from '../../dist/shared/point-entry-format.js';
import {
  ENTRY_FLAG_COMPRESSED,
  ENTRY_FLAG_DELETE,
  ENTRY_FLAG_EXPIRES,
  SortedDecodeFailure,
} from '../../dist/shared/sorted-format.js';
import {
  openSortedSegment,
  type SortedSegmentReader,
} from '../../dist/shared/sorted-segment-reader.js';
import { StoredRecord } from '../../dist/shared/stored-record.js';
import { buildSortedFile, del, put } from '../fixtures/sorted-segment-files.js';

const fromHex = (h: string): Uint8Array =>
  new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const utf8 = new TextEncoder();

// FORMAT.md's data-segment example, laid out from its tables; every CRC was checked with an
// independent bitwise CRC32C (Python), not by src/shared.
const BASE = 0x0102_0304_0506;
const EXPIRES = 1_700_000_000_000;
const GOLDEN_ENTRIES_HEX = [
  'dc3220ec 00 05 03 868a9098a020 6170706c65 726564', // put apple=red, seq BASE
  '66e6e2a4 01 07 898a9098a020 61707269636f74', // delete apricot, seq BASE + 3
  'ad777d81 02 06 06 878a9098a020 80d095ffbc31 62616e616e61 79656c6c6f77', // banana, expiry
];
const GOLDEN = fromHex(
  [
    ...GOLDEN_ENTRIES_HEX,
    '0000000000000000', // base seq 0: point entries hold absolute numbers
    '00000000 01000000', // one restart at 0
    '00 cd655933', // trailer: raw, CRC32C 0x335965CD
    '00 06 57 62616e616e61 00 a98e46c3', // index: fence "banana", size 87
    '01 07 4406155408854434 00 590c29b1', // filter: as in the key-run example
    '03 01 01 868a9098a020 898a9098a020 12 09 01 00', // counts, seqs, bytes, blocks, compression
    '05 6170706c65 06 62616e616e61', // first key, last key
    '8b8a9098a020 47', // log seq BASE + 5, entry bytes 71
    '00 c55b40cb', // trailer
    '5c00000000000000 6a00000000000000 7900000000000000', // index, filter, properties offsets
    '09000000 0a000000 27000000', // their sizes
    '09000000 03000000 07000000', // segment id 9, first 3, last 7
    '0100 0100', // version 1, flags: point entries
    'fdffd6fc', // footer CRC32C 0xFCD6FFFD
    '4b564454', // "KVDT"
  ].join(''),
);
const ENTRIES = [
  put('apple', 'red', BASE),
  del('apricot', BASE + 3),
  put('banana', 'yellow', BASE + 1, EXPIRES),
];
const OFFSETS = [0, 21, 40];
const LENGTHS = [21, 19, 31];

function open(file: Uint8Array): SortedSegmentReader {
  const reader = openSortedSegment(file);
  if (reader instanceof SortedDecodeFailure) throw new Error(`open failed: ${reader.reason}`);
  return reader;
}

describe('data segment golden bytes (FORMAT.md worked example)', () => {
  it('the writer produces exactly the documented 225 bytes, and says where each entry lies', () => {
    expect(GOLDEN.length).toBe(225);
    const file = buildSortedFile(ENTRIES, { pointEntries: true, logSeq: BASE + 5 });
    expect(Buffer.from(file).toString('hex')).toBe(Buffer.from(GOLDEN).toString('hex'));
    expect(GOLDEN_ENTRIES_HEX.map((h) => fromHex(h).length)).toEqual(LENGTHS);
  });

  it('the reader decodes the footer flag, the properties and every entry', () => {
    const r = open(GOLDEN);
    expect(r.footer).toMatchObject({ pointEntries: true, segmentId: 9, first: 3, last: 7 });
    expect(r.blockHandle(0)).toEqual({ offset: 0, size: 87 });
    expect(r.properties).toMatchObject({ entries: 3, logSeq: BASE + 5, entryBytes: 71 });
    const banana = r.get(utf8.encode('banana'));
    expect(banana).toMatchObject({ type: TYPE_PUT, seq: BASE + 1, expiresAt: EXPIRES });
    expect(r.get(utf8.encode('apricot'))).toMatchObject({ type: TYPE_DELETE, seq: BASE + 3 });
  });

  it('each entry decodes alone at its offset, as a get through the index reads it', () => {
    const record = new StoredRecord();
    ENTRIES.forEach((e, n) => {
      const at = OFFSETS[n]!;
      expect(record.decode(GOLDEN, at, LENGTHS[n]!, true)).toBe(true);
      expect(StoredRecord.checksumOk(GOLDEN, at, LENGTHS[n]!, true)).toBe(true);
      expect(GOLDEN.subarray(record.keyStart, record.keyStart + record.keyLength)).toEqual(e.key);
      expect(GOLDEN.subarray(record.valueStart, record.valueStart + record.valueLength)).toEqual(
        e.value,
      );
      expect([record.seq, record.expiresAt, record.isPut]).toEqual([
        e.seq,
        e.expiresAt,
        e.type === TYPE_PUT,
      ]);
      // A length that is not the entry's own is refused, not read short or long.
      expect(record.decode(GOLDEN, at, LENGTHS[n]! - 1, true)).toBe(false);
      expect(record.decode(GOLDEN, at, LENGTHS[n]! + 1, true)).toBe(false);
    });
  });
});

describe('point entry codec', () => {
  it('writes what it measures, and reads back every field', () => {
    const cases = [
      { key: 'k', value: '', del: false, seq: 0, expiresAt: 0 },
      { key: 'key', value: 'v'.repeat(300), del: false, seq: 2 ** 53 - 1, expiresAt: 1 },
      { key: 'gone', value: '', del: true, seq: 127, expiresAt: 0 },
    ];
    for (const c of cases) {
      const key = utf8.encode(c.key);
      const value = utf8.encode(c.value);
      const length = pointEntryLength(key.length, value.length, c.del, c.seq, c.expiresAt);
      const out = new Uint8Array(length + 3);
      const type = c.del ? TYPE_DELETE : TYPE_PUT;
      const end = writePointEntry(out, 2, type, key, value, c.seq, c.expiresAt);
      expect(end).toBe(2 + length);
      expect(pointEntryChecksumOk(out, 2, length)).toBe(true);
      const f = new PointEntryFields();
      expect(decodePointEntry(out, 2, out.length, f)).toBe(true);
      expect(f).toMatchObject({
        type: c.del ? TYPE_DELETE : TYPE_PUT,
        keyLength: key.length,
        valueLength: value.length,
        seq: c.seq,
        expiresAt: c.expiresAt,
        end: 2 + length,
      });
    }
  });

  it('flags a compressed value, whose field starts with its codec', () => {
    const key = utf8.encode('doc');
    const field = Uint8Array.from([2, 0x05, 0xaa, 0xbb, 0xcc]); // zstd, raw length 5, payload
    const length = pointEntryLength(key.length, field.length, false, 9, 0);
    const out = new Uint8Array(length);
    writePointEntry(out, 0, TYPE_PUT, key, field, 9, 0, true);
    expect(out[4]).toBe(ENTRY_FLAG_COMPRESSED);
    expect(pointEntryChecksumOk(out, 0, length)).toBe(true);
    const f = new PointEntryFields();
    expect(decodePointEntry(out, 0, length, f)).toBe(true);
    expect(f).toMatchObject({ compressed: true, valueLength: field.length, seq: 9 });
    for (const codec of [0, 3]) {
      const copy = out.slice();
      copy[f.valueStart] = codec;
      expect(decodePointEntry(copy, 0, length, f), `codec ${codec}`).toBe(false);
    }
    // A delete written with the flag asked for is written without it.
    const gone = new Uint8Array(pointEntryLength(key.length, 0, true, 9, 0));
    writePointEntry(gone, 0, TYPE_DELETE, key, new Uint8Array(0), 9, 0, true);
    expect(gone[4]).toBe(ENTRY_FLAG_DELETE);
  });

  it('refuses unknown flags, a delete with an expiry, an expiry of 0, and bytes past the limit', () => {
    const f = new PointEntryFields();
    const entry = GOLDEN.slice(0, 21);
    expect(decodePointEntry(entry, 0, 21, f)).toBe(true);
    expect(decodePointEntry(entry, 0, 20, f)).toBe(false);
    const flags = (value: number) => {
      const copy = entry.slice();
      copy[4] = value;
      return decodePointEntry(copy, 0, copy.length, f);
    };
    expect(flags(0x08)).toBe(false);
    expect(flags(ENTRY_FLAG_DELETE | ENTRY_FLAG_EXPIRES)).toBe(false);
    // COMPRESSED: this value does not start with a codec (1 lz4, 2 zstd), and a delete never is.
    expect(flags(ENTRY_FLAG_COMPRESSED)).toBe(false);
    expect(flags(ENTRY_FLAG_DELETE | ENTRY_FLAG_COMPRESSED)).toBe(false);
    const zeroExpiry = fromHex('00000000 02 01 00 05 00 6b');
    expect(decodePointEntry(zeroExpiry, 0, zeroExpiry.length, f)).toBe(false);
    // A damaged byte anywhere after the checksum fails the checksum.
    for (let at = 4; at < entry.length; at++) {
      const copy = entry.slice();
      copy[at]! ^= 0x40;
      expect(pointEntryChecksumOk(copy, 0, copy.length), `byte ${at}`).toBe(false);
    }
  });
});
