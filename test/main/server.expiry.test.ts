// Tests Redis's expiry semantics through the daemon with real clients: keys that expire and are
// never read leave DBSIZE and INFO keyspace within seconds (the engine's active expiry cycle),
// a read that finds a key expired deletes it at once (GET, TTL, KEYS), and INFO stats counts
// both in expired_keys.

import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { removeTempDirs } from '../fixtures/temp-dir.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

const servers: TestServer[] = [];
const clients: Redis[] = [];
async function start(expiryCycleMs?: number): Promise<Redis> {
  const server = await startTestServer(
    expiryCycleMs === undefined ? {} : { store: { expiryCycleMs } },
  );
  servers.push(server);
  const client = new Redis({ port: server.port, host: '127.0.0.1' });
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(removeTempDirs);

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)\r$`, 'm').exec(info)?.[1];
}

describe('expiry through the daemon', () => {
  it('drops 100,000 expired keys nobody reads from DBSIZE within seconds', async () => {
    const redis = await start();
    await redis.set('keeper', 'stays');
    const count = 100_000;
    for (let from = 0; from < count; from += 5_000) {
      const pipeline = redis.pipeline();
      for (let i = from; i < from + 5_000; i++) pipeline.set(`short:${i}`, 'v', 'PX', 300);
      await pipeline.exec();
    }
    const lastExpiry = Date.now() + 300;
    // Only DBSIZE and INFO from here: no command reads the expired keys.
    await pollUntil(
      'DBSIZE counts only the key without expiry',
      async () => {
        return (await redis.dbsize()) === 1;
      },
      60_000,
    );
    const seconds = (Date.now() - lastExpiry) / 1000;
    console.log(`100,000 expired keys left DBSIZE ${seconds.toFixed(2)} s after the last expired`);
    expect(await redis.get('keeper')).toBe('stays');
    const stats = await redis.info('stats');
    expect(Number(infoField(stats, 'expired_keys'))).toBeGreaterThanOrEqual(count);
    expect(await redis.info('keyspace')).toBe('# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n');
  });

  it('deletes an expired key at the first read that finds it, even with no expiry cycle', async () => {
    const redis = await start(0); // no active expiry: only reads delete expired keys
    await redis.mset('p:1', 'a', 'p:2', 'b');
    const at = Date.now() + 40;
    await redis.set('soon:get', 'x', 'PXAT', at);
    await redis.set('soon:ttl', 'x', 'PXAT', at);
    await redis.set('soon:keys', 'x', 'PXAT', at);
    await pollUntil('the three keys have expired', () => Date.now() > at + 1, 5_000);
    // Nobody has read them yet: still counted, as in Redis.
    expect(await redis.dbsize()).toBe(5);
    expect(await redis.info('keyspace')).toContain('db0:keys=5,');

    // The read queues the delete for the writer, and the writer applies what it has been sent
    // before it answers DBSIZE: the key stops counting at once.
    expect(await redis.get('soon:get')).toBeNull();
    expect(await redis.dbsize()).toBe(4);
    expect(await redis.ttl('soon:ttl')).toBe(-2);
    expect(await redis.dbsize()).toBe(3);
    expect((await redis.keys('*')).sort()).toEqual(['p:1', 'p:2']);
    expect(await redis.dbsize()).toBe(2);
    expect(await redis.info('keyspace')).toContain('db0:keys=2,');
    expect(infoField(await redis.info('stats'), 'expired_keys')).toBe('3');
  });

  it('INFO keyspace counts the keys with an expiry and their mean time left', async () => {
    const redis = await start(0); // no active expiry: an expired key stays until read
    await redis.set('plain', 'v');
    await redis.set('ttl:100', 'v', 'EX', 100);
    await redis.set('ttl:200', 'v', 'EX', 200);
    const keyspace = async () => {
      const line = /^db0:keys=(\d+),expires=(\d+),avg_ttl=(\d+)\r$/m.exec(
        await redis.info('keyspace'),
      );
      return line?.slice(1).map(Number);
    };
    const [keys, expires, avgTtl] = (await keyspace())!;
    expect([keys, expires]).toEqual([3, 2]);
    // 150 s on average, measured to the end of each key's expiry second: at most 1 s over.
    expect(avgTtl).toBeGreaterThan(149_000);
    expect(avgTtl).toBeLessThanOrEqual(151_000);

    // An expired key nobody has read still counts, as in Redis, but no longer in avg_ttl;
    // PERSIST and DEL take keys out of the count.
    await redis.set('gone', 'v', 'PX', 1);
    await redis.persist('ttl:200');
    await pollUntil(
      'the expired key left avg_ttl',
      async () => {
        const now = await keyspace();
        return now?.[1] === 2 && now[2]! <= 101_000;
      },
      5_000,
    );
    expect((await keyspace())!.slice(0, 2)).toEqual([4, 2]);
    expect(await redis.get('gone')).toBeNull(); // the read deletes it
    await redis.del('ttl:100');
    expect(await keyspace()).toEqual([2, 0, 0]);
  });

  it('CONFIG RESETSTAT starts expired_keys again from zero', async () => {
    const redis = await start(0);
    await redis.set('gone', 'x', 'PX', 1);
    await pollUntil('the key has expired', async () => (await redis.pttl('gone')) === -2, 5_000);
    await pollUntil(
      'INFO counts the expired key',
      async () => infoField(await redis.info('stats'), 'expired_keys') === '1',
      5_000,
    );
    expect(await redis.config('RESETSTAT')).toBe('OK');
    expect(infoField(await redis.info('stats'), 'expired_keys')).toBe('0');
  });
});
