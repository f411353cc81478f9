// Tests transactions under concurrent clients (ioredis, real sockets): optimistic increments
// with WATCH and retry lose no update; concurrent transfers between accounts (read-modify-write
// inside EXEC, no WATCH) keep the total, and read-only transactions running meanwhile always
// see a consistent total; transactions on disjoint keys all commit at the first attempt; an
// MGET never sees part of an MSET.

import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { prng } from '../fixtures/prng.js';
import { useSharedServer } from '../fixtures/shared-server.js';

const shared = useSharedServer();
const connect = () => shared.connect();

describe('concurrent transactions', () => {
  it('20 clients incrementing with WATCH, GET, MULTI, SET, EXEC and retry lose no update', async () => {
    const redises = Array.from({ length: 20 }, () => connect());
    await redises[0]!.set('cas:n', '0');
    let aborted = 0;
    const incrementOnce = async (redis: Redis): Promise<void> => {
      for (;;) {
        await redis.watch('cas:n');
        const n = Number(await redis.get('cas:n'));
        const result = await redis
          .multi()
          .set('cas:n', String(n + 1))
          .exec();
        if (result !== null) return;
        aborted++;
      }
    };
    await Promise.all(
      redises.map(async (redis) => {
        for (let i = 0; i < 10; i++) await incrementOnce(redis);
      }),
    );
    expect(await redises[0]!.get('cas:n')).toBe('200');
    // The clients really raced: some EXECs were aborted and retried.
    expect(aborted).toBeGreaterThan(0);
  });

  it('concurrent transfers keep the total, and read-only transactions always see it whole', async () => {
    const accounts = Array.from({ length: 6 }, (_, i) => `acct:${i}`);
    const setup = connect();
    await setup.mset(...accounts.flatMap((a) => [a, '100']));
    const random = prng(7);
    const transfers = Array.from({ length: 8 }, () => connect()).map(async (redis) => {
      for (let i = 0; i < 40; i++) {
        const from = accounts[Math.floor(random() * accounts.length)]!;
        const to = accounts[Math.floor(random() * accounts.length)]!;
        const amount = 1 + Math.floor(random() * 20);
        const result = await redis.multi().decrby(from, amount).incrby(to, amount).exec();
        expect(result!.map(([err]) => err)).toEqual([null, null]);
      }
    });
    let audits = 0;
    let transfersDone = false;
    const auditor = connect();
    const audit = (async () => {
      while (!transfersDone) {
        const [[err, balances]] = (await auditor
          .multi()
          .mget(...accounts)
          .exec()) as [[Error | null, string[]]];
        expect(err).toBeNull();
        expect(balances.reduce((sum, b) => sum + Number(b), 0)).toBe(600);
        audits++;
      }
    })();
    await Promise.all(transfers);
    transfersDone = true;
    await audit;
    expect(audits).toBeGreaterThan(0);
    const final = await setup.mget(...accounts);
    expect(final.reduce((sum, b) => sum + Number(b), 0)).toBe(600);
  });

  it('transactions on disjoint keys from many clients all commit', async () => {
    const redises = Array.from({ length: 10 }, () => connect());
    await Promise.all(
      redises.map(async (redis, c) => {
        for (let i = 0; i < 20; i++) {
          const result = await redis
            .multi()
            .incr(`own:${c}:count`)
            .append(`own:${c}:log`, `${i},`)
            .exec();
          expect(result).toEqual([
            [null, i + 1],
            [null, expect.any(Number)],
          ]);
        }
      }),
    );
    for (let c = 0; c < 10; c++) {
      expect(await redises[0]!.get(`own:${c}:count`)).toBe('20');
      expect(await redises[0]!.get(`own:${c}:log`)).toBe(
        Array.from({ length: 20 }, (_, i) => `${i},`).join(''),
      );
    }
  });

  it('an MGET never sees part of a concurrent MSET', async () => {
    const [writer, readerA, readerB] = [connect(), connect(), connect()];
    const group = Array.from({ length: 32 }, (_, i) => `mset:${i}`);
    await writer.mset(...group.flatMap((k) => [k, '0']));
    let done = false;
    let mixed = '';
    let reads = 0;
    const read = async (redis: Redis) => {
      while (!done && mixed === '') {
        const seen = new Set(await redis.mget(...group));
        if (seen.size !== 1) mixed = [...seen].join(',');
        reads++;
      }
    };
    const write = async () => {
      for (let n = 1; n <= 400 && mixed === ''; n += 4) {
        const pipeline = writer.pipeline();
        for (let k = n; k < n + 4; k++) pipeline.mset(...group.flatMap((key) => [key, String(k)]));
        await pipeline.exec();
      }
      done = true;
    };
    await Promise.all([write(), read(readerA), read(readerB)]);
    expect(mixed, `an MGET read several MSETs' values: ${mixed}`).toBe('');
    expect(reads).toBeGreaterThan(10);
  });
});
