// Tests for the read path every thread runs (src/shared/record-reader.ts, read-batch.ts,
// segment-fds.ts), on segment files crafted byte by byte and indexed by recovery: key and value
// packing round trips, reply buffers growing past their first guess, damaged records raising
// KV_CORRUPTION (never bytes), expiry, fingerprint collisions, and per-thread fd handling.

import { appendFileSync, mkdirSync, readSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { KvError } from '../../dist/shared/errors.js';
import {
  OFF_KEY_LEN,
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
} from '../../dist/shared/format.js';
import { IndexTable } from '../../dist/shared/index-table.js';
import { createLogger } from '../../dist/shared/logger.js';
import {
  packKeys,
  readPresence,
  readValues,
  unpackKeys,
  unpackValues,
} from '../../dist/shared/read-batch.js';
import { RecordReader } from '../../dist/shared/record-reader.js';
import { type ReadMode, SegmentFds } from '../../dist/shared/segment-fds.js';
import { IndexPublisher } from '../../dist/workers/index-publisher.js';
import { recover } from '../../dist/workers/recovery.js';
import { SegmentTable } from '../../dist/workers/segments.js';
import { rec, removeTempDirs, segment, tempDir, text, utf8 } from './worker-harness.js';

afterEach(removeTempDirs);

const name = (id: number): string => `${String(id).padStart(6, '0')}.log`;

/** Segment files in a temp dir, indexed by recovery, with a reader over that index. */
async function indexed(
  files: Record<number, Uint8Array>,
  hashBits = 32,
  readMode: ReadMode = 'pread',
): Promise<{ dir: string; index: IndexTable; reader: RecordReader; dispose(): void }> {
  const dir = await tempDir('reader');
  for (const [id, bytes] of Object.entries(files))
    writeFileSync(join(dir, name(Number(id))), bytes);
  const index = IndexTable.create(0, hashBits);
  const segments = new SegmentTable(dir, index);
  const publisher = new IndexPublisher(index, segments);
  try {
    recover(segments, publisher, createLogger('test'));
  } finally {
    publisher.close();
  }
  const reader = new RecordReader(dir, index, readMode);
  return { dir, index, reader, dispose: () => reader.close() };
}

function expectKvError(fn: () => unknown, code: string, label = ''): KvError {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    if (!(error instanceof KvError)) throw error;
    expect(error.code, `${label} ${error.message}`).toBe(code);
    return error;
  }
  return expect.fail(`${label}: expected ${code}, got ${String(result)}`);
}

describe('read-batch: packing', () => {
  it('unpackKeys(packKeys(keys)) gives every key as its UTF-8 bytes (property)', () => {
    const keyArb = fc.oneof(fc.string({ unit: 'grapheme' }), fc.uint8Array({ maxLength: 40 }));
    fc.assert(
      fc.property(fc.array(keyArb, { maxLength: 30 }), (keys) => {
        const unpacked = unpackKeys(packKeys(keys));
        expect(unpacked.map((k) => Buffer.from(k).toString('hex'))).toEqual(
          keys.map((k) => Buffer.from(typeof k === 'string' ? utf8(k) : k).toString('hex')),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('packs zero keys into the 4-byte count alone', () => {
    expect(packKeys([]).byteLength).toBe(4);
    expect(unpackKeys(packKeys([]))).toEqual([]);
  });
});

describe('read-batch: readValues and readPresence', () => {
  it('round-trips values of any size through one reply, absent keys as undefined (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(15), fc.uint8Array({ maxLength: 600 })), { maxLength: 20 }),
        fc.array(fc.nat(19), { maxLength: 25 }),
        async (puts, asked) => {
          const model = new Map<string, Uint8Array>();
          const records = puts.map(([k, v], i) => {
            model.set(`k${k}`, v);
            return rec(i + 1, 'put', `k${k}`, v);
          });
          const f = await indexed({ 1: segment(1, records) });
          try {
            const keys = asked.map((k) => `k${k}`);
            const reply = readValues(f.reader, unpackKeys(packKeys(keys)));
            const values = unpackValues(reply, keys.length);
            expect(values.map((v) => v && Buffer.from(v).toString('hex'))).toEqual(
              keys.map((k) => {
                const v = model.get(k);
                return v && Buffer.from(v).toString('hex');
              }),
            );
            const presence = new Uint8Array(readPresence(f.reader, unpackKeys(packKeys(keys))));
            expect([...presence]).toEqual(keys.map((k) => (model.has(k) ? 1 : 0)));
          } finally {
            f.dispose();
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('grows the reply buffer past its first guess for big values, keeping earlier values intact', async () => {
    const big = new Uint8Array(100_000).map((_, i) => i % 251);
    const f = await indexed({
      1: segment(1, [
        rec(1, 'put', 'small', 'tiny'),
        rec(2, 'put', 'big', big),
        rec(3, 'put', 'after', 'x'),
      ]),
    });
    try {
      const keys = ['small', 'missing', 'big', 'after'];
      const firstGuess = 8 * keys.length + keys.length * (RECORD_HEADER_BYTES + 128);
      const reply = readValues(f.reader, unpackKeys(packKeys(keys)));
      expect(reply.byteLength).toBeGreaterThan(firstGuess);
      const [small, missing, bigValue, after] = unpackValues(reply, keys.length);
      expect(text(small)).toBe('tiny');
      expect(missing).toBeUndefined();
      expect(Buffer.from(bigValue!).equals(Buffer.from(big))).toBe(true);
      expect(text(after)).toBe('x');
      // Presence reads a record bigger than its 4 KiB scratch too.
      expect([...new Uint8Array(readPresence(f.reader, unpackKeys(packKeys(keys))))]).toEqual([
        1, 0, 1, 1,
      ]);
    } finally {
      f.dispose();
    }
  });

  it('reports expired keys as absent in getMany and has', async () => {
    const f = await indexed({
      1: segment(1, [
        rec(1, 'put', 'gone', 'v', { expiresAt: Date.now() - 1 }),
        rec(2, 'put', 'kept', 'v', { expiresAt: Date.now() + 3_600_000 }),
      ]),
    });
    try {
      const keys = unpackKeys(packKeys(['gone', 'kept']));
      expect(unpackValues(readValues(f.reader, keys), 2).map(text)).toEqual([undefined, 'v']);
      expect([...new Uint8Array(readPresence(f.reader, keys))]).toEqual([0, 1]);
      expect(f.reader.get('gone')).toBeUndefined();
    } finally {
      f.dispose();
    }
  });
});

const READ_MODES: readonly ReadMode[] = ['pread', 'mmap'];

describe.each(READ_MODES)('RecordReader (readMode %s)', (mode) => {
  it('reads string and byte keys alike, and the right record among colliding fingerprints', async () => {
    // hashBits 1: every key has tag 2 or 3, so each lookup walks candidates of other keys.
    const records = [];
    for (let i = 0; i < 40; i++) records.push(rec(i + 1, 'put', `key${i}`, `value${i}`));
    records.push(rec(41, 'put', 'é-ü', 'unicode'), rec(42, 'del', 'key7'));
    const f = await indexed({ 1: segment(1, records) }, 1, mode);
    try {
      for (let i = 0; i < 40; i++)
        expect(text(f.reader.get(`key${i}`))).toBe(i === 7 ? undefined : `value${i}`);
      expect(text(f.reader.get(utf8('key3')))).toBe('value3');
      expect(text(f.reader.get('é-ü'))).toBe('unicode');
      expect(f.reader.get('key40')).toBeUndefined();
      expect(f.reader.get('')).toBeUndefined();
    } finally {
      f.dispose();
    }
  });

  describe('on a damaged record', () => {
    const before = rec(1, 'put', 'first', 'one');
    const target = rec(2, 'put', 'key', 'value', { expiresAt: Date.now() + 3_600_000 });
    const at = SEGMENT_HEADER_BYTES + before.length;
    const keyBytes = new Set<number>();
    for (let i = 0; i < 3; i++) keyBytes.add(RECORD_HEADER_BYTES + i); // the key
    for (let i = 0; i < 4; i++) keyBytes.add(OFF_KEY_LEN + i); // the key length

    /** For each byte offset in `offsets` of the record, flips it on disk and calls `probe`. */
    async function eachFlip(offsets: number[], probe: (f: RecordReader, i: number) => void) {
      const f = await indexed({ 1: segment(1, [before, target]) }, 32, mode);
      const path = join(f.dir, name(1));
      try {
        for (const i of offsets) {
          const damaged = Buffer.from(segment(1, [before, target]));
          damaged[at + i]! ^= 0x01;
          writeFileSync(path, damaged);
          probe(f.reader, i);
        }
      } finally {
        f.dispose();
      }
    }
    const all = [...Array(target.length).keys()];

    it('raises KV_CORRUPTION for a flipped header, value or CRC byte, and never returns bytes', async () => {
      await eachFlip(
        all.filter((i) => !keyBytes.has(i)),
        (reader, i) => {
          const error = expectKvError(() => reader.get('key'), 'KV_CORRUPTION');
          expect(error.message, `byte ${i}`).toContain(`${name(1)} at offset ${at}`);
          expectKvError(() => readValues(reader, [utf8('key')]), 'KV_CORRUPTION');
          expectKvError(() => readPresence(reader, [utf8('key')]), 'KV_CORRUPTION');
        },
      );
    });

    it('raises KV_CORRUPTION for a flipped key or key-length byte rather than reading the key as absent', async () => {
      await eachFlip([...keyBytes], (reader, i) => {
        const error = expectKvError(() => reader.get('key'), 'KV_CORRUPTION', `byte ${i}`);
        expect(error.message, `byte ${i}`).toContain(name(1));
      });
    });

    it('never returns bytes from a damaged record, whatever byte is flipped', async () => {
      await eachFlip(all, (reader, i) => {
        let value: Buffer | undefined;
        try {
          value = reader.get('key');
        } catch (error) {
          if (!(error instanceof KvError)) throw error;
        }
        expect(value, `byte ${i}`).toBeUndefined();
      });
    });

    it('raises KV_CORRUPTION when the segment ends before the record', async () => {
      const f = await indexed({ 1: segment(1, [before, target]) }, 32, mode);
      try {
        expect(text(f.reader.get('key'))).toBe('value');
        truncateSync(join(f.dir, name(1)), at + 10);
        expectKvError(() => f.reader.get('key'), 'KV_CORRUPTION');
        expect(text(f.reader.get('first'))).toBe('one');
      } finally {
        f.dispose();
      }
    });
  });

  it('raises KV_IO when the segment cannot be read or opened', async () => {
    const f = await indexed(
      {
        1: segment(1, [rec(1, 'put', 'a', 'one')]),
        2: segment(2, [rec(2, 'put', 'b', 'two')]),
      },
      32,
      mode,
    );
    try {
      const p1 = join(f.dir, name(1));
      const p2 = join(f.dir, name(2));
      // Outside damage: segment 1 replaced by a directory (it opens, but a read fails with
      // EISDIR), segment 2 removed (the open fails).
      rmSync(p1);
      mkdirSync(p1);
      rmSync(p2);
      expectKvError(() => f.reader.get('a'), 'KV_IO');
      expectKvError(() => f.reader.get('b'), 'KV_IO');
    } finally {
      f.dispose();
    }
  });
});

describe('SegmentFds', () => {
  it('opens a segment per handle once, and reopens when the handle names another segment', async () => {
    const dir = await tempDir('fds');
    writeFileSync(join(dir, name(1)), segment(1, [rec(1, 'put', 'one', '1')]));
    writeFileSync(join(dir, name(2)), segment(2, [rec(2, 'put', 'two', '2')]));
    const index = IndexTable.create();
    const fds = new SegmentFds(dir, index);
    const idAt8 = (fd: number): number => {
      const b = Buffer.alloc(4);
      readSync(fd, b, 0, 4, 8);
      return b.readUInt32LE(0);
    };
    try {
      index.segments.writerSet(5, 1);
      const fd1 = fds.fdFor(5);
      expect(fds.fdFor(5)).toBe(fd1); // cached
      expect(idAt8(fd1)).toBe(1);
      expect(fds.nameOf(5)).toBe(name(1));
      // The handle is reused for segment 2: the stale fd is closed and the new file opened.
      index.segments.writerSet(5, 2);
      const fd2 = fds.fdFor(5);
      expect(idAt8(fd2)).toBe(2);
      expect(fds.nameOf(5)).toBe(name(2));
      // A handle freed in the index is an internal error, and the stale fd is not kept.
      index.segments.writerSet(5, 0);
      expectKvError(() => fds.fdFor(5), 'KV_INTERNAL');
      index.segments.writerSet(6, 9);
      expectKvError(() => fds.fdFor(6), 'KV_IO');
    } finally {
      fds.closeAll();
    }
  });

  it('closeAll closes every cached fd', async () => {
    const dir = await tempDir('fds-close');
    writeFileSync(join(dir, name(1)), segment(1, []));
    const index = IndexTable.create();
    index.segments.writerSet(1, 1);
    index.segments.writerSet(2, 1);
    const fds = new SegmentFds(dir, index);
    const a = fds.fdFor(1);
    const b = fds.fdFor(2);
    fds.closeAll();
    for (const fd of [a, b]) {
      // Closed: a read fails with EBADF unless the number was reused by a new open since.
      let code: string | undefined;
      try {
        readSync(fd, Buffer.alloc(1), 0, 1, 0);
      } catch (error) {
        code = (error as NodeJS.ErrnoException).code;
      }
      expect(code).toBe('EBADF');
    }
    // Nothing stale is cached: the next lookup opens the file afresh.
    const c = fds.fdFor(1);
    try {
      expect(readSync(c, Buffer.alloc(4), 0, 4, 0)).toBe(4);
    } finally {
      fds.closeAll();
    }
  });
});

describe('SegmentFds in readMode mmap', () => {
  const pattern = (from: number, length: number): Buffer =>
    Buffer.from(Array.from({ length }, (_, i) => (from + i) % 251));

  it('views the file through a map, remaps when a read passes the map, and refuses a read past the end of the file', async () => {
    const dir = await tempDir('fds-map');
    const path = join(dir, name(1));
    writeFileSync(path, pattern(0, 5000));
    const index = IndexTable.create();
    index.segments.writerSet(1, 1);
    // Maps cover multiples of 4 KiB here (64 MiB in production), so appends soon pass them.
    const fds = new SegmentFds(dir, index, 'mmap', 4096);
    try {
      const first = fds.view(1, 4000, 50);
      expect(first.byteLength).toBe(8192); // the map itself: 5000 bytes rounded up to 4 KiB
      expect(Buffer.from(first.subarray(fds.viewAt, fds.viewAt + 50))).toEqual(pattern(4000, 50));
      // The file grows (as the active segment does) past the map: the next read remaps it,
      // and the old map is detached (any view of it is empty, never a dangling pointer).
      appendFileSync(path, pattern(5000, 10_000));
      const second = fds.view(1, 12_000, 100);
      expect(second.byteLength).toBe(16_384);
      expect(first.byteLength).toBe(0);
      expect(Buffer.from(second.subarray(fds.viewAt, fds.viewAt + 100))).toEqual(
        pattern(12_000, 100),
      );
      // Inside the map but past the file's end: refused, since touching it would be SIGBUS.
      const error = expectKvError(() => fds.view(1, 14_990, 20), 'KV_CORRUPTION');
      expect(error.message).toContain(`${name(1)} ends before the record at offset 14990`);
      expect(Buffer.from(fds.view(1, 14_990, 10).subarray(fds.viewAt, fds.viewAt + 10))).toEqual(
        pattern(14_990, 10),
      );
    } finally {
      fds.closeAll();
    }
  });

  it('falls back to pread for a file it cannot map', async () => {
    const dir = await tempDir('fds-map-fail');
    writeFileSync(join(dir, name(1)), pattern(0, 5000));
    const index = IndexTable.create();
    index.segments.writerSet(1, 1);
    // A 1 PiB map cannot be made (ENOMEM): the read still succeeds, through pread.
    const fds = new SegmentFds(dir, index, 'mmap', 2 ** 50);
    try {
      const bytes = fds.view(1, 100, 50);
      expect(bytes.byteLength).toBeLessThan(5000); // the scratch buffer, not a map
      expect(Buffer.from(bytes.subarray(fds.viewAt, fds.viewAt + 50))).toEqual(pattern(100, 50));
      expectKvError(() => fds.view(1, 4990, 20), 'KV_CORRUPTION');
    } finally {
      fds.closeAll();
    }
  });

  it("releases a segment's map when its handle names another segment, and at closeAll", async () => {
    const dir = await tempDir('fds-map-retire');
    writeFileSync(join(dir, name(1)), segment(1, [rec(1, 'put', 'one', '1')]));
    writeFileSync(join(dir, name(2)), segment(2, [rec(2, 'put', 'two', '2')]));
    const index = IndexTable.create();
    index.segments.writerSet(5, 1);
    const fds = new SegmentFds(dir, index, 'mmap');
    try {
      const map1 = fds.view(5, 0, SEGMENT_HEADER_BYTES);
      expect(Buffer.from(map1.subarray(8, 12)).readUInt32LE(0)).toBe(1);
      index.segments.writerSet(5, 2);
      const map2 = fds.view(5, 0, SEGMENT_HEADER_BYTES);
      expect(map1.byteLength).toBe(0); // unmapped
      expect(Buffer.from(map2.subarray(8, 12)).readUInt32LE(0)).toBe(2);
      fds.closeAll();
      expect(map2.byteLength).toBe(0);
    } finally {
      fds.closeAll();
    }
  });
});
