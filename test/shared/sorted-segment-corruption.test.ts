// Damage to a sorted segment in memory, LevelDB log_test style: every single-byte flip of a
// multi-block file (data blocks, index, filter, properties, footer), of both layouts (key runs,
// and data segments whose point entries a get reads one by one), random flips of random
// files, and every truncation, each yields a typed failure on open or on the reads that touch
// the damaged bytes — never a wrong value, never a silent miss.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BLOCK_TRAILER_BYTES,
  FOOTER_BYTES,
  SortedDecodeFailure,
  type SortedEntry,
  type SortedRegion,
} from '../../dist/shared/sorted-format.js';
import {
  openSortedSegment,
  readSortedProperties,
  type SortedSegmentReader,
} from '../../dist/shared/sorted-segment-reader.js';
import { SortedSegmentWriter } from '../../dist/shared/sorted-segment-writer.js';
import { StoredRecord } from '../../dist/shared/stored-record.js';
import {
  buildSortedFile,
  del,
  entriesArb,
  layoutArb,
  put,
  rleCompressor,
  rleDecompressor,
} from '../fixtures/sorted-segment-files.js';

const options = { decompressor: rleDecompressor };

function same(a: SortedEntry, b: SortedEntry): boolean {
  return (
    Buffer.compare(a.key, b.key) === 0 &&
    Buffer.compare(a.value, b.value) === 0 &&
    a.type === b.type &&
    a.seq === b.seq &&
    a.expiresAt === b.expiresAt
  );
}

/**
 * Walks the whole of `reader` both ways, and forward with the block cursor (`walkForward`), and
 * returns whether every walk yielded a failure. Throws (failing the test) if a walk yields a
 * wrong entry, or ends before the model without a failure.
 */
function walksFail(reader: SortedSegmentReader, model: readonly SortedEntry[]): boolean {
  let failed = false;
  for (const reverse of [false, true]) {
    const expected = reverse ? [...model].reverse() : model;
    let n = 0;
    let stopped = false;
    for (const got of reader.seek(undefined, { reverse })) {
      if (got instanceof SortedDecodeFailure) {
        stopped = true;
        break;
      }
      if (!same(got, expected[n]!)) throw new Error(`walk yielded a wrong entry at ${n}`);
      n++;
    }
    if (!stopped && n !== expected.length) throw new Error('walk ended early without a failure');
    failed ||= stopped;
  }
  // The cursor walk range scans use: the same keys in order, or a failure.
  let n = 0;
  let stopped = false;
  for (const got of reader.walkForward()) {
    if (got instanceof SortedDecodeFailure) {
      stopped = true;
      break;
    }
    const key = got.key.subarray(0, got.keyLength);
    if (Buffer.compare(key, model[n]!.key) !== 0) throw new Error(`cursor walk wrong key at ${n}`);
    n++;
  }
  if (!stopped && n !== model.length) throw new Error('cursor walk ended early without a failure');
  return failed && stopped;
}

/**
 * Reads all of `file` the way a careful caller would, and returns whether any read reported a
 * failure. Throws (failing the test) on a wrong entry or a silent miss: a get of a key that is in the file
 * must return that entry or a failure, and a walk must yield the model's entries in order until
 * it yields a failure.
 */
function readAll(file: Uint8Array, model: readonly SortedEntry[]): boolean {
  const reader = openSortedSegment(file, options);
  if (reader instanceof SortedDecodeFailure) return true;
  let failed = false;
  for (const e of model) {
    const got = reader.get(e.key);
    if (got instanceof SortedDecodeFailure) failed = true;
    else if (!got || !same(got, e)) throw new Error('get returned a wrong entry or missed');
  }
  return walksFail(reader, model) || failed;
}

/** Each model entry's file offset and length in a point-entry file built as buildSortedFile does. */
function pointLocations(model: readonly SortedEntry[]): { offset: number; length: number }[] {
  const writer = new SortedSegmentWriter({
    segmentId: 9,
    first: 3,
    last: 7,
    blockBytes: 128,
    restartInterval: 3,
    pointEntries: true,
  });
  return model.map((e) => {
    writer.add(e);
    return { offset: writer.lastEntryOffset, length: writer.lastEntryLength };
  });
}

/**
 * Reads each model entry of point-entry `file` at its own offset, as a get through the index
 * does, and returns the indexes of those that decode with a good checksum yet differ.
 */
function pointReadsGoneWrong(file: Uint8Array, model: readonly SortedEntry[]): number[] {
  const record = new StoredRecord();
  const wrong: number[] = [];
  pointLocations(model).forEach(({ offset, length }, n) => {
    if (!record.decode(file, offset, length, true)) return;
    if (!StoredRecord.checksumOk(file, offset, length, true)) return;
    const e = model[n]!;
    const key = file.subarray(record.keyStart, record.keyStart + record.keyLength);
    const value = file.subarray(record.valueStart, record.valueStart + record.valueLength);
    if (
      Buffer.compare(key, e.key) !== 0 ||
      Buffer.compare(value, e.value) !== 0 ||
      record.type !== e.type ||
      record.seq !== e.seq ||
      record.expiresAt !== e.expiresAt
    ) {
      wrong.push(n);
    }
  });
  return wrong;
}

// Key runs (shared key prefixes, compressed blocks) and data segments (point entries, each with
// its own checksum, never compressed; a get through the index reads one entry at its offset).
describe.each([
  ['key run', { compressor: rleCompressor }],
  ['data segment', { pointEntries: true }],
] as const)('sorted segment byte flips: %s', (_layout, layoutOptions) => {
  // Many small blocks, deletes, expiries, a long key and a compressed block or two.
  const model: SortedEntry[] = Array.from({ length: 48 }, (_, i) => {
    const key = `k:${String(i).padStart(3, '0')}`;
    if (i % 5 === 0) return del(key, 1000 - i);
    return put(
      key,
      i % 7 === 0 ? 'r'.repeat(60) : `v${i}`,
      2000 + i,
      i % 3 ? 0 : 1_700_000_000_000 + i,
    );
  });
  model.splice(20, 0, put(`k:019${'~'.repeat(300)}`, 'long key', 5));
  const file = buildSortedFile(model, { blockBytes: 128, restartInterval: 3, ...layoutOptions });
  const points = 'pointEntries' in layoutOptions;
  const intact = openSortedSegment(file, options) as SortedSegmentReader;

  function regionOf(offset: number): { region: SortedRegion; block?: number } {
    for (let i = 0; i < intact.blockCount; i++) {
      const h = intact.blockHandle(i);
      if (offset < h.offset + h.size + BLOCK_TRAILER_BYTES) return { region: 'data', block: i };
    }
    for (const region of ['index', 'filter', 'properties'] as const) {
      const h = intact.footer[region];
      if (offset < h.offset + h.size + BLOCK_TRAILER_BYTES) return { region };
    }
    return { region: 'footer' };
  }

  it('the file is as the test needs it: many blocks, some compressed (key runs)', () => {
    expect(intact).not.toBeInstanceOf(SortedDecodeFailure);
    expect(intact.blockCount).toBeGreaterThanOrEqual(8);
    expect(readAll(file, model)).toBe(false);
    const types = Array.from({ length: intact.blockCount }, (_, i) => {
      const h = intact.blockHandle(i);
      return file[h.offset + h.size];
    });
    expect(new Set(types).size).toBe(points ? 1 : 2);
  });

  it('every flip of every byte is caught where it lies, by the reads that touch it', () => {
    // The data block each model entry lies in.
    const blockOf: number[] = [];
    for (let i = 0; i < intact.blockCount; i++) {
      for (const _ of intact.readBlock(i) as SortedEntry[]) blockOf.push(i);
    }
    // Checked without expect() in the loop (thousands of files): wrong outcomes are listed.
    const wrong: string[] = [];
    for (let at = 0; at < file.length; at++) {
      const { region, block } = regionOf(at);
      for (const mask of [0x01, 0x80, 0xff]) {
        const damaged = file.slice();
        damaged[at]! ^= mask;
        const where = `flip ${mask} at ${at} (${region} ${block ?? ''})`;
        const reader = openSortedSegment(damaged, options);
        if (region !== 'data') {
          if (
            !(reader instanceof SortedDecodeFailure) ||
            reader.region !== region ||
            (region === 'filter' && reader.reason !== 'checksum')
          ) {
            wrong.push(`${where}: open gave ${JSON.stringify(reader)}`);
          }
          continue;
        }
        if (reader instanceof SortedDecodeFailure) {
          wrong.push(`${where}: open failed`);
          continue;
        }
        const blockStart = intact.blockHandle(block!).offset;
        model.forEach((e, n) => {
          const got = reader.get(e.key);
          const ok =
            blockOf[n] === block
              ? got instanceof SortedDecodeFailure &&
                got.region === 'data' &&
                got.offset === blockStart
              : got !== undefined && !(got instanceof SortedDecodeFailure) && same(got, e);
          if (!ok) wrong.push(`${where}: get #${n} gave ${JSON.stringify(got)}`);
        });
        if (!walksFail(reader, model)) wrong.push(`${where}: walks saw no failure`);
        if (points) {
          for (const n of pointReadsGoneWrong(damaged, model)) {
            wrong.push(`${where}: point read #${n} gave a wrong entry`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('readSortedProperties (recovery behind an index snapshot) catches every flip in the footer and properties, and reads past the rest', () => {
    const source = (bytes: Uint8Array) => ({
      size: bytes.length,
      read: (o: number, n: number) => bytes.subarray(o, o + n),
    });
    expect(readSortedProperties(source(file), options)).toMatchObject({
      properties: { dataBlocks: intact.blockCount },
    });
    const wrong: string[] = [];
    for (let at = 0; at < file.length; at++) {
      const { region } = regionOf(at);
      const damaged = file.slice();
      damaged[at]! ^= 0x20;
      const got = readSortedProperties(source(damaged), options);
      const caught = got instanceof SortedDecodeFailure;
      if (region === 'footer' || region === 'properties') {
        if (!caught || got.region !== region) wrong.push(`flip at ${at} (${region}): ${got}`);
      } else if (caught) wrong.push(`flip at ${at} (${region}) failed: ${JSON.stringify(got)}`);
    }
    expect(wrong).toEqual([]);
  });

  // Data segments only (key runs are never read by point).
  if (!points) return;
  it('a point read at each entry offset checks that entry alone', () => {
    expect(pointReadsGoneWrong(file, model)).toEqual([]);
    // Each flip inside an entry fails that entry's own checksum (or its structure).
    const locations = pointLocations(model);
    const record = new StoredRecord();
    for (const { offset, length } of locations) {
      for (let at = offset; at < offset + length; at++) {
        const damaged = file.slice();
        damaged[at]! ^= 0x10;
        const ok =
          record.decode(damaged, offset, length, true) &&
          StoredRecord.checksumOk(damaged, offset, length, true);
        expect(ok, `flip at ${at}`).toBe(false);
      }
    }
  });

  it('every truncation, and bytes appended, fail to open', () => {
    for (let length = 0; length < file.length; length++) {
      expect(openSortedSegment(file.subarray(0, length), options)).toBeInstanceOf(
        SortedDecodeFailure,
      );
      // A source whose stated size is right but whose reads come up short.
      const short = {
        size: file.length,
        read: (o: number, n: number) => file.subarray(o, Math.min(o + n, length)),
      };
      const r = openSortedSegment(short, options);
      if (!(r instanceof SortedDecodeFailure))
        expect(readAll(file.subarray(0, length), model)).toBe(true);
    }
    const longer = new Uint8Array(file.length + 1);
    longer.set(file);
    expect(openSortedSegment(longer, options)).toMatchObject({
      reason: 'bad-magic',
      region: 'footer',
    });
    expect(file.length).toBeGreaterThan(FOOTER_BYTES);
  });
});

describe('sorted segment random damage', () => {
  it('a random flip in a random file is a failure somewhere, never a wrong entry', () => {
    fc.assert(
      fc.property(
        entriesArb,
        layoutArb,
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (model, layout, compress, where, mask) => {
          const file = buildSortedFile(model, {
            ...layout,
            ...(compress ? { compressor: rleCompressor } : {}),
          });
          const damaged = file.slice();
          damaged[where % file.length]! ^= mask;
          expect(readAll(damaged, model)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
