// Tests the daemon's keyspace commands of issue 11 with ioredis, node-redis and redis-cli: UNLINK,
// TOUCH, RANDOMKEY, RENAME, RENAMENX and COPY (replies, Redis's errors, expiry carried, atomic
// under concurrent writers: no value lost or duplicated; in order with the connection's pipelined
// writes), EXPIRETIME, PEXPIRETIME and OBJECT, also inside MULTI/EXEC.

import type { Redis } from 'ioredis';
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { redisCli } from '../fixtures/kvd-server.js';
import { useSharedServer } from '../fixtures/shared-server.js';

const shared = useSharedServer();
const connect = () => shared.connect();

describe('UNLINK, TOUCH and RANDOMKEY', () => {
  it('UNLINK deletes like DEL and counts the keys that existed', async () => {
    const redis = connect();
    await redis.mset('u:1', 'a', 'u:2', 'b');
    expect(await redis.unlink('u:1', 'u:2', 'u:none', 'u:1')).toBe(2);
    expect(await redis.exists('u:1', 'u:2')).toBe(0);
    await expect(redis.call('UNLINK')).rejects.toThrow(
      "ERR wrong number of arguments for 'unlink' command",
    );
  });

  it('TOUCH counts existing keys (twice if named twice), not expired ones, and changes nothing', async () => {
    const redis = connect();
    await redis.mset('t:1', 'a', 't:2', 'b');
    await redis.set('t:gone', 'x', 'PX', 1);
    await redis.set('t:ttl', 'x', 'EX', 100);
    await redis.pexpireat('t:gone', 1); // in the past: deleted
    expect(await redis.touch('t:1', 't:2', 't:1', 't:none', 't:gone', 't:ttl')).toBe(4);
    expect(await redis.ttl('t:ttl')).toBeGreaterThan(90);
    await expect(redis.call('TOUCH')).rejects.toThrow(
      "ERR wrong number of arguments for 'touch' command",
    );
  });

  it('RANDOMKEY answers nil on an empty store, else one of the keys', async () => {
    const redis = connect();
    await redis.flushall();
    expect(await redis.randomkey()).toBeNull();
    await redis.mset('r:1', 'a', 'r:2', 'b', 'r:3', 'c');
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) seen.add((await redis.randomkey())!);
    expect([...seen].every((key) => ['r:1', 'r:2', 'r:3'].includes(key))).toBe(true);
    expect(seen.size).toBeGreaterThan(1);
    await expect(redis.call('RANDOMKEY', 'x')).rejects.toThrow(
      "ERR wrong number of arguments for 'randomkey' command",
    );
  });
});

describe('RENAME and RENAMENX', () => {
  it('move the value and its expiry, with Redis replies and errors', async () => {
    const redis = connect();
    await redis.set('rn:a', 'one', 'PX', 100_000);
    await redis.set('rn:b', 'two'); // no expiry
    expect(await redis.rename('rn:a', 'rn:c')).toBe('OK');
    expect(await redis.get('rn:c')).toBe('one');
    expect(await redis.exists('rn:a')).toBe(0);
    const pttl = await redis.pttl('rn:c');
    expect(pttl).toBeGreaterThan(90_000);
    expect(pttl).toBeLessThanOrEqual(100_000);
    // Overwriting: the destination takes the source's value and (no) expiry.
    await redis.set('rn:d', 'old', 'EX', 500);
    expect(await redis.rename('rn:b', 'rn:d')).toBe('OK');
    expect(await redis.get('rn:d')).toBe('two');
    expect(await redis.ttl('rn:d')).toBe(-1);

    await expect(redis.rename('rn:none', 'rn:x')).rejects.toThrow('ERR no such key');
    await expect(redis.renamenx('rn:none', 'rn:x')).rejects.toThrow('ERR no such key');
    // The same key: nothing moves; OK (RENAME) or 0 (RENAMENX) if it exists.
    expect(await redis.rename('rn:d', 'rn:d')).toBe('OK');
    expect(await redis.renamenx('rn:d', 'rn:d')).toBe(0);
    expect(await redis.get('rn:d')).toBe('two');
    await expect(redis.rename('rn:none', 'rn:none')).rejects.toThrow('ERR no such key');

    expect(await redis.renamenx('rn:c', 'rn:d')).toBe(0); // destination exists
    expect(await redis.get('rn:c')).toBe('one');
    expect(await redis.renamenx('rn:c', 'rn:e')).toBe(1);
    expect(await redis.get('rn:e')).toBe('one');
    expect(await redis.pttl('rn:e')).toBeGreaterThan(90_000);
    await expect(redis.call('RENAME', 'rn:e')).rejects.toThrow(
      "ERR wrong number of arguments for 'rename' command",
    );
    await expect(redis.call('RENAMENX', 'a', 'b', 'c')).rejects.toThrow(
      "ERR wrong number of arguments for 'renamenx' command",
    );
  });

  it('moves binary keys and values exactly', async () => {
    const redis = connect();
    const key = Buffer.from([0, 255, 13, 10]);
    const value = Buffer.from([1, 0, 2, 13, 10, 3]);
    await redis.set(key, value);
    expect(await redis.rename(key, Buffer.from([0, 254]))).toBe('OK');
    expect(await redis.getBuffer(Buffer.from([0, 254]))).toEqual(value);
  });

  it("see the connection's earlier pipelined writes, and later requests see them", async () => {
    const redis = connect();
    const replies = async (pipeline: ReturnType<Redis['pipeline']>) =>
      (await pipeline.exec())!.map(([error, value]) => error?.message ?? value);
    expect(
      await replies(redis.pipeline().set('pl:a', '1').rename('pl:a', 'pl:b').get('pl:b')),
    ).toEqual(['OK', 'OK', '1']);
    expect(
      await replies(
        redis.pipeline().rename('pl:b', 'pl:c').rename('pl:c', 'pl:d').exists('pl:b', 'pl:c'),
      ),
    ).toEqual(['OK', 'OK', 0]);
    expect(
      await replies(redis.pipeline().set('pl:x', '2').copy('pl:x', 'pl:y').copy('pl:y', 'pl:z')),
    ).toEqual(['OK', 1, 1]);
    expect(
      await replies(redis.pipeline().del('pl:z').renamenx('pl:y', 'pl:z').get('pl:z')),
    ).toEqual([1, 1, '2']);
  });

  it('RENAME loses no increment made to the source meanwhile', async () => {
    const writer = connect();
    const mover = connect();
    const increments = 3000;
    let written = 0;
    const writing = (async () => {
      while (written < increments) {
        const pipeline = writer.pipeline();
        for (let i = 0; i < 50; i++) pipeline.incr('race:src');
        await pipeline.exec();
        written += 50;
      }
    })();
    let moves = 0;
    const moving = (async () => {
      while (written < increments) {
        // Each move goes to a fresh destination, so RENAME itself overwrites nothing.
        const reply = await mover.rename('race:src', `race:dst:${moves}`).catch((e: Error) => e);
        if (reply === 'OK') moves++;
        else expect((reply as Error).message).toBe('ERR no such key');
      }
    })();
    await Promise.all([writing, moving]);
    expect(moves).toBeGreaterThan(0);
    const keys = ['race:src', ...Array.from({ length: moves }, (_, i) => `race:dst:${i}`)];
    const values = await mover.mget(keys);
    const total = values.reduce((sum, v) => sum + Number(v ?? 0), 0);
    expect(total).toBe(increments);
  });

  it('RENAMENX under concurrent movers neither loses nor duplicates a value', async () => {
    const movers = Array.from({ length: 4 }, () => connect());
    const slots = 12;
    const tokens = Array.from({ length: 6 }, (_, i) => `token-${i}`);
    await movers[0]!.mset(...tokens.flatMap((t, i) => [`slot:${i}`, t]));
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    await Promise.all(
      movers.map(async (redis) => {
        for (let round = 0; round < 20; round++) {
          const pipeline = redis.pipeline();
          for (let i = 0; i < 20; i++)
            pipeline.renamenx(`slot:${next(slots)}`, `slot:${next(slots)}`);
          await pipeline.exec(); // "no such key" replies are expected: the slot was empty
        }
      }),
    );
    const values = await movers[0]!.mget(Array.from({ length: slots }, (_, i) => `slot:${i}`));
    expect(values.filter((v) => v !== null).sort()).toEqual(tokens);
  });
});

describe('COPY', () => {
  it('copies value and expiry, with REPLACE, DB 0 and Redis errors', async () => {
    const redis = connect();
    await redis.set('cp:a', 'one', 'PX', 100_000);
    expect(await redis.copy('cp:a', 'cp:b')).toBe(1);
    expect(await redis.get('cp:a')).toBe('one');
    expect(await redis.get('cp:b')).toBe('one');
    expect(await redis.pttl('cp:b')).toBeGreaterThan(90_000);
    await redis.set('cp:a', 'two'); // no expiry now
    expect(await redis.copy('cp:a', 'cp:b')).toBe(0); // destination exists
    expect(await redis.get('cp:b')).toBe('one');
    expect(await redis.call('COPY', 'cp:a', 'cp:b', 'replace')).toBe(1);
    expect(await redis.get('cp:b')).toBe('two');
    expect(await redis.ttl('cp:b')).toBe(-1);
    expect(await redis.call('COPY', 'cp:a', 'cp:c', 'DB', '0', 'REPLACE')).toBe(1);
    expect(await redis.copy('cp:none', 'cp:d')).toBe(0);
    expect(await redis.exists('cp:d')).toBe(0);

    await expect(redis.call('COPY', 'cp:a', 'cp:e', 'DB', '1')).rejects.toThrow(
      'ERR DB index is out of range',
    );
    await expect(redis.call('COPY', 'cp:a', 'cp:e', 'DB', 'one')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    await expect(redis.call('COPY', 'cp:a', 'cp:e', 'DB', '4294967296')).rejects.toThrow(
      'ERR value is out of range',
    );
    await expect(redis.call('COPY', 'cp:a', 'cp:e', 'DB')).rejects.toThrow('ERR syntax error');
    await expect(redis.call('COPY', 'cp:a', 'cp:e', 'NOW')).rejects.toThrow('ERR syntax error');
    await expect(redis.call('COPY', 'cp:a', 'cp:a')).rejects.toThrow(
      'ERR source and destination objects are the same',
    );
    await expect(redis.call('COPY', 'cp:a')).rejects.toThrow(
      "ERR wrong number of arguments for 'copy' command",
    );
    expect(await redis.exists('cp:e')).toBe(0);
  });

  it('lets exactly one of many concurrent COPYs (no REPLACE) to one destination win', async () => {
    const copiers = Array.from({ length: 6 }, () => connect());
    await copiers[0]!.mset(...copiers.flatMap((_, i) => [`cs:src:${i}`, `from-${i}`]));
    for (let round = 0; round < 30; round++) {
      const destination = `cs:dst:${round}`;
      const replies = await Promise.all(
        copiers.map((redis, i) => redis.copy(`cs:src:${i}`, destination)),
      );
      expect(replies.filter((r) => r === 1)).toHaveLength(1);
      expect(await copiers[0]!.get(destination)).toBe(`from-${replies.indexOf(1)}`);
    }
  });

  it('works from node-redis and redis-cli', async () => {
    const client = createClient({ socket: { port: shared.server.port, host: '127.0.0.1' } });
    await client.connect();
    try {
      await client.set('nr:a', 'v');
      expect(await client.copy('nr:a', 'nr:b')).toBe(1);
      expect(await client.copy('nr:a', 'nr:b', { REPLACE: true })).toBe(1);
      expect(await client.rename('nr:b', 'nr:c')).toBe('OK');
      expect(await client.renameNX('nr:c', 'nr:a')).toBe(0);
    } finally {
      client.destroy();
    }
    expect(await redisCli(shared.server.port, ['COPY', 'nr:c', 'nr:d'])).toBe('1\n');
    expect(await redisCli(shared.server.port, ['RENAME', 'nr:none', 'x'])).toBe(
      'ERR no such key\n\n',
    );
  });
});

describe('inside MULTI/EXEC', () => {
  it('RENAME, COPY, TOUCH, OBJECT and EXPIRETIME run in the transaction, in order', async () => {
    const redis = connect();
    await redis.set('tx:a', '42', 'EX', 1000);
    const replies = await redis
      .multi()
      .rename('tx:a', 'tx:b')
      .copy('tx:b', 'tx:c')
      .touch('tx:a', 'tx:b', 'tx:c')
      .object('ENCODING', 'tx:c')
      .expiretime('tx:c')
      .exec();
    const [rename, copy, touch, encoding, expiretime] = replies!.map(([error, value]) => {
      expect(error).toBeNull();
      return value;
    });
    expect([rename, copy, touch, encoding]).toEqual(['OK', 1, 2, 'int']);
    expect(expiretime).toBe(await redis.expiretime('tx:b'));
    expect(await redis.mget('tx:a', 'tx:b', 'tx:c')).toEqual([null, '42', '42']);
  });
});

describe('EXPIRETIME, PEXPIRETIME and OBJECT', () => {
  it('EXPIRETIME and PEXPIRETIME answer the absolute expiry, -1 or -2', async () => {
    const redis = connect();
    await redis.set('et:a', 'v');
    expect(await redis.expiretime('et:a')).toBe(-1);
    expect(await redis.pexpiretime('et:a')).toBe(-1);
    expect(await redis.expiretime('et:none')).toBe(-2);
    expect(await redis.pexpiretime('et:none')).toBe(-2);
    const at = Date.now() + 123_456;
    await redis.pexpireat('et:a', at);
    expect(await redis.pexpiretime('et:a')).toBe(at);
    expect(await redis.expiretime('et:a')).toBe(Math.floor((at + 500) / 1000));
    const seconds = Math.floor(Date.now() / 1000) + 1000;
    await redis.expireat('et:a', seconds);
    expect(await redis.expiretime('et:a')).toBe(seconds);
    await expect(redis.call('EXPIRETIME')).rejects.toThrow(
      "ERR wrong number of arguments for 'expiretime' command",
    );
  });

  it('OBJECT ENCODING follows Redis for strings; REFCOUNT 1, IDLETIME 0, FREQ refused', async () => {
    const redis = connect();
    const encodings: [string, string][] = [
      ['12345', 'int'],
      ['-1', 'int'],
      ['9223372036854775807', 'int'],
      ['-9223372036854775808', 'int'],
      ['9223372036854775808', 'embstr'], // past 64 bits
      ['01', 'embstr'], // not canonical
      ['1.5', 'embstr'],
      ['x'.repeat(44), 'embstr'],
      ['x'.repeat(45), 'raw'],
    ];
    for (const [value, encoding] of encodings) {
      await redis.set('ob:k', value);
      expect([value, await redis.object('ENCODING', 'ob:k')]).toEqual([value, encoding]);
    }
    expect(await redis.object('ENCODING', 'ob:none')).toBeNull();
    expect(await redis.object('REFCOUNT', 'ob:k')).toBe(1);
    expect(await redis.object('IDLETIME', 'ob:k')).toBe(0);
    expect(await redis.object('FREQ', 'ob:none')).toBeNull();
    await expect(redis.object('FREQ', 'ob:k')).rejects.toThrow(
      'ERR An LFU maxmemory policy is not selected, access frequency not tracked.',
    );
    const help = (await redis.object('HELP')) as string[];
    expect(help[0]).toMatch(/^OBJECT <subcommand>/);
    await expect(redis.call('OBJECT', 'SIZE', 'ob:k')).rejects.toThrow(
      "ERR unknown subcommand 'SIZE'. Try OBJECT HELP.",
    );
    await expect(redis.call('OBJECT', 'ENCODING')).rejects.toThrow(
      "ERR wrong number of arguments for 'object|encoding' command",
    );
    await expect(redis.call('OBJECT')).rejects.toThrow(
      "ERR wrong number of arguments for 'object' command",
    );
  });
});
