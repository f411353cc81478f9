// The RDB codec against a real redis-server 7: a dump.rdb saved by Redis (strings in every
// encoding: raw, integer, LZF; expiries; lists, sets, sorted sets, hashes and a stream with a
// consumer group in their small and large encodings) read by RdbParser, and a file written by
// RdbWriter loaded by Redis, compared key by key and expiry by expiry.

import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RdbWriter } from '../../dist/shared/rdb-format.js';
import { RdbParser } from '../../dist/shared/rdb-parser.js';
import { hasRedisServer, startRedis, type TestRedis } from '../fixtures/redis-server.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const servers: TestRedis[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
  await removeTempDirs();
});

async function start(dir: string): Promise<TestRedis> {
  const server = await startRedis(dir);
  servers.push(server);
  return server;
}

/** The string keys (hex key -> value, expiry) and skipped types a file holds, read in 4 KiB pieces. */
async function parseFile(path: string) {
  const parser = new RdbParser();
  const strings = new Map<string, { value: Buffer; expiresAt: number }>();
  const skipped: Record<string, number> = {};
  let checksum = '';
  const file = await open(path);
  try {
    for await (const chunk of file.createReadStream({ highWaterMark: 4096 })) {
      parser.push(chunk as Buffer);
      for (let item = parser.next(); item; item = parser.next()) {
        if (item.kind === 'string') {
          strings.set(item.key.toString('hex'), {
            value: Buffer.from(item.value),
            expiresAt: item.expiresAt,
          });
        } else if (item.kind === 'skipped') {
          skipped[item.type] = (skipped[item.type] ?? 0) + 1;
        } else if (item.kind === 'end') {
          checksum = item.checksum;
        }
      }
    }
  } finally {
    await file.close();
  }
  parser.finish();
  return { strings, skipped, checksum };
}

describe.skipIf(!hasRedisServer())('RDB with a real redis-server', () => {
  it("reads Redis's own dump.rdb: every string encoding and expiry, every other type skipped", async () => {
    const dir = await makeTempDir('rdb-from-redis');
    const { client } = await start(dir);
    const expected = new Map<string, { value: Buffer; expiresAt: number }>();
    const put = async (key: Buffer | string, value: Buffer | string, expiresAt = 0) => {
      await client.set(key, value);
      if (expiresAt) await client.pexpireat(key, expiresAt);
      expected.set(Buffer.from(key).toString('hex'), { value: Buffer.from(value), expiresAt });
    };
    const later = Date.now() + 3_600_000;
    await put('int8', '-12');
    await put('int16', '-300');
    await put('int32', '2000000000');
    await put('int64-as-text', '123456789012345');
    await put('not-canonical', '007');
    await put('empty', '');
    await put('lzf', 'abcdefgh'.repeat(1_000), later);
    await put('raw-binary', randomBytes(2_000), later + 1);
    await put(Buffer.from([0, 255, 13, 10]), Buffer.from([1, 2, 3]));
    await put('big', Buffer.concat([randomBytes(100_000), Buffer.alloc(100_000, 'z')]));
    for (let i = 0; i < 300; i++) await put(`k${i}`, `value-${i}`, i % 3 === 0 ? later + i : 0);
    // Other types, small (listpack/intset) and large (quicklist, hashtable, skiplist).
    await client.rpush('list-small', 'a', 'b', 'c');
    await client.rpush(
      'list-big',
      ...Array.from({ length: 5_000 }, (_, i) => `item-${i}-${'x'.repeat(50)}`),
    );
    await client.sadd('set-ints', 1, 2, 3);
    await client.sadd('set-small', 'a', 'b');
    await client.sadd('set-big', ...Array.from({ length: 1_000 }, (_, i) => `m${i}`));
    await client.zadd('zset-small', 1, 'a', 2.5, 'b');
    await client.zadd(
      'zset-big',
      ...Array.from({ length: 1_000 }, (_, i) => [i / 3, `m${i}`]).flat(),
    );
    await client.hset('hash-small', 'f', 'v');
    await client.hset(
      'hash-big',
      Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`f${i}`, `v${i}`])),
    );
    for (let i = 0; i < 50; i++) await client.xadd('stream', '*', 'n', String(i));
    await client.xgroup('CREATE', 'stream', 'group', '0');
    await client.xreadgroup('GROUP', 'group', 'consumer', 'COUNT', 10, 'STREAMS', 'stream', '>');
    await client.pexpireat('hash-big', later);
    await client.call(
      'FUNCTION',
      'LOAD',
      "#!lua name=kvdtest\nredis.register_function('f', function() return 1 end)",
    );
    await client.save();

    const { strings, skipped, checksum } = await parseFile(join(dir, 'dump.rdb'));
    expect(checksum).toBe('verified');
    expect(strings).toEqual(expected);
    expect(skipped).toEqual({ list: 2, set: 3, zset: 2, hash: 2, stream: 1 });
  });

  it('writes a file redis-server loads: same keys, values and expiries', async () => {
    const dir = await makeTempDir('rdb-to-redis');
    const writer = new RdbWriter();
    const pieces = writer.header({ replId: 'f'.repeat(40), replOffset: 0 });
    const entries: { key: Buffer; value: Buffer; expiresAt: number }[] = [];
    const later = Date.now() + 3_600_000;
    for (let i = 0; i < 2_000; i++) {
      const key = i % 7 === 0 ? randomBytes(1 + (i % 40)) : Buffer.from(`key:${i}`);
      const value = i % 100 === 0 ? randomBytes(20_000 + i) : Buffer.from(`v${i}`.repeat(i % 30));
      entries.push({ key, value, expiresAt: i % 5 === 0 ? later + i : 0 });
    }
    const unique = new Map(entries.map((e) => [e.key.toString('hex'), e]));
    for (const e of unique.values()) pieces.push(...writer.entry(e.key, e.value, e.expiresAt));
    pieces.push(...writer.end());
    await writeFile(join(dir, 'dump.rdb'), Buffer.concat(pieces));
    // Our own reader agrees before Redis is asked.
    expect((await parseFile(join(dir, 'dump.rdb'))).strings.size).toBe(unique.size);

    const { client } = await start(dir);
    expect(await client.dbsize()).toBe(unique.size);
    for (const e of unique.values()) {
      expect(await client.getBuffer(e.key)).toEqual(e.value);
      expect(await client.call('PEXPIRETIME', e.key)).toBe(e.expiresAt === 0 ? -1 : e.expiresAt);
    }
    // And Redis saves it back into a file we read the same.
    await client.save();
    const again = await parseFile(join(dir, 'dump.rdb'));
    expect(again.strings).toEqual(
      new Map([...unique].map(([hex, e]) => [hex, { value: e.value, expiresAt: e.expiresAt }])),
    );
    expect(await readFile(join(dir, 'dump.rdb'))).not.toHaveLength(0);
  });
});
