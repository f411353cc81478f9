// Tests that a transaction is one atomic batch in the log: a `kvd serve --durability always`
// child receives pipelined EXECs of multi-key transactions from several clients and is killed
// (SIGKILL) after a random number of acknowledgements, over several rounds on one directory.
// After each restart every transaction is all or nothing (its keys, a counter it increments and
// a pair of keys it overwrites agree) and every acknowledged EXEC is there.

import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { spawnServer } from '../fixtures/kvd-server.js';
import { prng } from '../fixtures/prng.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterAll(removeTempDirs);

/** A transaction the test sent: its id and how many `tx:` keys it writes. */
interface Sent {
  readonly id: string;
  readonly width: number;
}

function client(port: number): Redis {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  return redis;
}

/**
 * One transaction: writes `tx:<id>:<width>:<j>` = id for each j, adds `width` to `total`, and
 * sets both `pair:a` and `pair:b` to the id.
 */
function send(redis: Redis, { id, width }: Sent): Promise<unknown> {
  const multi = redis.multi();
  for (let j = 0; j < width; j++) multi.set(`tx:${id}:${width}:${j}`, id);
  return multi.incrby('total', width).set('pair:a', id).set('pair:b', id).exec();
}

/**
 * Runs `connections` clients, each keeping `depth` transactions in flight, until the server
 * dies; kills it (SIGKILL) once `killAfter` EXECs were acknowledged. Resolves with the
 * acknowledged transactions.
 */
async function loadUntilKilled(
  port: number,
  kill: () => void,
  round: number,
  killAfter: number,
): Promise<Sent[]> {
  const acked: Sent[] = [];
  const random = prng(round);
  let next = 0;
  const run = async (redis: Redis): Promise<void> => {
    for (;;) {
      const sent: Sent = { id: `r${round}n${next++}`, width: 1 + Math.floor(random() * 5) };
      let replies: [Error | null, unknown][];
      try {
        replies = (await send(redis, sent)) as [Error | null, unknown][];
      } catch {
        return; // the server is gone
      }
      expect(replies.map(([err]) => err)).toEqual(replies.map(() => null));
      acked.push(sent);
      if (acked.length === killAfter) kill();
    }
  };
  const redises = Array.from({ length: 4 }, () => client(port));
  // Four clients, each with four transactions pipelined.
  await Promise.all(redises.flatMap((redis) => Array.from({ length: 4 }, () => run(redis))));
  for (const redis of redises) redis.disconnect();
  return acked;
}

/** What the store holds: every transaction's keys, grouped by id; the counter; the pair. */
interface Found {
  readonly keysById: Map<string, { width: number; keys: number; valuesMatch: boolean }>;
  readonly total: number;
  readonly pair: [string | null, string | null];
}

async function inspect(read: {
  keys(pattern: string): Promise<string[]>;
  get(key: string): Promise<string | null>;
}): Promise<Found> {
  const keysById = new Map<string, { width: number; keys: number; valuesMatch: boolean }>();
  for (const key of await read.keys('tx:*')) {
    const [, id, width] = key.split(':');
    const entry = keysById.get(id!) ?? { width: Number(width), keys: 0, valuesMatch: true };
    entry.keys++;
    if ((await read.get(key)) !== id) entry.valuesMatch = false;
    keysById.set(id!, entry);
  }
  return {
    keysById,
    total: Number((await read.get('total')) ?? 0),
    pair: [await read.get('pair:a'), await read.get('pair:b')],
  };
}

function expectWholeTransactions(found: Found, acked: readonly Sent[]): void {
  let total = 0;
  for (const [id, entry] of found.keysById) {
    expect({ id, keys: entry.keys, valuesMatch: entry.valuesMatch }).toEqual({
      id,
      keys: entry.width,
      valuesMatch: true,
    });
    total += entry.width;
  }
  expect(found.total).toBe(total);
  const missing = acked.filter(({ id }) => !found.keysById.has(id)).map(({ id }) => id);
  expect(missing).toEqual([]);
  expect(found.pair[0]).toBe(found.pair[1]);
  if (found.keysById.size > 0) expect(found.keysById.has(found.pair[0]!)).toBe(true);
}

describe('transactions across kill -9', () => {
  it('are all or nothing after every restart, and every acknowledged EXEC is kept', async () => {
    const dir = await makeTempDir('tx-crash');
    const acked: Sent[] = [];
    const killAt = prng(2024);
    for (let round = 1; round <= 4; round++) {
      const server = await spawnServer(['--dir', dir, '--readers', '1', '--durability', 'always']);
      const check = client(server.port);
      expectWholeTransactions(await inspect(check), acked);
      check.disconnect();
      const killAfter = 20 + Math.floor(killAt() * 150);
      acked.push(
        ...(await loadUntilKilled(
          server.port,
          () => server.child.kill('SIGKILL'),
          round,
          killAfter,
        )),
      );
      expect((await server.child.exited).signal).toBe('SIGKILL');
      expect(acked.length).toBeGreaterThan(0);
    }
    // The last kill checked from the store itself, without the daemon.
    const store = await Store.open(dir, { readers: 1 });
    try {
      const found = await inspect({
        keys: async () =>
          (await store.keys()).map((k) => k.toString()).filter((k) => k.startsWith('tx:')),
        get: async (key) => (await store.get(key))?.toString() ?? null,
      });
      expectWholeTransactions(found, acked);
    } finally {
      await store.close();
    }
  });
});
