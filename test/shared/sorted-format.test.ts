// Golden bytes of FORMAT.md's sorted-segment worked example, written by the writer and read
// back field by field, and the footer's and blocks' refusals with their typed reasons.

import { describe, expect, it } from 'vitest';
import { FILTER_HASH_MURMUR3_PAIR } from '../../dist/shared/bloom-filter.js';
import { crc32c } from '../../dist/shared/crc32c.js';
import { TYPE_DELETE, TYPE_PUT } from '../../dist/shared/format.js';
import {
  FOOTER_BYTES,
  SORTED_MAGIC,
  SORTED_VERSION,
  SortedDecodeFailure,
  sortedCorruption,
} from '../../dist/shared/sorted-format.js';
import {
  openSortedSegment,
  type SortedSegmentReader,
} from '../../dist/shared/sorted-segment-reader.js';
import { buildSortedFile, del, put } from '../fixtures/sorted-segment-files.js';

const fromHex = (h: string): Uint8Array =>
  new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const utf8 = new TextEncoder();

// FORMAT.md's worked example, laid out by hand from its tables; the CRCs and filter bits were
// computed by an independent encoder (Python: bitwise CRC32C, MurmurHash3 x86_32 checked
// against SMHasher's vectors), not by src/shared.
const BASE = 0x0102_0304_0506;
const EXPIRES = 1_700_000_000_000;
const GOLDEN_DATA_BLOCK = [
  '00 00 05 03 00 6170706c65 726564', // put apple=red, seq delta 0
  '01 02 05 03 7269636f74', // delete ap|ricot, seq delta 3
  '02 00 06 06 01 80d095ffbc31 62616e616e61 79656c6c6f77', // put banana=yellow, delta 1, expiry
  '0605040302010000', // base seq
  '00000000 01000000', // one restart at 0
  '00 339327dc', // trailer: raw, CRC32C 0xDC279333
].join('');
const GOLDEN_INDEX_BLOCK = '00 06 3d 62616e616e61 00 96de0504'; // fence "banana", size 61
const GOLDEN_FILTER_BLOCK = '01 07 4406155408854434 00 590c29b1'; // hash 1, 7 probes, 64 bits
const GOLDEN_PROPERTIES_BLOCK = [
  '03 01 01', // entries, tombstones, expiring
  '868a9098a020 898a9098a020', // min seq, max seq
  '12 09 01 00', // key bytes, value bytes, data blocks, compression
  '05 6170706c65 06 62616e616e61', // first key, last key
  '00 a8382d21', // trailer
].join('');
const GOLDEN_FOOTER = [
  '4200000000000000 5000000000000000 5f00000000000000', // index, filter, properties offsets
  '09000000 0a000000 20000000', // their sizes
  '09000000 03000000 07000000', // segment id 9, first 3, last 7
  '0100 0000', // version 1, flags (none: a key run's prefix-shared entries)
  '38ad54c5', // footer CRC32C 0xC554AD38
  '4b564454', // "KVDT"
].join('');
const GOLDEN = fromHex(
  GOLDEN_DATA_BLOCK +
    GOLDEN_INDEX_BLOCK +
    GOLDEN_FILTER_BLOCK +
    GOLDEN_PROPERTIES_BLOCK +
    GOLDEN_FOOTER,
);
const GOLDEN_ENTRIES = [
  put('apple', 'red', BASE),
  del('apricot', BASE + 3),
  put('banana', 'yellow', BASE + 1, EXPIRES),
];

function open(file: Uint8Array): SortedSegmentReader {
  const reader = openSortedSegment(file);
  if (reader instanceof SortedDecodeFailure) throw new Error(`open failed: ${reader.reason}`);
  return reader;
}

/** `file` with its footer CRC recomputed (to reach the checks after it). */
function resealFooter(file: Uint8Array): Uint8Array {
  const at = file.length - FOOTER_BYTES;
  new DataView(file.buffer, file.byteOffset).setUint32(at + 52, crc32c(file, at, at + 52), true);
  return file;
}

describe('sorted segment golden bytes (FORMAT.md worked example)', () => {
  it('the writer produces exactly the documented 192 bytes', () => {
    expect(GOLDEN.length).toBe(192);
    expect(Buffer.from(buildSortedFile(GOLDEN_ENTRIES)).toString('hex')).toBe(
      Buffer.from(GOLDEN).toString('hex'),
    );
  });

  it('the reader decodes every documented field', () => {
    const r = open(GOLDEN);
    expect(r.footer).toEqual({
      index: { offset: 66, size: 9 },
      filter: { offset: 80, size: 10 },
      properties: { offset: 95, size: 32 },
      segmentId: 9,
      first: 3,
      last: 7,
      pointEntries: false,
      compressedValues: false,
    });
    expect(r.blockCount).toBe(1);
    expect(r.blockHandle(0)).toEqual({ offset: 0, size: 61 });
    expect(Buffer.from(r.fence(0)).toString()).toBe('banana');
    expect(r.filter).toMatchObject({ usable: true, bits: 64, probes: 7 });
    expect({ ...r.properties, firstKey: '', lastKey: '' }).toEqual({
      entries: 3,
      tombstones: 1,
      expiring: 1,
      minSeq: BASE,
      maxSeq: BASE + 3,
      keyBytes: 18,
      valueBytes: 9,
      dataBlocks: 1,
      compression: 0,
      firstKey: '',
      lastKey: '',
    });
    expect(r.get(utf8.encode('apple'))).toMatchObject({ type: TYPE_PUT, seq: BASE, expiresAt: 0 });
    expect(r.get(utf8.encode('apricot'))).toMatchObject({ type: TYPE_DELETE, seq: BASE + 3 });
    const banana = r.get(utf8.encode('banana'));
    expect(banana).toMatchObject({ type: TYPE_PUT, seq: BASE + 1, expiresAt: EXPIRES });
    expect(Buffer.from((banana as { value: Uint8Array }).value).toString()).toBe('yellow');
    expect(r.get(utf8.encode('banana2'))).toBeUndefined(); // after the last fence post
    expect(r.get(utf8.encode('apricots'))).toBeUndefined();
  });

  it('names the constants the example shows', () => {
    expect(SORTED_MAGIC).toBe(0x5444564b);
    expect(SORTED_VERSION).toBe(1);
    expect(FOOTER_BYTES).toBe(60);
    expect(FILTER_HASH_MURMUR3_PAIR).toBe(1);
  });
});

describe('sorted segment refusals', () => {
  const at = GOLDEN.length - FOOTER_BYTES;

  it('a wrong magic, a later version, a footer CRC, unknown flags and handles', () => {
    const magic = GOLDEN.slice();
    magic[GOLDEN.length - 1] = 0x55;
    expect(openSortedSegment(magic)).toMatchObject({
      reason: 'bad-magic',
      offset: at + 56,
      region: 'footer',
    });
    // Version 2 (a data segment with compressed values) is read; 3 is not.
    const two = GOLDEN.slice();
    two[at + 48] = 2;
    expect(openSortedSegment(resealFooter(two))).toMatchObject({
      footer: { compressedValues: true },
    });
    const version = GOLDEN.slice();
    version[at + 48] = 3;
    expect(openSortedSegment(version)).toMatchObject({
      reason: 'unsupported-version',
      offset: at + 48,
    });
    expect(openSortedSegment(resealFooter(version))).toMatchObject({
      reason: 'unsupported-version',
    });
    const crc = GOLDEN.slice();
    crc[at + 36] ^= 1;
    expect(openSortedSegment(crc)).toMatchObject({
      reason: 'checksum',
      offset: at,
      region: 'footer',
    });
    const reserved = GOLDEN.slice();
    reserved[at + 50] = 2; // flag bit 1 is not defined (bit 0: point entries)
    expect(openSortedSegment(resealFooter(reserved))).toMatchObject({ reason: 'bad-footer' });
    const handle = GOLDEN.slice();
    handle[at + 24] = 8; // index size 8: the index no longer ends where the filter starts
    expect(openSortedSegment(resealFooter(handle))).toMatchObject({ reason: 'bad-footer' });
    expect(openSortedSegment(GOLDEN.subarray(0, FOOTER_BYTES - 1))).toMatchObject({
      reason: 'truncated',
    });
  });

  it('a damaged data block is a checksum failure on the read, with its offset', () => {
    const damaged = GOLDEN.slice();
    damaged[7] ^= 0x20; // inside "apple"
    const r = open(damaged);
    const failure = r.get(utf8.encode('banana'));
    expect(failure).toMatchObject({ reason: 'checksum', offset: 0, region: 'data' });
    const error = sortedCorruption(failure as SortedDecodeFailure, '000009.sst');
    expect(error.code).toBe('KV_CORRUPTION');
    expect([...r.seek()]).toEqual([failure]);
  });

  it('a filter of an unknown hash (its CRC intact) is ignored, not trusted', () => {
    const file = GOLDEN.slice();
    file[80] = 2; // hash id 2
    new DataView(file.buffer).setUint32(91, crc32c(file, 80, 91), true);
    const r = open(file);
    expect(r.filter.usable).toBe(false);
    expect(r.mayContain(utf8.encode('anything'))).toBe(true);
    expect(r.get(utf8.encode('apple'))).toMatchObject({ seq: BASE });
  });
});
