// Values in data segments are compressed one by one under a store's `compression`
// (point-value.ts): JSON-like values shrink on disk, and every read path returns them whole —
// getSync, get on this thread and through the reader pool, getMany, range scans, a snapshot's
// read of an overwritten value, the writer's own reads (APPEND, SET … GET), a merge under
// another setting, reopen. A compressed value whose entry checksum holds but which does not
// decode is KV_CORRUPTION naming its file and offset, never a wrong value; `repair: true` drops
// it, names its key, and merges run again.

import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreStats } from '../../dist/main/index.js';
import { crc32c } from '../../dist/shared/crc32c.js';
import {
  BLOCK_TRAILER_BYTES,
  COMPRESSION_LZ4,
  COMPRESSION_ZSTD,
  isSortedFailure,
} from '../../dist/shared/sorted-format.js';
import { openSortedFiles } from '../fixtures/sorted-segment-files.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const DOCS = 400;

/** A JSON-like document of ~1 KiB: its own fields, and the names and texts documents share. */
function docOf(i: number, version = 0): string {
  return JSON.stringify({
    id: i,
    version,
    user: {
      name: `user-${i % 37}`,
      email: `user${i % 37}@example.com`,
      plan: ['free', 'pro'][i % 2],
    },
    tags: ['alpha', 'beta', 'gamma', 'delta'].slice(0, 1 + (i % 4)),
    events: Array.from({ length: 8 }, (_, k) => ({ at: 1_700_000_000 + i * 10 + k, kind: 'view' })),
    text: 'the quick brown fox jumps over the lazy dog; '.repeat(10),
  });
}

/** The model: key → value, as the store must return them. */
function fill(): Map<string, string> {
  const model = new Map<string, string>();
  for (let i = 0; i < DOCS; i++) model.set(`doc:${String(i).padStart(4, '0')}`, docOf(i));
  for (let i = 0; i < 50; i++) model.set(`short:${i}`, `v${i}`); // too short to compress
  return model;
}

async function load(db: Store, model: Map<string, string>): Promise<void> {
  await db.batch([...model].map(([key, value]) => ({ type: 'set' as const, key, value })));
  for (let i = 0; i < 20; i++) await db.set(`gone:${i}`, docOf(i));
  for (let i = 0; i < 20; i++) await db.delete(`gone:${i}`);
}

const dataSegments = (dir: string) => openSortedFiles(dir, '.sst');

const sstBytes = (dir: string): number =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.sst'))
    .reduce((n, name) => n + statSync(join(dir, name)).size, 0);

function expectModel(db: Pick<Store, 'getSync' | 'rangeSync'>, model: Map<string, string>): void {
  for (const [key, value] of model) expect(db.getSync(key)?.toString(), key).toBe(value);
  const scanned = [...db.rangeSync()].map((e) => [e.key.toString(), e.value.toString()]);
  expect(scanned).toEqual([...model].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * Builds a compacted lz4 store of `model` in `dir`, then damages the payload of `key`'s value
 * and seals its entry and block again, so that only the decompression can tell.
 */
async function storeWithUndecodableValue(
  dir: string,
  model: Map<string, string>,
  key: string,
): Promise<{ file: string; entryOffset: number; blockOffset: number }> {
  const db = await Store.open(dir, { compression: 'lz4' });
  await load(db, model);
  await db.compact();
  await db.close();
  const [{ file, bytes, reader }] = dataSegments(dir);
  for (let b = 0; b < reader.blockCount; b++) {
    const cursor = reader.blockCursor(b);
    if (isSortedFailure(cursor)) throw new Error('block does not read');
    const handle = reader.blockHandle(b);
    while (cursor.more) {
      cursor.next();
      if (Buffer.from(cursor.key.subarray(0, cursor.keyLength)).toString() !== key) continue;
      expect(cursor.compressed).toBe(true);
      const entryAt = handle.offset + cursor.entryStart;
      const valueAt = handle.offset + cursor.valueStart;
      const entryEnd = valueAt + cursor.valueLength;
      bytes[valueAt + 1] = bytes[valueAt + 1]! ^ 0x7f; // the varint raw length
      bytes.writeUInt32LE(crc32c(bytes, entryAt + 4, entryEnd), entryAt);
      const trailer = handle.offset + handle.size;
      expect(bytes[trailer]).toBe(0); // data blocks of a data segment are stored raw
      bytes.writeUInt32LE(crc32c(bytes, handle.offset, trailer + 1), trailer + 1);
      expect(trailer + BLOCK_TRAILER_BYTES).toBeLessThanOrEqual(bytes.length);
      writeFileSync(join(dir, file), bytes);
      return { file, entryOffset: entryAt, blockOffset: handle.offset };
    }
  }
  throw new Error(`${key} is not in the data segment`);
}

/**
 * Opens `dir` with `repair: true`, checks that `dropped` reads as absent and the store holds
 * exactly `model` before and after a `compact()`, and returns the repair's report.
 */
async function openRepaired(
  dir: string,
  model: Map<string, string>,
  dropped: string,
): Promise<NonNullable<StoreStats['recovery']['repair']>> {
  const db = await Store.open(dir, { repair: true, compaction: { auto: false } });
  try {
    const report = (await db.stats()).recovery.repair!;
    expect(db.getSync(dropped)).toBeUndefined();
    expectModel(db, model);
    await db.compact();
    expectModel(db, model);
    return report;
  } finally {
    await db.close();
  }
}

describe('compressed values in data segments', () => {
  for (const [compression, type] of [
    ['lz4', COMPRESSION_LZ4],
    ['zstd', COMPRESSION_ZSTD],
  ] as const) {
    it(`'${compression}' stores JSON-like values compressed, and every read returns them whole`, async () => {
      const dir = await makeTempDir(`values-${compression}`);
      const plainDir = await makeTempDir(`values-${compression}-plain`);
      const model = fill();
      const plain = await Store.open(plainDir, { compression: 'none' });
      await load(plain, model);
      await plain.compact();
      await plain.close();

      let db = await Store.open(dir, { compression });
      try {
        await load(db, model);
        await db.compact();
        const segments = dataSegments(dir);
        expect(segments.length).toBeGreaterThan(0);
        for (const { reader } of segments) {
          expect(reader.footer.compressedValues).toBe(true);
          expect(reader.properties.compression).toBe(type);
        }
        // The documents shrink; the same load under 'none' keeps them whole.
        expect(sstBytes(dir)).toBeLessThan(0.6 * sstBytes(plainDir));
        for (const { reader } of dataSegments(plainDir)) {
          expect(reader.footer.compressedValues).toBe(false);
        }

        expectModel(db, model);
        const keys = [...model.keys()];
        expect((await db.getMany(keys)).map((v) => v?.toString())).toEqual([...model.values()]);
        expect((await db.get('doc:0007'))?.toString()).toBe(docOf(7));
        const ranged: string[] = [];
        for await (const e of db.range({ prefix: 'doc:00' })) ranged.push(e.value.toString());
        expect(ranged).toEqual(Array.from({ length: 100 }, (_, i) => docOf(i)));

        // A snapshot reads the compressed version an overwrite displaced.
        const snapshot = db.snapshot();
        await db.set('doc:0011', docOf(11, 1));
        expect(snapshot.getSync('doc:0011')?.toString()).toBe(docOf(11));
        expect([...snapshot.rangeSync({ gte: 'doc:0011', limit: 1 })][0]!.value.toString()).toBe(
          docOf(11),
        );
        snapshot.release();
        model.set('doc:0011', docOf(11, 1));

        // The writer reads compressed values too: APPEND, SET … GET.
        expect(await db.append('doc:0012', '!')).toBe(docOf(12).length + 1);
        model.set('doc:0012', `${docOf(12)}!`);
        const old = await db.setWith('doc:0013', 'replaced', { returnPrevious: true });
        expect(old.previous?.toString()).toBe(docOf(13));
        model.set('doc:0013', 'replaced');
        await db.close();

        // Through the reader pool, after reopen; then merged again under 'none': stored whole.
        db = await Store.open(dir, { compression: 'none', inlineReadKeys: 0 });
        expect((await db.getMany(keys)).map((v) => v?.toString())).toEqual(
          keys.map((k) => model.get(k)),
        );
        expect((await db.get('doc:0100'))?.toString()).toBe(docOf(100));
        expectModel(db, model);
        await db.compact();
        for (const { reader } of dataSegments(dir)) {
          expect(reader.footer.compressedValues).toBe(false);
        }
        expectModel(db, model);
      } finally {
        await db.close();
      }
    });
  }

  it('a compressed value that does not decode is KV_CORRUPTION with its file and offset', async () => {
    const dir = await makeTempDir('values-damaged');
    const model = fill();
    const { file, entryOffset } = await storeWithUndecodableValue(dir, model, 'doc:0042');

    const db = await Store.open(dir);
    try {
      let error: unknown;
      try {
        db.getSync('doc:0042');
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'KV_CORRUPTION', file, offset: entryOffset });
      await expect(db.get('doc:0042')).rejects.toMatchObject({ code: 'KV_CORRUPTION' });
      expect(() => [...db.rangeSync({ prefix: 'doc:004' })]).toThrow(
        expect.objectContaining({ code: 'KV_CORRUPTION' }),
      );
      // Its neighbours read.
      expect(db.getSync('doc:0041')?.toString()).toBe(docOf(41));
      expect(db.getSync('doc:0043')?.toString()).toBe(docOf(43));
    } finally {
      await db.close();
    }
  });

  it('repair: true names an undecodable value also when the whole file is rescanned (its index damaged)', async () => {
    const dir = await makeTempDir('values-repair-index');
    const model = fill();
    const { file } = await storeWithUndecodableValue(dir, model, 'doc:0042');
    model.delete('doc:0042');
    const [{ reader }] = dataSegments(dir);
    const path = join(dir, file);
    const bytes = readFileSync(path);
    bytes[reader.footer.index.offset + 1] = bytes[reader.footer.index.offset + 1]! ^ 0x04;
    writeFileSync(path, bytes);

    const report = await openRepaired(dir, model, 'doc:0042');
    expect(report.damaged.map((d) => d.file)).toEqual([file]);
    expect(report.lostKeys).toEqual(['doc:0042 (its value does not decompress)']);
  });

  it('repair: true drops an undecodable compressed value, names its key, and merges run again', async () => {
    const dir = await makeTempDir('values-repair');
    const model = fill();
    const { file, blockOffset } = await storeWithUndecodableValue(dir, model, 'doc:0042');
    model.delete('doc:0042');

    // Without repair the merge stops at the value, and the store keeps it.
    let db = await Store.open(dir, { compaction: { auto: false } });
    try {
      await expect(db.compact()).rejects.toMatchObject({ code: 'KV_CORRUPTION' });
    } finally {
      await db.close();
    }

    const report = await openRepaired(dir, model, 'doc:0042');
    expect(report.damaged.map((d) => [d.file, d.offset])).toEqual([[file, blockOffset]]);
    expect(report.lostKeys).toEqual(['doc:0042 (its value does not decompress)']);
    db = await Store.open(dir);
    try {
      expectModel(db, model);
    } finally {
      await db.close();
    }
  });
});
