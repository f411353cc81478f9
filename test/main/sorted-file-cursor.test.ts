// The range scan's walk of a data segment (sorted-file-cursor.ts) checks the order of point
// entries itself, on the key strings it makes: entries out of order within a block, or a block
// whose keys leave its fence posts, are KV_CORRUPTION even when every checksum holds (a file
// written wrong, not damaged), in both directions.

import { describe, expect, it } from 'vitest';
import { SortedFileCursor } from '../../dist/main/sorted-file-cursor.js';
import { crc32c } from '../../dist/shared/crc32c.js';
import { TYPE_PUT } from '../../dist/shared/format.js';
import type { SortedEntry } from '../../dist/shared/sorted-format.js';
import { openSortedSegment, SortedSegmentReader } from '../../dist/shared/sorted-segment-reader.js';
import { SortedSegmentWriter } from '../../dist/shared/sorted-segment-writer.js';

const KEYS = 120;

function entry(i: number): SortedEntry {
  return {
    key: Buffer.from(`key:${String(i).padStart(5, '0')}`),
    type: TYPE_PUT,
    value: Buffer.from(`value-${String(i).padStart(4, '0')}`),
    seq: 1,
    expiresAt: 0,
  };
}

/** A data segment of KEYS equal-length point entries in small blocks, and where each lies. */
function buildFile(): {
  file: Buffer;
  entries: { offset: number; length: number }[];
  blocks: { start: number; end: number }[];
} {
  const writer = new SortedSegmentWriter({
    segmentId: 9,
    first: 3,
    last: 7,
    blockBytes: 512,
    pointEntries: true,
  });
  const chunks: Uint8Array[] = [];
  const entries: { offset: number; length: number }[] = [];
  const blocks: { start: number; end: number }[] = [];
  let at = 0;
  for (let i = 0; i < KEYS; i++) {
    const chunk = writer.add(entry(i));
    entries.push({ offset: writer.lastEntryOffset, length: writer.lastEntryLength });
    if (chunk) {
      blocks.push({ start: at, end: at + chunk.length });
      chunks.push(chunk);
      at += chunk.length;
    }
  }
  chunks.push(writer.finish());
  return { file: Buffer.concat(chunks), entries, blocks };
}

/** Swaps entries `a` and `b` (of equal length), then seals the blocks they lie in again. */
function swapped(a: number, b: number): Buffer {
  const { file, entries, blocks } = buildFile();
  const x = entries[a]!;
  const y = entries[b]!;
  expect(x.length).toBe(y.length);
  const saved = Buffer.from(file.subarray(x.offset, x.offset + x.length));
  file.copy(file, x.offset, y.offset, y.offset + y.length);
  saved.copy(file, y.offset);
  for (const block of blocks) {
    if (
      !(x.offset >= block.start && x.offset < block.end) &&
      !(y.offset >= block.start && y.offset < block.end)
    )
      continue;
    // The trailer: a type byte, then the CRC32C of the payload and that byte.
    file.writeUInt32LE(crc32c(file, block.start, block.end - 4), block.end - 4);
  }
  return file;
}

function reader(file: Buffer): SortedSegmentReader {
  const opened = openSortedSegment(file);
  if (!(opened instanceof SortedSegmentReader)) throw new Error('the file does not open');
  return opened;
}

/** Every key a scan's walk of `file` yields, in the given direction. */
function walk(file: Buffer, reverse: boolean): string[] {
  const cursor = new SortedFileCursor(
    { file: '000009.sst', reader: reader(file), closed: false },
    { segmentId: 9, handle: 1, isVersion: () => true },
    undefined,
    reverse,
  );
  const keys: string[] = [];
  for (; cursor.key !== undefined; cursor.next()) {
    const got = cursor.entryIf(true);
    expect(got?.key.toString('latin1')).toBe(cursor.key);
    expect(got?.value?.toString()).toBe(`value-${cursor.key.slice(5)}`);
    keys.push(cursor.key);
  }
  return keys;
}

describe('a data segment walked by a range scan', () => {
  const { blocks, entries } = buildFile();
  /** The entries of the first block (those that lie before its end). */
  const firstBlock = entries.filter((e) => e.offset < blocks[0]!.end).length;

  it('yields every key in order both ways, with its value', () => {
    expect(blocks.length).toBeGreaterThan(2);
    const expected = Array.from({ length: KEYS }, (_, i) =>
      Buffer.from(entry(i).key).toString('latin1'),
    );
    expect(walk(buildFile().file, false)).toEqual(expected);
    expect(walk(buildFile().file, true)).toEqual([...expected].reverse());
  });

  it('refuses two entries out of order within a block, with their checksums intact', () => {
    const file = swapped(2, 3);
    for (const reverse of [false, true]) {
      expect(() => walk(file, reverse)).toThrow(expect.objectContaining({ code: 'KV_CORRUPTION' }));
    }
  });

  it('refuses blocks whose keys cross their fence posts', () => {
    // The first block's last entry and the second block's first trade places.
    const file = swapped(firstBlock - 1, firstBlock);
    for (const reverse of [false, true]) {
      expect(() => walk(file, reverse)).toThrow(expect.objectContaining({ code: 'KV_CORRUPTION' }));
    }
  });
});
