// Disk full, for real: the writer runs in a child process under `ulimit -f` (RLIMIT_FSIZE), so
// the append that would grow the segment past the limit fails with EFBIG. That set must reject
// with KV_DISK_FULL, every write acknowledged before it must stay readable, and after a reopen
// without the limit nothing is lost, nothing corrupt is served and writing resumes.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { ChildLines, fixturePath } from '../fixtures/child-lines.js';
import { parseSegment, segmentFiles, tornFiles } from '../fixtures/segment-file.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

/** File size limit for the child, in ulimit -f's 1024-byte blocks. */
const LIMIT_BLOCKS = 48;

/** The value the child writes under key f<i> (see test/fixtures/disk-full-writer.mjs). */
function valueFor(i: number): string {
  return `${i}:`.padEnd(1000, String.fromCharCode(97 + (i % 26)));
}

describe('disk full (RLIMIT_FSIZE in a child process)', () => {
  afterEach(removeTempDirs);

  // Under `always` the writer preallocates the segment ahead of the data (1 MiB steps), which
  // must not turn writes that fit into KV_DISK_FULL.
  it.each(['no', 'always'] as const)(
    'durability %s: the failing set rejects with KV_DISK_FULL and nothing acknowledged is lost',
    async (durability) => {
      const dir = await makeTempDir('disk-full');
      const script = fixturePath('disk-full-writer.mjs');
      const child = new ChildLines('bash', [
        '-c',
        `ulimit -f ${LIMIT_BLOCKS} && exec "$0" "$1" "$2" "$3"`,
        process.execPath,
        script,
        dir,
        durability,
      ]);
      const lines = await child.rest();
      const exit = await child.exited;
      expect(exit.code, `child failed; stderr:\n${child.stderr}`).toBe(0);

      const acked = lines.filter((l) => l.startsWith('A ')).map((l) => Number(l.slice(2)));
      acked.forEach((i, n) => {
        expect(i).toBe(n);
      });
      // The limit allows a few dozen 1 KiB records, and the writes stopped at it.
      expect(
        acked.length,
        `sets acknowledged before one failed (${lines.find((l) => l.startsWith('E '))})`,
      ).toBeGreaterThan(30);
      expect(acked.length).toBeLessThan(LIMIT_BLOCKS);
      const failed = lines.find((l) => l.startsWith('E '));
      expect(failed, 'a set failed').toBe(`E ${acked.length} KV_DISK_FULL`);
      expect(lines, 'acknowledged writes readable in the child after the failure').toContain(
        'R ok',
      );
      const small = lines.find((l) => l.startsWith('S '))!;
      expect(['S ok', 'S KV_DISK_FULL']).toContain(small);
      expect(lines).toContain('B KV_DISK_FULL');
      expect(lines.at(-1)).toBe('closed');

      // The failed appends were cut back off the log: the file holds only whole records.
      const [name] = segmentFiles(dir);
      expect(segmentFiles(dir)).toHaveLength(1);
      const bytes = readFileSync(join(dir, name!));
      expect(bytes.length).toBeLessThanOrEqual(LIMIT_BLOCKS * 1024);
      const records = parseSegment(bytes);
      const last = records.at(-1)!;
      expect(last.offset + last.length, 'no partial record left at the tail').toBe(bytes.length);

      // Reopen without the limit: everything acknowledged is there, nothing was torn.
      let store = await Store.open(dir, { durability, readers: 1, segmentBytes: 1 << 20 });
      try {
        const stats = await store.stats();
        expect(stats.recovery.truncatedBytes).toBe(0);
        expect(tornFiles(dir, name!)).toEqual([]);
        const keys = acked.map((i) => `f${i}`);
        const values = await store.getMany(keys);
        acked.forEach((i, n) => {
          expect(values[n]?.toString(), `f${i}`).toBe(valueFor(i));
          expect(store.getSync(`f${i}`)?.toString(), `f${i}`).toBe(valueFor(i));
        });
        expect(await store.get(`f${acked.length}`), 'the failed set left nothing').toBeUndefined();
        expect(await store.has('batch0'), 'the failed batch left nothing').toBe(false);
        const smallOk = small === 'S ok';
        expect((await store.get('small'))?.toString()).toBe(smallOk ? 'x'.repeat(40) : undefined);
        expect(stats.keys).toBe(acked.length + (smallOk ? 1 : 0));

        // Writing resumes past the old limit, and survives another reopen.
        for (let i = acked.length; i < acked.length + 100; i++)
          await store.set(`f${i}`, valueFor(i));
        await store.close();
        store = await Store.open(dir, { readers: 1, segmentBytes: 1 << 20 });
        const all = Array.from({ length: acked.length + 100 }, (_, i) => i);
        const again = await store.getMany(all.map((i) => `f${i}`));
        all.forEach((i) => {
          expect(again[i]?.toString(), `f${i} after the second reopen`).toBe(valueFor(i));
        });
      } finally {
        await store.close();
      }
    },
  );
});
