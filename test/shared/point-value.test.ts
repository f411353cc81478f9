// A point entry's compressed value (point-value.ts): what is compressed and what is stored as it
// is, the round trip through each codec, and refusals of fields that do not decode. Then the
// data segment writer and reader with compressed values: version 2, flagged entries, whole
// values back from get, seek and the cursor walk, and every flip of such a file caught.

import { describe, expect, it } from 'vitest';
import { compressorFor } from '../../dist/shared/block-compression.js';
import { TYPE_PUT } from '../../dist/shared/format.js';
import {
  compressValue,
  decompressValue,
  MIN_COMPRESSED_VALUE_BYTES,
} from '../../dist/shared/point-value.js';
import {
  COMPRESSION_LZ4,
  COMPRESSION_ZSTD,
  isSortedFailure,
  SORTED_VERSION_COMPRESSED_VALUES,
  type SortedEntry,
} from '../../dist/shared/sorted-format.js';
import { openSortedSegment } from '../../dist/shared/sorted-segment-reader.js';
import { buildSortedFile } from '../fixtures/sorted-segment-files.js';

const json = (i: number): Buffer =>
  Buffer.from(JSON.stringify({ id: i, name: `name-${i}`, text: 'lorem ipsum dolor '.repeat(20) }));

const random = (n: number): Buffer => {
  const out = Buffer.alloc(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
};

describe('compressed point values', () => {
  for (const [name, type] of [
    ['lz4', COMPRESSION_LZ4],
    ['zstd', COMPRESSION_ZSTD],
  ] as const) {
    const compressor = compressorFor(name);

    it(`${name}: compresses what saves 1/8, round trips, stores the rest as it is`, () => {
      const value = json(1);
      const field = compressValue(compressor, value)!;
      expect(field.length).toBeLessThan(value.length * 0.875);
      expect(field[0]).toBe(type);
      expect(Buffer.from(decompressValue(field, 0, field.length))).toEqual(value);
      // Within a larger buffer, at an offset.
      const framed = Buffer.concat([Buffer.from('xyz'), field, Buffer.from('!')]);
      expect(Buffer.from(decompressValue(framed, 3, field.length))).toEqual(value);
      expect(compressValue(compressor, random(4096))).toBeUndefined();
      expect(
        compressValue(compressor, Buffer.alloc(MIN_COMPRESSED_VALUE_BYTES - 1)),
      ).toBeUndefined();
      expect(compressValue(compressor, Buffer.alloc(MIN_COMPRESSED_VALUE_BYTES))).toBeDefined();
    });

    it(`${name}: a field that does not decode is KV_CORRUPTION`, () => {
      const field = compressValue(compressor, json(2))!;
      const corrupt = (bytes: Uint8Array) => () => decompressValue(bytes, 0, bytes.length);
      const code = expect.objectContaining({ code: 'KV_CORRUPTION' });
      expect(corrupt(field.subarray(0, 1))).toThrow(code); // no raw length
      const none = field.slice();
      none[0] = 0; // "none" is never a compressed value
      expect(corrupt(none)).toThrow(code);
      const length = field.slice();
      length[1] = length[1]! ^ 0x01; // another raw length
      expect(corrupt(length)).toThrow(code);
      const unknown = field.slice();
      unknown[0] = 9;
      expect(corrupt(unknown)).toThrow(code);
      expect(corrupt(field.subarray(0, field.length - 3))).toThrow(code);
    });
  }

  it('writes the FORMAT.md example byte for byte', () => {
    const field = compressValue(compressorFor('lz4'), Buffer.from('abc'.repeat(40)))!;
    expect(Buffer.from(field).toString('hex')).toBe(
      ['01', '78', '78000000', '3f616263', '03005c60', '616263616263'].join(''),
    );
  });

  it("'none' compresses nothing", () => {
    expect(compressValue(compressorFor('none'), json(3))).toBeUndefined();
  });
});

describe('a data segment with compressed values', () => {
  const entries: SortedEntry[] = [];
  for (let i = 0; i < 300; i++) {
    const key = Buffer.from(`key:${String(i).padStart(5, '0')}`);
    const value = i % 3 === 0 ? random(200) : i % 3 === 1 ? json(i) : Buffer.from(`v${i}`);
    entries.push({ key, type: TYPE_PUT, value, seq: i + 1, expiresAt: 0 });
  }
  const file = buildSortedFile(entries, { pointEntries: true, compressor: compressorFor('lz4') });
  const plain = buildSortedFile(entries, { pointEntries: true });

  it('is version 2, smaller, and returns every value whole through get, seek and the cursor', () => {
    const reader = openSortedSegment(file);
    if (isSortedFailure(reader)) throw new Error(reader.reason);
    expect(reader.footer.compressedValues).toBe(true);
    expect(file.length).toBeLessThan(plain.length * 0.8);
    const version = new DataView(file.buffer, file.byteOffset).getUint16(file.length - 12, true);
    expect(version).toBe(SORTED_VERSION_COMPRESSED_VALUES);
    for (const e of entries) {
      const got = reader.get(e.key) as SortedEntry;
      expect(Buffer.from(got.value)).toEqual(Buffer.from(e.value));
    }
    const walked = [...reader.seek()] as SortedEntry[];
    expect(walked.map((e) => Buffer.from(e.value))).toEqual(
      entries.map((e) => Buffer.from(e.value)),
    );
    let compressed = 0;
    for (const cursor of reader.walkForward()) {
      if (isSortedFailure(cursor)) throw new Error(cursor.reason);
      if (cursor.compressed) compressed++;
    }
    expect(compressed).toBe(100); // the JSON ones: random bytes do not shrink, short ones are short
    const plainReader = openSortedSegment(plain);
    if (isSortedFailure(plainReader)) throw new Error(plainReader.reason);
    expect(plainReader.footer.compressedValues).toBe(false);
  });

  it('a byte flip (every 3rd offset) is a failure or the right value, never a wrong one', () => {
    const byKey = new Map(entries.map((e) => [Buffer.from(e.key).toString('hex'), e.value]));
    for (let at = 0; at < file.length; at += 3) {
      const flipped = file.slice();
      flipped[at] = flipped[at]! ^ 0x10;
      const reader = openSortedSegment(flipped);
      if (isSortedFailure(reader)) continue;
      for (const got of reader.seek()) {
        if (isSortedFailure(got)) break;
        const want = byKey.get(Buffer.from(got.key).toString('hex'));
        if (want === undefined || Buffer.compare(got.value, want) !== 0) {
          throw new Error(`a flip at ${at} read a wrong entry`);
        }
      }
    }
  });
});
