// Tests SCAN and KEYS over sockets with ioredis, node-redis and redis-cli: keys in byte order;
// a pattern's literal prefix is where both seek (a wrap of Store.range counts the keys walked:
// none outside the prefix among 20,000); a full SCAN returns what KEYS returns, also while other
// clients add and delete keys between its pages; 12,000 keys with COUNT 10; escaped
// metachars; cursors replayed, finished, unknown and malformed.

import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RangeOptions, Store } from '../../dist/main/index.js';
import { redisCli, startTestServer } from '../fixtures/kvd-server.js';
import { useSharedServer } from '../fixtures/shared-server.js';

const shared = useSharedServer();
const connect = () => shared.connect();

/** Writes `keys` (value 'v') through the store in batches of 1,000. */
async function seed(keys: readonly string[], store: Store = shared.server.store): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    await store.batch(
      keys.slice(i, i + 1000).map((key) => ({ type: 'set' as const, key, value: 'v' })),
    );
  }
}

/** `keys` sorted as kvd sorts them: bytewise by their UTF-8 bytes. */
function byteOrder(keys: Iterable<string>): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Every key a full SCAN (ioredis) returns, with how many times, and the page count. */
async function scanAll(
  redis: Redis,
  options: (string | number)[],
  betweenPages: () => Promise<void> = async () => {},
): Promise<{ seen: Map<string, number>; pages: number }> {
  const seen = new Map<string, number>();
  let cursor = '0';
  let pages = 0;
  do {
    const [next, keys] = (await redis.call('SCAN', cursor, ...options)) as [string, string[]];
    for (const key of keys) seen.set(key, (seen.get(key) ?? 0) + 1);
    cursor = next;
    pages++;
    if (cursor !== '0') await betweenPages();
  } while (cursor !== '0');
  return { seen, pages };
}

/** Replaces `store.range` with a wrap that records each call's options and counts the keys it yields. */
function watchRange(store: Store): {
  calls: RangeOptions[];
  walked: () => number;
  restore(): void;
} {
  const original = store.range.bind(store);
  const calls: RangeOptions[] = [];
  let walked = 0;
  async function* counted(options?: RangeOptions) {
    calls.push(options ?? {});
    for await (const entry of original(options)) {
      walked++;
      yield entry;
    }
  }
  store.range = counted as Store['range'];
  return {
    calls,
    walked: () => walked,
    restore: () => void Reflect.deleteProperty(store, 'range'),
  };
}

describe('KEYS and SCAN seek to the pattern’s literal prefix', () => {
  const inside = [
    ...Array.from({ length: 150 }, (_, i) => `mid:${i}`),
    'mid*x:1',
    'mid*x:2',
    'mid?x',
    'mid\\x',
  ];
  const outside = Array.from({ length: 20_000 }, (_, i) => `${i % 2 ? 'a' : 'z'}:${i}`);

  beforeAll(async () => {
    await seed([...outside, ...inside]);
  });

  it('KEYS walks only the keys under the prefix, and answers in byte order', async () => {
    const redis = connect();
    const watch = watchRange(shared.server.store);
    try {
      const mid = inside.filter((k) => k.startsWith('mid:'));
      expect(await redis.keys('mid:*')).toEqual(byteOrder(mid));
      expect(watch.calls.map((c) => Buffer.from(c.prefix!).toString())).toEqual(['mid:']);
      expect(watch.walked()).toBe(mid.length);
      const under1 = mid.filter((k) => k.startsWith('mid:1'));
      expect(await redis.keys('mid:1?')).toEqual(byteOrder(mid.filter((k) => /^mid:1.$/.test(k))));
      expect(watch.walked()).toBe(mid.length + under1.length);
      // A pattern that starts with a metachar walks every key: the wrap does count them all.
      expect(await redis.keys('*:19999')).toEqual(['a:19999']);
      expect(watch.walked()).toBeGreaterThanOrEqual(mid.length + under1.length + outside.length);
    } finally {
      watch.restore();
    }
  });

  it('KEYS resolves escaped metachars in the prefix (ioredis, node-redis, redis-cli)', async () => {
    const redis = connect();
    const watch = watchRange(shared.server.store);
    const client = createClient({ socket: { port: shared.server.port, host: '127.0.0.1' } });
    await client.connect();
    try {
      expect(await redis.keys('mid\\*x:*')).toEqual(['mid*x:1', 'mid*x:2']);
      expect(Buffer.from(watch.calls[0]!.prefix!).toString()).toBe('mid*x:');
      expect(watch.walked()).toBe(2);
      expect(await client.keys('mid\\?x')).toEqual(['mid?x']);
      expect(await client.keys('mid\\\\x')).toEqual(['mid\\x']);
      expect(await client.keys('mid\\*x:[2]')).toEqual(['mid*x:2']);
      expect(watch.calls.slice(1).map((c) => Buffer.from(c.prefix!).toString())).toEqual([
        'mid?x',
        'mid\\x',
        'mid*x:',
      ]);
      expect(await redisCli(shared.server.port, ['KEYS', 'mid\\*x:*'])).toBe('mid*x:1\nmid*x:2\n');
    } finally {
      client.destroy();
      watch.restore();
    }
  });

  it('a full SCAN MATCH walks only the prefix, about COUNT keys a page, and returns what KEYS does', async () => {
    const redis = connect();
    const watch = watchRange(shared.server.store);
    try {
      const { seen, pages } = await scanAll(redis, ['MATCH', 'mid:*', 'COUNT', 10]);
      const mid = inside.filter((k) => k.startsWith('mid:'));
      expect(pages).toBe(15);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      expect(byteOrder(seen.keys())).toEqual(await redis.keys('mid:*'));
      const scanCalls = watch.calls.slice(0, pages);
      expect(scanCalls.every((c) => Buffer.from(c.prefix!).toString() === 'mid:')).toBe(true);
      expect(scanCalls.every((c) => c.limit === 11)).toBe(true);
      // Each page walks its 10 keys and peeks at the next one; the KEYS after walked `mid` once.
      expect(watch.walked()).toBeLessThanOrEqual(mid.length + pages + mid.length);
    } finally {
      watch.restore();
    }
  });
});

describe('a full SCAN returns every key present throughout', () => {
  it('returns what KEYS returns, exactly once each, with ioredis, node-redis and redis-cli', async () => {
    const keys = [
      ...Array.from({ length: 300 }, (_, i) => `same:${i}`),
      'same:é',
      'same:\u{1F600}',
      'same:\u00ff',
      'same',
      'samf:1',
    ];
    await seed(keys);
    const redis = connect();
    const listed = await redis.keys('same*');
    expect(listed).toEqual(byteOrder(keys.filter((k) => k.startsWith('same'))));

    const { seen } = await scanAll(redis, ['MATCH', 'same*', 'COUNT', 7]);
    expect(byteOrder(seen.keys())).toEqual(listed);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);

    const client = createClient({ socket: { port: shared.server.port, host: '127.0.0.1' } });
    await client.connect();
    try {
      const fromNodeRedis: string[] = [];
      for await (const page of client.scanIterator({ MATCH: 'same*', COUNT: 13 })) {
        fromNodeRedis.push(...page);
      }
      expect(fromNodeRedis).toEqual(listed); // pages in byte order, so the whole is too
    } finally {
      client.destroy();
    }
    const fromCli = await redisCli(shared.server.port, ['--scan', '--pattern', 'same*']);
    expect(fromCli.trim().split('\n').sort()).toEqual([...listed].sort());
  });

  it('while other clients add and delete keys under the prefix between pages', async () => {
    const stable = Array.from({ length: 2000 }, (_, i) => `live:${String(i).padStart(4, '0')}`);
    const churn = Array.from({ length: 400 }, (_, i) => `live:${String(i * 5).padStart(4, '0')}~`);
    await seed([...stable, ...churn]);
    const writer = createClient({ socket: { port: shared.server.port, host: '127.0.0.1' } });
    const other = connect();
    await writer.connect();
    const ever = new Set([...stable, ...churn]);
    let round = 0;
    // One round between every two pages: keys after and before the cursor appear and vanish.
    const writeRound = async (): Promise<void> => {
      round++;
      const deleted = churn.slice((round * 7) % 400, ((round * 7) % 400) + 7);
      const added = Array.from(
        { length: 5 },
        (_, i) => `live:${String((round * 37 + i * 401) % 2000).padStart(4, '0')}+${round}`,
      );
      for (const key of added) ever.add(key);
      await writer.del(deleted);
      await writer.mSet(added.map((key) => [key, 'n'] as [string, string]));
      await other.set(`elsewhere:${round}`, 'x');
    };
    try {
      const scanner = connect();
      const { seen } = await scanAll(scanner, ['MATCH', 'live:*', 'COUNT', 25], writeRound);
      expect(round).toBeGreaterThan(50);
      expect(stable.filter((key) => seen.get(key) !== 1)).toEqual([]);
      expect([...seen.keys()].filter((key) => !ever.has(key))).toEqual([]);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);

      // node-redis's iterator, with the same churn between its pages.
      const fromNodeRedis = new Map<string, number>();
      const reader = createClient({ socket: { port: shared.server.port, host: '127.0.0.1' } });
      await reader.connect();
      try {
        for await (const page of reader.scanIterator({ MATCH: 'live:*', COUNT: 40 })) {
          for (const key of page) fromNodeRedis.set(key, (fromNodeRedis.get(key) ?? 0) + 1);
          await writeRound();
        }
      } finally {
        reader.destroy();
      }
      expect(stable.filter((key) => fromNodeRedis.get(key) !== 1)).toEqual([]);
      expect([...fromNodeRedis.keys()].filter((key) => !ever.has(key))).toEqual([]);
    } finally {
      writer.destroy();
    }
  });

  it('SCAN over 12,000 keys with COUNT 10 ends and returns each key once (ioredis, redis-cli)', async () => {
    const own = await startTestServer();
    const redis = new Redis({ port: own.port, host: '127.0.0.1' });
    try {
      const keys = Array.from({ length: 12_000 }, (_, i) => `many:${i}`);
      await seed(keys, own.store);
      const { seen, pages } = await scanAll(redis, ['COUNT', 10]);
      expect(pages).toBe(1200);
      expect(keys.filter((key) => seen.get(key) !== 1)).toEqual([]);
      expect(seen.size).toBe(keys.length);
      const fromCli = (await redisCli(own.port, ['--scan'])).trim().split('\n');
      expect(fromCli.length).toBe(keys.length);
      expect(new Set(fromCli)).toEqual(new Set(keys));
    } finally {
      redis.disconnect();
      await own.close();
    }
  });
});

describe('SCAN cursors', () => {
  it('replays the previous cursor, forgets a finished scan, and answers Redis-shaped errors', async () => {
    const redis = connect();
    await redis.mset('cur:a', '1', 'cur:b', '2', 'cur:c', '3', 'cur:d', '4', 'cur:e', '5');
    const page = (cursor: string) =>
      redis.call('SCAN', cursor, 'MATCH', 'cur:*', 'COUNT', 2) as Promise<[string, string[]]>;
    const [c1, p1] = await page('0');
    expect(p1).toEqual(['cur:a', 'cur:b']);
    const [c2, p2] = await page(c1);
    expect(p2).toEqual(['cur:c', 'cur:d']);
    expect(await page(c1)).toEqual([c2, ['cur:c', 'cur:d']]); // a retry of a lost reply
    expect(await page(c2)).toEqual(['0', ['cur:e']]);
    await expect(page(c2)).rejects.toThrow(/unknown or expired cursor/);
    // Unsigned 64-bit cursors are well formed; one kvd never handed out is unknown.
    await expect(page('18446744073709551615')).rejects.toThrow(/unknown or expired cursor/);
    for (const bad of ['18446744073709551616', '-1', '1.5', 'abc']) {
      await expect(page(bad)).rejects.toThrow('ERR invalid cursor');
    }
    expect(await redis.call('SCAN', '0', 'TYPE', 'hash', 'COUNT', 1)).toEqual(['0', []]);
  });
});
