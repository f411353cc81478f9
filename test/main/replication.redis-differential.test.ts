// Tests replication between kvd and a real redis-server 7, each way, against random command
// sequences: fast-check makes sequences of the string, bit and keyspace commands (with
// MULTI/EXEC/WATCH and RESET, and awkward arguments; test/fixtures/redis-commands.ts), the master
// runs each on an emptied keyspace, and once the replica has applied the master's stream to its
// offset, every string key, value and expiry on it must be the master's. So kvd applies whatever
// Redis propagates for these commands (SETRANGE, BITFIELD, BITOP, COPY, INCRBYFLOAT as SET
// KEEPTTL, GETEX as PEXPIREAT or PERSIST, expiries as absolute times, lazily expired keys as DEL,
// transactions as MULTI/EXEC), and redis-server applies whatever kvd propagates for them.

import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { Redis as RedisClient } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../fixtures/kvd-server.js';
import { oneCommand } from '../fixtures/redis-commands.js';
import {
  freeTcpPort,
  hasRedisServer,
  startRedis,
  type TestRedis,
} from '../fixtures/redis-server.js';
import { caughtUp, strings } from '../fixtures/replication.js';
import { RespClient } from '../fixtures/resp-client.js';
import type { TestServer } from '../fixtures/shared-server.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

/**
 * Whether redis-server itself would leave its replicas behind on `args`: a BITFIELD under
 * OVERFLOW FAIL whose every write failed still grows (or creates) the key on the master, but
 * Redis propagates a BITFIELD only when a write happened, so no replica of it sees the change.
 */
function divergesInRedis(args: readonly string[]): boolean {
  return args[0] === 'BITFIELD' && args.includes('FAIL');
}

/** The servers of one direction: the master's raw client and both servers' clients. */
interface Link {
  readonly master: RespClient;
  readonly masterClient: Redis;
  readonly replicaClient: Redis;
  /** redis-server is the master (kvd the replica), so `divergesInRedis` commands are left out. */
  readonly masterIsRedis: boolean;
}

/**
 * The property: after each random sequence run on the emptied master, and once the replica has
 * caught up, every string key, value and expiry on the replica is the master's.
 */
async function holdsTheMastersData(link: Link): Promise<void> {
  const { master, masterClient, replicaClient, masterIsRedis } = link;
  await fc.assert(
    fc.asyncProperty(fc.array(oneCommand, { minLength: 1, maxLength: 20 }), async (commands) => {
      await master.call('RESET');
      await master.call('FLUSHALL');
      for (const args of commands) {
        if (!masterIsRedis || !divergesInRedis(args)) await master.call(...args);
      }
      await master.call('RESET'); // an EXEC left out would leave a transaction open
      await caughtUp(masterClient, replicaClient);
      expect(await strings(replicaClient, !masterIsRedis)).toEqual(
        await strings(masterClient, masterIsRedis),
      );
    }),
    { numRuns: Number(process.env.DIFF_RUNS ?? 150) },
  );
}

describe.runIf(hasRedisServer())('kvd as a replica, against random command sequences', () => {
  let master: TestRedis;
  let replica: TestServer;
  let replicaClient: Redis;
  let masterRaw: RespClient;

  beforeAll(async () => {
    master = await startRedis(await makeTempDir('repl-diff-master'), [], await freeTcpPort());
    replica = await startTestServer({ replicaOf: { host: '127.0.0.1', port: master.port } });
    replicaClient = new RedisClient({ port: replica.port, lazyConnect: true });
    await replicaClient.connect();
    masterRaw = await RespClient.connect(master.socket);
    await caughtUp(master.client, replicaClient);
  });
  afterAll(async () => {
    masterRaw?.close();
    replicaClient?.disconnect();
    await replica?.close();
    await master?.stop();
    await removeTempDirs();
  });

  it("holds the master's keys, values and expiries after each sequence", async () => {
    await holdsTheMastersData({
      master: masterRaw,
      masterClient: master.client,
      replicaClient,
      masterIsRedis: true,
    });
  }, 120_000);
});

describe.runIf(hasRedisServer())(
  'redis-server as a replica of kvd, against random command sequences',
  () => {
    let master: TestServer;
    let masterClient: Redis;
    let masterRaw: RespClient;
    let replica: TestRedis;

    beforeAll(async () => {
      master = await startTestServer();
      masterClient = new RedisClient({ port: master.port, lazyConnect: true });
      await masterClient.connect();
      masterRaw = await RespClient.connect(master.port);
      replica = await startRedis(await makeTempDir('repl-diff-replica'), [
        ...['--replicaof', '127.0.0.1', String(master.port)],
      ]);
      await caughtUp(masterClient, replica.client);
    });
    afterAll(async () => {
      masterRaw?.close();
      masterClient?.disconnect();
      await replica?.stop();
      await master?.close();
      await removeTempDirs();
    });

    it("holds kvd's keys, values and expiries after each sequence", async () => {
      await holdsTheMastersData({
        master: masterRaw,
        masterClient,
        replicaClient: replica.client,
        masterIsRedis: false,
      });
    }, 120_000);
  },
);
