// Tests kvd as a replica of a real redis-server 7 against random command sequences: fast-check
// makes sequences of the string, bit and keyspace commands (with MULTI/EXEC/WATCH and RESET, and
// awkward arguments; test/fixtures/redis-commands.ts), the master runs each on an emptied
// keyspace, and once kvd has applied the master's stream to its offset, every string key, value
// and expiry on kvd must be the master's. So whatever Redis propagates for these commands
// (SETRANGE, BITFIELD, BITOP, COPY, INCRBYFLOAT as SET KEEPTTL, GETEX as PEXPIREAT or PERSIST,
// expiries as absolute times, lazily expired keys as DEL, transactions as MULTI/EXEC) kvd
// applies as Redis does.

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
    await fc.assert(
      fc.asyncProperty(fc.array(oneCommand, { minLength: 1, maxLength: 20 }), async (commands) => {
        await masterRaw.call('RESET');
        await masterRaw.call('FLUSHALL');
        for (const args of commands) await masterRaw.call(...args);
        await masterRaw.call('RESET'); // an EXEC left out would leave a transaction open
        await caughtUp(master.client, replicaClient);
        expect(await strings(replicaClient, false)).toEqual(await strings(master.client, true));
      }),
      { numRuns: Number(process.env.DIFF_RUNS ?? 150) },
    );
  }, 120_000);
});
