// Tests for the checksum of a map's range by map id (`crc32cOfMap`, the addon's `mapId`,
// `crcWords` and `crc32cMapped`): equal to the bitwise reference over real maps of real files,
// refusals that keep every call inside a live map, ids and words per thread, two copies of the
// module on one thread, and the fallback for arrays that are not maps.

import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32c, crc32cOfMap } from '../../dist/shared/crc32c.js';
import { fileMaps, mapCrc32c } from '../../dist/shared/file-map.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';
import { distUrl, TestWorker, WorkerSources } from './thread-harness.js';

/** Bit-at-a-time CRC32C: slow, obviously right, no tables. */
function referenceCrc32c(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0xffff_ffff;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]!;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

const FILE_BYTES = 10_000;
const invalid = expect.objectContaining({ code: 'KV_INVALID_ARGUMENT' });

// Where the addon is missing (or the CPU has no instruction) there is nothing to map by id;
// crc32c.test.ts asserts the addon is built wherever it can be. KVD_CRC_JS_ONLY=1 turns the
// path off (every checksum in JS), so nothing here would call the addon.
const withAddon =
  fileMaps !== undefined && mapCrc32c !== undefined && process.env.KVD_CRC_JS_ONLY !== '1';

describe.runIf(withAddon)('crc32cOfMap over a map', () => {
  let dir: string;
  let file: string;
  let bytes: Uint8Array;
  let fd: number;

  beforeAll(async () => {
    dir = await makeTempDir('crc-map');
    file = join(dir, 'data');
    bytes = Uint8Array.from({ length: FILE_BYTES }, (_, i) => (i * 131 + (i >> 7)) & 0xff);
    writeFileSync(file, bytes);
    fd = openSync(file, 'r');
  });
  afterAll(async () => {
    closeSync(fd);
    await removeTempDirs();
  });

  const mapWhole = (): { buffer: ArrayBuffer; view: Uint8Array; id: number } => {
    const buffer = fileMaps!.map(fd, FILE_BYTES);
    return { buffer, view: new Uint8Array(buffer), id: mapCrc32c!.mapId(buffer) };
  };

  it('equals the bitwise reference for any range of the map', () => {
    const { buffer, view, id } = mapWhole();
    try {
      fc.assert(
        fc.property(fc.nat(FILE_BYTES), fc.nat(FILE_BYTES), (a, b) => {
          const start = Math.min(a, b);
          const end = Math.max(a, b);
          const expected = referenceCrc32c(bytes, start, end);
          expect(crc32cOfMap(id, view, start, end)).toBe(expected);
          expect(crc32c(view, start, end)).toBe(expected);
        }),
        { numRuns: 300 },
      );
    } finally {
      fileMaps!.unmap(buffer);
    }
  });

  it('gives live maps distinct ids and reuses an id once its map is unmapped', () => {
    const first = mapWhole();
    const second = mapWhole();
    expect(second.id).not.toBe(first.id);
    fileMaps!.unmap(first.buffer);
    const third = mapWhole();
    expect(third.id).toBe(first.id);
    expect(crc32cOfMap(third.id, third.view, 0, 100)).toBe(referenceCrc32c(bytes, 0, 100));
    fileMaps!.unmap(second.buffer);
    fileMaps!.unmap(third.buffer);
  });

  it('refuses an unmapped map, a range past its end and an id never given', () => {
    const { buffer, view, id } = mapWhole();
    expect(() => crc32cOfMap(id, view, 0, FILE_BYTES + 1)).toThrow(invalid);
    expect(() => crc32cOfMap(id, view, 20, 10)).toThrow(RangeError);
    expect(() => crc32cOfMap(100_000, view, 0, 10)).toThrow(invalid);
    fileMaps!.unmap(buffer);
    // The id no longer names anything: the call throws instead of reading unmapped memory.
    expect(() => crc32cOfMap(id, view, 0, 10)).toThrow(invalid);
    expect(() => mapCrc32c!.mapId(buffer)).toThrow(invalid);
    expect(() => mapCrc32c!.mapId(new ArrayBuffer(8))).toThrow(invalid);
  });

  it('checksums any other array in JS or by the instruction when the id is -1', () => {
    const plain = bytes.slice(0, 500);
    expect(crc32cOfMap(-1, plain, 3, 499)).toBe(referenceCrc32c(bytes, 3, 499));
  });

  it('two copies of the module on one thread checksum through the same words', async () => {
    // An application can load kvd's modules twice (two versions, or a bundler's copy) while
    // Node loads the addon once per thread: each copy must still get its own map's CRC.
    const sources = await WorkerSources.create();
    try {
      const path = await sources.write(
        'two-copies',
        `import { openSync } from 'node:fs';
         import { parentPort, workerData } from 'node:worker_threads';
         const one = await import('${distUrl('shared/crc32c.js')}?copy=1');
         const two = await import('${distUrl('shared/crc32c.js')}?copy=2');
         const { fileMaps, mapCrc32c } = await import('${distUrl('shared/file-map.js')}');
         const buffer = fileMaps.map(openSync(workerData.file, 'r'), workerData.length);
         const id = mapCrc32c.mapId(buffer);
         const view = new Uint8Array(buffer);
         const crcs = [];
         for (let end = 10; end <= workerData.length; end += 997)
           crcs.push([end, one.crc32cOfMap(id, view, 0, end), two.crc32cOfMap(id, view, 0, end)]);
         parentPort.postMessage({ distinct: one !== two, crcs });`,
      );
      const worker = new TestWorker(path, { file, length: FILE_BYTES });
      const reply = (await worker.next()) as { distinct: boolean; crcs: number[][] };
      expect(await worker.exited).toBe(0);
      expect(reply.distinct).toBe(true);
      expect(reply.crcs.length).toBeGreaterThan(5);
      for (const [end, a, b] of reply.crcs) {
        expect(a).toBe(referenceCrc32c(bytes, 0, end!));
        expect(b).toBe(a);
      }
    } finally {
      await sources.dispose();
    }
  });

  it('keeps each thread’s ids to itself', async () => {
    // Every map above is unmapped, so this thread's next map takes id 0, and so does a new
    // thread's first: the same id names a different file on each, and each gets its own CRC.
    const other = join(dir, 'other');
    const otherBytes = bytes.map((b) => b ^ 0x5a);
    writeFileSync(other, otherBytes);
    const main = mapWhole();
    const sources = await WorkerSources.create();
    try {
      const path = await sources.write(
        'map-crc',
        `import { openSync, closeSync } from 'node:fs';
         import { parentPort, workerData } from 'node:worker_threads';
         import { crc32cOfMap } from '${distUrl('shared/crc32c.js')}';
         import { fileMaps, mapCrc32c } from '${distUrl('shared/file-map.js')}';
         const fd = openSync(workerData.file, 'r');
         const buffer = fileMaps.map(fd, workerData.length);
         const id = mapCrc32c.mapId(buffer);
         parentPort.postMessage({ id, crc: crc32cOfMap(id, new Uint8Array(buffer), 0, workerData.length) });
         fileMaps.unmap(buffer);
         closeSync(fd);`,
      );
      const worker = new TestWorker(path, { file: other, length: FILE_BYTES });
      const reply = (await worker.next()) as { id: number; crc: number };
      expect(await worker.exited).toBe(0);
      expect(main.id).toBe(0);
      expect(reply.id).toBe(0);
      expect(reply.crc).toBe(referenceCrc32c(otherBytes, 0, FILE_BYTES));
      expect(crc32cOfMap(main.id, main.view, 0, FILE_BYTES)).toBe(
        referenceCrc32c(bytes, 0, FILE_BYTES),
      );
    } finally {
      fileMaps!.unmap(main.buffer);
      await sources.dispose();
    }
  });
});
