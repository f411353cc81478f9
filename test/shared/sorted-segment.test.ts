// Sorted segments round trip (src/shared/sorted-segment-writer.ts, sorted-segment-reader.ts):
// fast-check against a sorted in-memory model (point gets, forward and reverse walks from random
// seek keys, the bloom filter's lack of false negatives, the properties), compression through an
// injected codec, a chunked read source, and the writer's refusals.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvError } from '../../dist/shared/errors.js';
import { TYPE_PUT } from '../../dist/shared/format.js';
import {
  BLOCK_TRAILER_BYTES,
  type BlockDecompressor,
  COMPRESSION_LZ4,
  COMPRESSION_NONE,
  SortedDecodeFailure,
  type SortedEntry,
} from '../../dist/shared/sorted-format.js';
import {
  openSortedSegment,
  type SortedSegmentReader,
  type SortedSegmentSource,
} from '../../dist/shared/sorted-segment-reader.js';
import { SortedSegmentWriter } from '../../dist/shared/sorted-segment-writer.js';
import {
  buildSortedFile,
  byKey,
  del,
  entriesArb,
  keyArb,
  layoutArb,
  put,
  rleCompressor,
  rleDecompressor,
} from '../fixtures/sorted-segment-files.js';

const utf8 = new TextEncoder();

function open(file: Uint8Array | SortedSegmentSource): SortedSegmentReader {
  const reader = openSortedSegment(file, { decompressor: rleDecompressor });
  if (reader instanceof SortedDecodeFailure) throw new Error(`open failed: ${reader.reason}`);
  return reader;
}

/** Plain-data form of an entry, so that equality ignores Buffer versus Uint8Array. */
function plain(e: SortedEntry | SortedDecodeFailure | undefined): unknown {
  if (!e || e instanceof SortedDecodeFailure) return e;
  return {
    ...e,
    key: Buffer.from(e.key).toString('hex'),
    value: Buffer.from(e.value).toString('hex'),
  };
}

function walk(
  reader: SortedSegmentReader,
  key: Uint8Array | undefined,
  reverse: boolean,
): unknown[] {
  return [...reader.seek(key, { reverse })].map(plain);
}

/** What a walk from `key` should yield, from the model. */
function expectedWalk(
  model: readonly SortedEntry[],
  key: Uint8Array | undefined,
  reverse: boolean,
) {
  const from = key
    ? model.filter((e) =>
        reverse ? Buffer.compare(e.key, key) <= 0 : Buffer.compare(e.key, key) >= 0,
      )
    : [...model];
  return (reverse ? from.reverse() : from).map(plain);
}

describe('sorted segment against a sorted model', () => {
  it('point gets, walks from random seek keys both ways, filter and properties agree', () => {
    fc.assert(
      fc.property(
        entriesArb,
        layoutArb,
        fc.array(keyArb, { maxLength: 8 }),
        fc.boolean(),
        (model, layout, probes, compress) => {
          const file = buildSortedFile(model, {
            ...layout,
            ...(compress ? { compressor: rleCompressor } : {}),
          });
          const reader = open(file);
          for (const e of model) {
            expect(reader.mayContain(e.key)).toBe(true);
            expect(plain(reader.get(e.key))).toEqual(plain(e));
          }
          const present = new Set(model.map((e) => Buffer.from(e.key).toString('hex')));
          for (const k of probes) {
            if (!present.has(Buffer.from(k).toString('hex'))) expect(reader.get(k)).toBeUndefined();
          }
          const seeks: (Uint8Array | undefined)[] = [undefined, ...probes];
          if (model.length > 0) seeks.push(model[model.length >> 1]!.key);
          for (const k of seeks) {
            for (const reverse of [false, true]) {
              expect(walk(reader, k, reverse)).toEqual(expectedWalk(model, k, reverse));
            }
          }
          const p = reader.properties;
          expect(p.entries).toBe(model.length);
          expect(p.tombstones).toBe(model.filter((e) => e.type !== TYPE_PUT).length);
          expect(p.expiring).toBe(model.filter((e) => e.expiresAt !== 0).length);
          expect(p.minSeq).toBe(model.length ? Math.min(...model.map((e) => e.seq)) : 0);
          expect(p.maxSeq).toBe(model.length ? Math.max(...model.map((e) => e.seq)) : 0);
          expect(p.keyBytes).toBe(model.reduce((n, e) => n + e.key.length, 0));
          expect(p.valueBytes).toBe(model.reduce((n, e) => n + e.value.length, 0));
          expect(p.dataBlocks).toBe(reader.blockCount);
          expect(p.compression).toBe(compress ? COMPRESSION_LZ4 : COMPRESSION_NONE);
          if (model.length > 0) {
            expect(Buffer.from(p.firstKey)).toEqual(Buffer.from(model[0]!.key));
            expect(Buffer.from(p.lastKey)).toEqual(Buffer.from(model[model.length - 1]!.key));
          }
          expect(reader.footer).toMatchObject({ segmentId: 9, first: 3, last: 7 });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('fence posts lie between neighbouring blocks and the last one is the last key', () => {
    fc.assert(
      fc.property(entriesArb, layoutArb, (model, layout) => {
        const reader = open(buildSortedFile(model, layout));
        for (let i = 0; i < reader.blockCount; i++) {
          const entries = reader.readBlock(i) as SortedEntry[];
          const last = entries[entries.length - 1]!.key;
          expect(Buffer.compare(last, reader.fence(i))).toBeLessThanOrEqual(0);
          if (i + 1 < reader.blockCount) {
            const next = reader.readBlock(i + 1) as SortedEntry[];
            expect(Buffer.compare(reader.fence(i), next[0]!.key)).toBeLessThan(0);
          } else {
            expect(Buffer.compare(last, reader.fence(i))).toBe(0);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('reads the same through a source that returns copies of the bytes asked for', () => {
    fc.assert(
      fc.property(entriesArb, layoutArb, (model, layout) => {
        const file = buildSortedFile(model, layout);
        const reads: number[] = [];
        const source: SortedSegmentSource = {
          size: file.length,
          read(offset, length) {
            reads.push(length);
            return file.slice(offset, offset + length);
          },
        };
        const reader = open(source);
        expect(walk(reader, undefined, false)).toEqual(model.map(plain));
        if (model.length > 0) {
          reads.length = 0;
          expect(plain(reader.get(model[0]!.key))).toEqual(plain(model[0]));
          expect(reads.length).toBe(1); // one data block, nothing else
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('sorted segment compression', () => {
  const repetitive = Array.from({ length: 200 }, (_, i) =>
    put(`key:${String(i).padStart(4, '0')}`, 'x'.repeat(100), i + 1),
  );

  it('stores a block that shrinks compressed and one that does not raw', () => {
    const random = new Uint8Array(3000).map((_, i) => (i * 7919 + (i >> 3) * 104729) & 0xff);
    const file = buildSortedFile([...repetitive, { ...put('z', '', 999), value: random }], {
      compressor: rleCompressor,
    });
    const reader = open(file);
    const types = Array.from({ length: reader.blockCount }, (_, i) => {
      const h = reader.blockHandle(i);
      return file[h.offset + h.size]!;
    });
    expect(types).toContain(COMPRESSION_LZ4);
    expect(types[types.length - 1]).toBe(COMPRESSION_NONE);
    expect(file.length).toBeLessThan(buildSortedFile([...repetitive]).length);
    expect(walk(reader, undefined, false)).toHaveLength(repetitive.length + 1);
  });

  it('names a compressed block it cannot decompress, or one that decompresses wrongly', () => {
    const file = buildSortedFile(repetitive, { compressor: rleCompressor });
    const key = repetitive[0]!.key;
    const getWith = (decompressor?: BlockDecompressor) => {
      // The index (fence posts without runs) is stored raw, so open succeeds: the data block fails.
      const reader = openSortedSegment(file, decompressor ? { decompressor } : {});
      expect(reader).not.toBeInstanceOf(SortedDecodeFailure);
      return (reader as SortedSegmentReader).get(key);
    };
    expect(getWith()).toMatchObject({ reason: 'compression-unavailable', region: 'data' });
    expect(getWith({ decompress: () => undefined })).toMatchObject({
      reason: 'compression-unavailable',
    });
    expect(getWith({ decompress: (_t, _b, n) => new Uint8Array(n + 1) })).toMatchObject({
      reason: 'bad-compression',
      region: 'data',
    });
    const thrower: BlockDecompressor = {
      decompress: () => {
        throw new Error('garbage');
      },
    };
    expect(getWith(thrower)).toMatchObject({ reason: 'bad-compression', offset: 0 });
    const kvThrower = (error: KvError): BlockDecompressor => ({
      decompress: () => {
        throw error;
      },
    });
    expect(getWith(kvThrower(new KvError('KV_CORRUPTION', 'bad lz4')))).toMatchObject({
      reason: 'bad-compression',
    });
    // A binding that does not load is not damage: its error reaches the caller.
    const missing = new KvError('KV_INVALID_ARGUMENT', 'lz4 binding missing');
    expect(() => getWith(kvThrower(missing))).toThrow(missing);
  });
});

describe('sorted segment edge cases', () => {
  it('an empty segment opens, holds nothing and has a filter that says absent', () => {
    const reader = open(buildSortedFile([]));
    expect(reader.blockCount).toBe(0);
    expect(reader.get(utf8.encode('a'))).toBeUndefined();
    expect(reader.mayContain(utf8.encode('a'))).toBe(false);
    expect([...reader.seek()]).toEqual([]);
    expect([...reader.seek(undefined, { reverse: true })]).toEqual([]);
    expect(reader.properties).toMatchObject({ entries: 0, minSeq: 0, maxSeq: 0, dataBlocks: 0 });
  });

  it('keeps the empty key, an empty value and seq 2^53-1', () => {
    const model = [
      { key: new Uint8Array(0), type: TYPE_PUT, value: new Uint8Array(0), seq: 0, expiresAt: 0 },
      put('a', '', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
      del('b', 1),
    ] as SortedEntry[];
    const reader = open(buildSortedFile(model, { blockBytes: 1 }));
    expect(reader.blockCount).toBe(3);
    for (const e of model) expect(plain(reader.get(e.key))).toEqual(plain(e));
  });

  it('the writer refuses keys out of order, malformed entries and adds after finish', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof KvError ? e.code : 'not a KvError';
      }
      return undefined;
    };
    const w = new SortedSegmentWriter({ segmentId: 1, first: 1, last: 1 });
    w.add(put('b', 'v', 1));
    expect(code(() => w.add(put('b', 'v', 2)))).toBe('KV_INTERNAL');
    expect(code(() => w.add(put('a', 'v', 2)))).toBe('KV_INTERNAL');
    expect(code(() => w.add(put('c', 'v', -1)))).toBe('KV_INTERNAL');
    expect(code(() => w.add(put('c', 'v', 2 ** 53)))).toBe('KV_INTERNAL');
    expect(code(() => w.add({ ...del('c', 2), value: utf8.encode('x') }))).toBe('KV_INTERNAL');
    expect(code(() => w.add({ ...del('c', 2), expiresAt: 5 }))).toBe('KV_INTERNAL');
    w.add(put('c', 'v', 2));
    w.finish();
    expect(code(() => w.add(put('d', 'v', 3)))).toBe('KV_INTERNAL');
    expect(code(() => w.finish())).toBe('KV_INTERNAL');
  });

  it('cuts data blocks near the target size', () => {
    const model = Array.from({ length: 2000 }, (_, i) =>
      put(`user:${String(i).padStart(6, '0')}`, 'v'.repeat(100), i + 1),
    );
    const file = buildSortedFile(model);
    const reader = open(file);
    for (let i = 0; i + 1 < reader.blockCount; i++) {
      const size = reader.blockHandle(i).size;
      expect(size).toBeGreaterThanOrEqual(4096 - 200);
      expect(size).toBeLessThanOrEqual(4096 + 200);
    }
    expect(reader.blockHandle(1).offset).toBe(reader.blockHandle(0).size + BLOCK_TRAILER_BYTES);
    // ~110 bytes of user data an entry; the file adds a few bytes each, the filter ~1.25.
    expect(file.length / (model.length * 111)).toBeLessThan(1.06);
    expect([...model].sort(byKey)).toEqual(model);
  });
});
