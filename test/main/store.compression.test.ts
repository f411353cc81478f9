// The `compression` store option and `kvd serve --compression`: the key runs a store writes
// (hint jobs and merges) have their blocks compressed by the chosen codec, range scans read
// them, a store reopened with another setting still reads them, and bad settings are refused.

import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type Compression, Store } from '../../dist/main/index.js';
import {
  COMPRESSION_LZ4,
  COMPRESSION_NONE,
  COMPRESSION_ZSTD,
} from '../../dist/shared/sorted-format.js';
import { ChildLines } from '../fixtures/child-lines.js';
import { expectRejectsWith } from '../fixtures/kv-errors.js';
import { CLI, spawnServer } from '../fixtures/kvd-server.js';
import { openSortedFiles } from '../fixtures/sorted-segment-files.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const TYPE_OF: Record<Compression, number> = {
  none: COMPRESSION_NONE,
  lz4: COMPRESSION_LZ4,
  zstd: COMPRESSION_ZSTD,
};

/** Keys that compress well even after prefix sharing: long, repetitive, in many blocks. */
const keyOf = (i: number): string =>
  `tenant:${i % 7}:user:${String(i).padStart(8, '0')}:session:${'abcdefgh'.repeat(3)}`;

/** What every key run in `dir` says: its recorded compression and its data blocks' types. */
function keyRunBlocks(dir: string): { file: string; recorded: number; types: number[] }[] {
  return openSortedFiles(dir, '.keys').map(({ file, bytes, reader }) => {
    const types: number[] = [];
    for (let i = 0; i < reader.blockCount; i++) {
      const handle = reader.blockHandle(i);
      types.push(bytes[handle.offset + handle.size]!);
    }
    return { file, recorded: reader.properties.compression, types };
  });
}

async function loadAndCompact(db: Store, keys: number): Promise<void> {
  for (let i = 0; i < keys; i += 500) {
    const ops = [];
    for (let j = i; j < Math.min(keys, i + 500); j++) {
      ops.push({ type: 'set' as const, key: keyOf(j), value: `v${j}` });
    }
    await db.batch(ops);
  }
  await db.compact();
}

const rangeKeys = (db: Store, options: Parameters<Store['rangeSync']>[0]): string[] =>
  [...db.rangeSync({ ...options, values: false })].map((e) => e.key.toString());

describe('compression of sorted-segment blocks', () => {
  for (const compression of ['lz4', 'zstd'] as const) {
    it(`'${compression}' compresses key-run blocks, and any setting reads them back`, async () => {
      const dir = await makeTempDir(`compression-${compression}`);
      const keys = 6000;
      const expected = Array.from({ length: keys }, (_, i) => keyOf(i)).sort();
      let db = await Store.open(dir, { compression, segmentBytes: 64 * 1024 });
      try {
        await loadAndCompact(db, keys);
        const runs = keyRunBlocks(dir);
        expect(runs.length).toBeGreaterThan(0);
        for (const run of runs) expect(run.recorded, run.file).toBe(TYPE_OF[compression]);
        const types = runs.flatMap((r) => r.types);
        // Blocks that would not save 1/8 stay raw; these repetitive keys mostly do save it.
        expect(types.filter((t) => t === TYPE_OF[compression]).length).toBeGreaterThan(
          types.length / 2,
        );
        expect(rangeKeys(db, {})).toEqual(expected);
        await db.close();
        // Another setting (here none) reads the compressed runs, forwards and in reverse.
        db = await Store.open(dir, { compression: 'none' });
        expect(rangeKeys(db, {})).toEqual(expected);
        const prefix = 'tenant:3:user:0000';
        const under = expected.filter((k) => k.startsWith(prefix));
        expect(rangeKeys(db, { prefix, reverse: true })).toEqual(under.reverse());
        expect(db.getSync(keyOf(4321))?.toString()).toBe('v4321');
      } finally {
        await db.close();
      }
    });
  }

  it("'none' (the default) stores every block raw", async () => {
    const dir = await makeTempDir('compression-none');
    const db = await Store.open(dir, { segmentBytes: 64 * 1024 });
    try {
      await loadAndCompact(db, 3000);
      const runs = keyRunBlocks(dir);
      expect(runs.length).toBeGreaterThan(0);
      for (const run of runs) {
        expect(run.recorded).toBe(COMPRESSION_NONE);
        expect(new Set(run.types)).toEqual(new Set([COMPRESSION_NONE]));
      }
    } finally {
      await db.close();
    }
  });

  it('refuses an unknown compression, a bad level, and a level without zstd', async () => {
    const dir = await makeTempDir('compression-bad');
    const open = (options: object) => Store.open(dir, options);
    for (const options of [
      { compression: 'gzip' },
      { compression: 'zstd', compressionLevel: 23 },
      { compression: 'zstd', compressionLevel: 1.5 },
      { compression: 'lz4', compressionLevel: 3 },
      { compressionLevel: 3 },
    ]) {
      await expectRejectsWith(open(options), 'KV_INVALID_ARGUMENT', `${JSON.stringify(options)}: `);
    }
    const db = await Store.open(dir, { compression: 'zstd', compressionLevel: 19 });
    await db.close();
  });
});

describe('kvd serve --compression', () => {
  it('writes compressed key runs, and KEYS reads them', async () => {
    const dir = await makeTempDir('serve-compression');
    const server = await spawnServer(['--dir', dir, '--compression', 'zstd']);
    const client = new Redis({ port: server.port, lazyConnect: true });
    try {
      await client.connect();
      const pipeline = client.pipeline();
      for (let i = 0; i < 2000; i++) pipeline.set(keyOf(i), `v${i}`);
      await pipeline.exec();
      expect(await client.call('COMPACT')).toBeTruthy();
      const runs = keyRunBlocks(dir);
      expect(runs.length).toBeGreaterThan(0);
      for (const run of runs) expect(run.recorded).toBe(COMPRESSION_ZSTD);
      const under = (await client.keys('tenant:5:*')).sort();
      expect(under).toEqual(
        Array.from({ length: 2000 }, (_, i) => keyOf(i))
          .filter((k) => k.startsWith('tenant:5:'))
          .sort(),
      );
    } finally {
      client.disconnect();
      server.child.kill('SIGTERM');
      expect(await server.child.exited).toEqual({ code: 0, signal: null });
    }
  });

  it('refuses an unknown codec, and a level out of range, before starting', async () => {
    const dir = await makeTempDir('serve-compression-bad');
    const codec = new ChildLines(process.execPath, [
      CLI,
      'serve',
      '--dir',
      dir,
      '--compression',
      'gzip',
    ]);
    expect((await codec.exited).code).not.toBe(0);
    expect(codec.stderr).toContain('none, lz4, zstd');
    const level = new ChildLines(process.execPath, [
      CLI,
      'serve',
      '--dir',
      dir,
      '--compression',
      'zstd',
      '--compression-level',
      '30',
    ]);
    expect((await level.exited).code).not.toBe(0);
    expect(level.stderr).toContain('compression-level');
  });
});
