// Point reads check each record's checksum on the map's own bytes, by map id (crc32c.ts,
// `crc32cOfMap`). These tests hold that id to the array each read used: a segment that cannot
// be mapped is read with pread between mapped ones, and a damaged record in a map is reported
// with its file and offset.

import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../dist/main/index.js';
import { fileMaps, mapCrc32c } from '../../dist/shared/file-map.js';
import { flipByte } from '../fixtures/file-bytes.js';
import { readSegment, segmentFiles } from '../fixtures/segment-file.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const OPTIONS: StoreOptions = {
  readers: 1,
  durability: 'no',
  segmentBytes: 4096,
  compaction: { auto: false },
  readMode: 'mmap',
};
const KEYS = 120;
const valueFor = (i: number): string => `value-${i}-${'v'.repeat(60)}`;

/** A closed store of KEYS keys over several sealed segments. */
async function filledStore(label: string): Promise<string> {
  const dir = await makeTempDir(label);
  const store = await Store.open(dir, OPTIONS);
  await Promise.all(Array.from({ length: KEYS }, (_, i) => store.set(`key-${i}`, valueFor(i))));
  await store.close();
  return dir;
}

/** Keys from both ends inwards, so consecutive reads fall in different segments. */
const interleaved = Array.from({ length: KEYS }, (_, n) =>
  n % 2 === 0 ? n / 2 : KEYS - 1 - (n - 1) / 2,
);

afterEach(removeTempDirs);

describe.runIf(fileMaps !== undefined && mapCrc32c !== undefined)('checksums by map id', () => {
  it('a segment that cannot be mapped is read with pread between mapped ones', async () => {
    const dir = await filledStore('map-crc-pread');
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    const refused = files[1]!;
    const maps = fileMaps!;
    const map = maps.map;
    let refusals = 0;
    let mapped = 0;
    // This thread's maps only (the writer and readers load their own copy of the addon).
    maps.map = (fd, length) => {
      if (readlinkSync(`/proc/self/fd/${fd}`).endsWith(`/${refused}`)) {
        refusals++;
        throw Object.assign(new Error('mmap failed: Cannot allocate memory'), { code: 'KV_IO' });
      }
      mapped++;
      return map(fd, length);
    };
    // Counts the checksums taken by map id: every read from a mapped segment takes one.
    const byMap = mapCrc32c!;
    const crc32cMapped = byMap.crc32cMapped;
    let byId = 0;
    byMap.crc32cMapped = () => {
      byId++;
      crc32cMapped();
    };
    const store = await Store.open(dir, OPTIONS);
    try {
      const fromRefused = new Set(readSegment(dir, refused).records.map((r) => r.key.toString()));
      for (let round = 0; round < 2; round++) {
        for (const i of interleaved)
          expect(store.getSync(`key-${i}`)?.toString()).toBe(valueFor(i));
      }
      expect(refusals).toBe(1); // then that handle is read with pread until reopened
      expect(mapped).toBeGreaterThan(1);
      // KVD_CRC_JS_ONLY=1 keeps every checksum in JS: then none goes by map id.
      const byMapExpected = process.env.KVD_CRC_JS_ONLY === '1' ? 0 : 2 * (KEYS - fromRefused.size);
      expect(byId).toBe(byMapExpected);
    } finally {
      maps.map = map;
      byMap.crc32cMapped = crc32cMapped;
      await store.close();
    }
  });

  it('a damaged record in a map is reported with its file and offset, between good reads', async () => {
    const dir = await filledStore('map-crc-damage');
    const file = segmentFiles(dir)[2]!;
    const victim = readSegment(dir, file).records[1]!;
    flipByte(join(dir, file), victim.offset + victim.length - 2, 0x10);
    const store = await Store.open(dir, OPTIONS);
    try {
      const victimKey = victim.key.toString();
      for (const i of interleaved) {
        const key = `key-${i}`;
        if (key === victimKey) {
          expect(() => store.getSync(key)).toThrow(
            expect.objectContaining({
              code: 'KV_CORRUPTION',
              message: expect.stringContaining(`${file} at offset ${victim.offset}`),
            }),
          );
        } else {
          expect(store.getSync(key)?.toString()).toBe(valueFor(i));
        }
      }
    } finally {
      await store.close();
    }
  });
});
