// One damaged record must not block a store's upkeep for good (issue "Reliability", item 4):
// keys() leaves it out and counts it, MGET answers every readable key, a merge refuses only
// while a live key needs the damaged record and skips it once the key is deleted, the automatic
// sort of sealed segments gives up on a damaged one once (logged) and goes on with the rest, and
// `kvd repair` (or Store.open with repair: true) salvages a store that will not open.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../dist/main/index.js';
import { flipByte } from '../fixtures/file-bytes.js';
import { expectRejectsWith } from '../fixtures/kv-errors.js';
import { CLI, redisCli, startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { RECORD_HEADER, readSegment, segmentFiles } from '../fixtures/segment-file.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const OPTIONS: StoreOptions = {
  readers: 1,
  durability: 'no',
  segmentBytes: 4096,
  compaction: { auto: false },
};

/** 120 keys over several sealed segments; returns the dir and where `key-40`'s record is. */
async function storeWithDamage(
  label: string,
): Promise<{ dir: string; file: string; offset: number }> {
  const dir = await makeTempDir(label);
  const store = await Store.open(dir, OPTIONS);
  for (let i = 0; i < 120; i += 20) {
    await Promise.all(
      Array.from({ length: 20 }, (_, j) =>
        store.set(`key-${i + j}`, `value-${i + j}-${'v'.repeat(60)}`),
      ),
    );
  }
  await store.close();
  for (const file of segmentFiles(dir)) {
    const { records } = readSegment(dir, file);
    const victim = records.find((r) => r.key.toString() === 'key-40');
    if (victim) {
      // A byte of the value: the key still reads as key-40, the checksum fails.
      flipByte(join(dir, file), victim.offset + victim.length - 2, 0x10);
      return { dir, file, offset: victim.offset };
    }
  }
  throw new Error('key-40 not found');
}

const readable = Array.from({ length: 120 }, (_, i) => `key-${i}`).filter((k) => k !== 'key-40');

describe('a damaged record behind the index snapshot (the store opens)', () => {
  it('keys() leaves it out, logs and counts it; compact() refuses until the key is deleted, then skips it', async () => {
    const { dir, file, offset } = await storeWithDamage('damage-upkeep');
    const warnings: Record<string, unknown>[] = [];
    const logger = {
      debug() {},
      info() {},
      warn: (fields: Record<string, unknown>) => void warnings.push(fields),
      error() {},
    };
    const store = await Store.open(dir, { ...OPTIONS, logger });
    try {
      const keys = (await store.keys()).map((k) => k.toString()).sort();
      expect(keys).toEqual([...readable].sort());
      expect(warnings).toContainEqual(expect.objectContaining({ file, offset }));
      expect((await store.stats()).damage.reads).toBe(1);
      await expectRejectsWith(store.get('key-40'), 'KV_CORRUPTION');
      const refused = await expectRejectsWith(store.compact(), 'KV_CORRUPTION');
      expect(refused.message).toContain(`${file} at offset ${offset}`);
      expect(refused.message).toContain('"key-40"');
      // The owner gives up the damaged value: upkeep goes on, skipping the damage.
      await store.delete('key-40');
      const result = await store.compact();
      expect(result.merges).toBeGreaterThan(0);
      const stats = await store.stats();
      expect(stats.damage.skippedByMerges.ranges).toBe(1);
      expect(stats.segments.filter((s) => !s.active).every((s) => s.merged)).toBe(true);
      expect(existsSync(join(dir, file))).toBe(false);
      expect((await store.getMany(readable)).every((v) => v !== undefined)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('the automatic sort of sealed segments refuses them once, logs it, and sorts later segments', async () => {
    const { dir, file } = await storeWithDamage('damage-sort');
    const errors: { fields: Record<string, unknown>; message: string }[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (fields: Record<string, unknown>, message: string) =>
        void errors.push({ fields, message }),
    };
    const store = await Store.open(dir, {
      ...OPTIONS,
      logger,
      compaction: { auto: true, intervalMs: 10, bytesPerSecond: 0 },
    });
    const refusals = () => errors.filter((e) => e.message.includes('cannot sort sealed segments'));
    try {
      await pollUntil('the sort is refused', () => refusals().length > 0, 20_000);
      expect(refusals()[0]!.fields.err).toMatchObject({ code: 'KV_CORRUPTION' });
      // New segments after the refused ones are sorted; the damaged one is left as it is.
      const more = Array.from({ length: 120 }, (_, i): [string, string] => [
        `more-${i}`,
        'm'.repeat(60),
      ]);
      await Promise.all(more.map(([k, v]) => store.set(k, v)));
      await pollUntil(
        'a later segment is sorted',
        async () => (await store.stats()).segments.some((s) => s.merged),
        20_000,
      );
      expect(refusals()).toHaveLength(1);
      expect(existsSync(join(dir, file))).toBe(true);
      await expectRejectsWith(store.get('key-40'), 'KV_CORRUPTION');
      expect((await store.getMany(readable)).every((v) => v !== undefined)).toBe(true);
      expect((await store.getMany(more.map(([k]) => k))).every((v) => v !== undefined)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('the daemon answers KEYS, SCAN and MGET with every readable key, and an error only for the damaged one', async () => {
    const { dir } = await storeWithDamage('damage-daemon');
    const server = await startTestServer({ dir, store: OPTIONS });
    const client = new Redis({ port: server.port, host: '127.0.0.1' });
    try {
      const keys = (await client.keys('*')).sort();
      expect(keys).toEqual([...readable].sort());
      const scanned: string[] = [];
      let cursor = '0';
      do {
        const [next, page] = await client.scan(cursor, 'COUNT', 50);
        scanned.push(...page);
        cursor = next;
      } while (cursor !== '0');
      expect(scanned.sort()).toEqual([...readable].sort());
      // One getMany fails as a whole; MGET then reads key by key.
      const asked = ['key-39', 'key-40', 'key-41'];
      const mget = await redisCli(server.port, ['--no-raw', 'MGET', ...asked]);
      const lines = mget.trim().split('\n');
      expect(lines[0]).toMatch(/^1\) "value-39-/);
      expect(lines[1]).toMatch(/^2\) \(error\) KV_CORRUPTION checksum mismatch/);
      expect(lines[2]).toMatch(/^3\) "value-41-/);
      // Through a client library too: the readable values, and an error in the damaged one's place.
      const values: unknown[] = await client.mget(...asked);
      expect(values[0]).toMatch(/^value-39-/);
      expect(values[1]).toBeInstanceOf(Error);
      expect(String((values[1] as Error).message)).toMatch(/^KV_CORRUPTION/);
      expect(values[2]).toMatch(/^value-41-/);
      const info = await client.info('stats');
      expect(Number(/kvd_damaged_reads:(\d+)/.exec(info)![1])).toBeGreaterThanOrEqual(2);
    } finally {
      client.disconnect();
      await server.close();
    }
  });
});

describe('kvd repair', () => {
  it('salvages a store that will not open, lists the lost key, and the store opens after', async () => {
    const { dir, file, offset } = await storeWithDamage('damage-repair');
    // Without the snapshot and hints, open scans every segment and refuses the damage.
    for (const name of readdirSync(dir)) {
      if (name === 'INDEX-SNAPSHOT' || name.endsWith('.hint')) rmSync(join(dir, name));
    }
    const before = readFileSync(join(dir, file));
    await expectRejectsWith(Store.open(dir, OPTIONS), 'KV_CORRUPTION');
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, 'repair', '--dir', dir], (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${file} at offset ${offset}`);
    expect(run.stdout).toContain('key-40');
    const saved = join(dir, `${file}.damaged-${offset}`);
    expect(existsSync(saved)).toBe(true);
    expect(readFileSync(saved)).toEqual(
      before.subarray(offset, offset + readFileSync(saved).length),
    );
    expect(existsSync(join(dir, 'INDEX-SNAPSHOT'))).toBe(true);
    const store = await Store.open(dir, OPTIONS);
    try {
      expect((await store.stats()).recovery.restoredSegments).toBeGreaterThan(0);
      expect(await store.get('key-40')).toBeUndefined();
      const values = await store.getMany(readable);
      expect(
        values.every((v, n) => v?.toString().startsWith(`value-${readable[n]!.slice(4)}-`)),
      ).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('Store.open(dir, { repair: true }) does the same and reports it in stats().recovery.repair', async () => {
    const { dir, file, offset } = await storeWithDamage('damage-repair-open');
    rmSync(join(dir, 'INDEX-SNAPSHOT'));
    for (const name of readdirSync(dir)) if (name.endsWith('.hint')) rmSync(join(dir, name));
    const store = await Store.open(dir, { ...OPTIONS, repair: true });
    try {
      const report = (await store.stats()).recovery.repair!;
      expect(report.damaged.map((d) => [d.file, d.offset])).toEqual([[file, offset]]);
      expect(report.lostKeys).toEqual(['key-40 (as the damaged header reads)']);
      expect((await store.stats()).keys).toBe(119);
    } finally {
      await store.close();
    }
    expect(RECORD_HEADER).toBe(32);
  });
});
