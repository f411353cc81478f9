// Tests taking stock of a data directory at open (src/workers/segment-inventory.ts): temporary
// files, segments a finished merge replaced, hint files without a segment and a last segment
// cut short at creation are removed; overlapping spans and bad headers are refused; the rest
// comes back in replay order (by span start, not by id).

import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSegmentHeader, KIND_MERGED } from '../../dist/shared/format.js';
import { createLogger } from '../../dist/shared/logger.js';
import { nodeFileSystem } from '../../dist/workers/file-system.js';
import { takeInventory } from '../../dist/workers/segment-inventory.js';
import { rec, removeTempDirs, segment, tempDir } from './worker-harness.js';

const log = createLogger('test');
const name = (id: number) => `${String(id).padStart(6, '0')}.log`;
const hint = (id: number) => `${String(id).padStart(6, '0')}.hint`;

function merged(id: number, first: number, last: number): Buffer {
  return Buffer.concat([
    encodeSegmentHeader(id, KIND_MERGED, first, last),
    rec(1, 'put', 'k', 'v'),
  ]);
}

afterEach(removeTempDirs);

describe('takeInventory', () => {
  it('orders segments by the start of their span and reports the highest id', async () => {
    const dir = await tempDir('inv-order');
    writeFileSync(join(dir, name(4)), segment(4, [rec(5, 'put', 'a', '1')]));
    writeFileSync(join(dir, name(7)), merged(7, 1, 3));
    writeFileSync(join(dir, name(8)), segment(8, []));
    const inv = takeInventory(nodeFileSystem, dir, log);
    expect(inv.files.map((f) => f.header.id)).toEqual([7, 4, 8]);
    expect(inv.maxId).toBe(8);
  });

  it('removes temporary files, replaced segments with their hints, and orphan hints', async () => {
    const dir = await tempDir('inv-clean');
    // Segments 1..3 were merged into 5 (committed), but a crash came before they were removed.
    for (const id of [1, 2, 3]) {
      writeFileSync(join(dir, name(id)), segment(id, [rec(id, 'put', `k${id}`, 'v')]));
      writeFileSync(join(dir, hint(id)), 'stale');
    }
    writeFileSync(join(dir, name(4)), segment(4, []));
    writeFileSync(join(dir, name(5)), merged(5, 1, 3));
    writeFileSync(join(dir, hint(5)), 'kept');
    writeFileSync(join(dir, `${name(6)}.tmp`), 'half a merge');
    writeFileSync(join(dir, 'INDEX-SNAPSHOT.tmp'), 'half a snapshot');
    writeFileSync(join(dir, hint(9)), 'no segment 9');
    const inv = takeInventory(nodeFileSystem, dir, log);
    expect(inv.files.map((f) => f.header.id)).toEqual([5, 4]);
    expect(readdirSync(dir).sort()).toEqual([name(4), hint(5), name(5)].sort());
  });

  it('a merge output re-merged alone replaces its older self', async () => {
    const dir = await tempDir('inv-remerge');
    writeFileSync(join(dir, name(5)), merged(5, 1, 3));
    writeFileSync(join(dir, name(6)), segment(6, []));
    writeFileSync(join(dir, name(7)), merged(7, 1, 3));
    const inv = takeInventory(nodeFileSystem, dir, log);
    expect(inv.files.map((f) => f.header.id)).toEqual([7, 6]);
    expect(existsSync(join(dir, name(5)))).toBe(false);
  });

  it('refuses segments whose spans overlap without one containing the other', async () => {
    const dir = await tempDir('inv-overlap');
    writeFileSync(join(dir, name(5)), merged(5, 1, 3));
    writeFileSync(join(dir, name(6)), merged(6, 2, 4));
    expect(() => takeInventory(nodeFileSystem, dir, log)).toThrow(/overlaps/);
  });

  it('refuses a store of another format version, even an empty last segment of it', async () => {
    const dir = await tempDir('inv-v1');
    const v1 = Buffer.alloc(16);
    v1.writeUInt32LE(0x5344564b, 0);
    v1.writeUInt16LE(1, 4);
    v1.writeUInt32LE(1, 8);
    writeFileSync(join(dir, name(1)), v1);
    expect(() => takeInventory(nodeFileSystem, dir, log)).toThrow(/unsupported format version 1/);
    expect(existsSync(join(dir, name(1)))).toBe(true);
  });

  it('removes a last segment cut short at creation, and refuses a bad header anywhere else', async () => {
    const dir = await tempDir('inv-short');
    writeFileSync(join(dir, name(1)), segment(1, [rec(1, 'put', 'a', '1')]));
    writeFileSync(join(dir, name(2)), encodeSegmentHeader(2).subarray(0, 10));
    expect(takeInventory(nodeFileSystem, dir, log).files.map((f) => f.header.id)).toEqual([1]);
    expect(existsSync(join(dir, name(2)))).toBe(false);
    const bad = segment(1, [rec(1, 'put', 'a', '1')]);
    bad[3] = 0;
    writeFileSync(join(dir, name(1)), bad);
    writeFileSync(join(dir, name(2)), segment(2, []));
    expect(() => takeInventory(nodeFileSystem, dir, log)).toThrow(
      /000001\.log at offset 0: bad segment magic/,
    );
  });
});
