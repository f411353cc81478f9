// kvd as a master: a real redis-server 7 and a kvd replicate from it (a full resync from a
// snapshot, diskless and disk-based, while writes go on, then the stream made from the change
// feed), datasets compared key by key and expiry by expiry after a write load with expiries,
// read-modify-writes and MULTI/EXEC; WAIT, INFO replication and ROLE; a broken link continued
// from the backlog (+CONTINUE); a replica promoted with REPLICAOF NO ONE serving the others.

import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { scrape } from '../fixtures/prometheus.js';
import { hasRedisServer, startRedis, type TestRedis } from '../fixtures/redis-server.js';
import { caughtUp, replicationInfo, strings, writeLoad } from '../fixtures/replication.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

type Kvd = Awaited<ReturnType<typeof startTestServer>>;
const servers: Kvd[] = [];
const redises: TestRedis[] = [];
const clients: Redis[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  for (const redis of redises.splice(0)) await redis.stop();
  for (const kvd of servers.splice(0)) await kvd.close();
  await removeTempDirs();
});

async function startKvd(
  replicaOfPort?: number,
  metrics = false,
): Promise<{ kvd: Kvd; client: Redis }> {
  const kvd = await startTestServer({
    ...(replicaOfPort === undefined
      ? {}
      : { replicaOf: { host: '127.0.0.1', port: replicaOfPort } }),
    ...(metrics ? { metrics: { port: 0 } } : {}),
  });
  servers.push(kvd);
  const client = new Redis({ port: kvd.port });
  clients.push(client);
  return { kvd, client };
}

async function startRedisReplica(masterPort: number, diskless: boolean): Promise<TestRedis> {
  const redis = await startRedis(await makeTempDir('redis-replica'), [
    ...['--replicaof', '127.0.0.1', String(masterPort)],
    ...['--repl-diskless-load', diskless ? 'swapdb' : 'disabled'],
  ]);
  redises.push(redis);
  return redis;
}

async function preload(master: Redis): Promise<void> {
  await master.set('lzf', 'abcdefgh'.repeat(2_000), 'PX', 3_600_000);
  await master.set(Buffer.from([0, 255, 10]), Buffer.from([13, 10]));
  for (let i = 0; i < 2_000; i++) await master.set(`pre:${i}`, `v${i}`);
}

describe.skipIf(!hasRedisServer())('kvd as a master', () => {
  for (const diskless of [true, false]) {
    it(`is replicated by redis-server (${diskless ? 'diskless' : 'disk-based'} load)`, async () => {
      const { kvd, client } = await startKvd();
      await preload(client);
      const redis = await startRedisReplica(kvd.port, diskless);
      await writeLoad(client, 1, 3_000); // during the full resync
      await caughtUp(client, redis.client);
      await writeLoad(client, 2, 3_000);
      await caughtUp(client, redis.client);
      expect(await strings(redis.client, true)).toEqual(await strings(client, false));

      const info = await replicationInfo(client);
      expect(info.role).toBe('master');
      expect(info.connected_slaves).toBe('1');
      expect(info.slave0).toMatch(/^ip=127\.0\.0\.1,port=0,state=online,offset=\d+,lag=\d+$/);
      expect(await client.call('WAIT', '1', '5000')).toBe(1);
      // ROLE reports the offset INFO does. The stream may grow between two reads (the REPLCONF
      // GETACK of a WAIT that found the replica's ack behind, the PING every 10 s), so compare
      // while two INFOs around ROLE agree.
      await pollUntil(
        'ROLE reports the replication offset INFO reports',
        async () => {
          const before = (await replicationInfo(client)).master_repl_offset;
          const role = (await client.call('ROLE')) as unknown[];
          const after = (await replicationInfo(client)).master_repl_offset;
          expect(role[0]).toBe('master');
          return before === after && role[1] === Number(before);
        },
        10_000,
      );
    });
  }

  it('is replicated by kvd, and WAIT counts it', async () => {
    const { kvd, client } = await startKvd();
    await preload(client);
    const { client: replica } = await startKvd(kvd.port);
    await writeLoad(client, 1, 3_000);
    await caughtUp(client, replica);
    await client.set('acked', 'by WAIT');
    expect(await client.call('WAIT', '1', '5000')).toBe(1);
    expect(await replica.get('acked')).toBe('by WAIT');
    expect(await strings(replica, false)).toEqual(await strings(client, false));
    expect((await replicationInfo(replica)).kvd_full_syncs).toBe('1');
  });

  it('continues a broken link from its backlog (+CONTINUE) and loses nothing', async () => {
    const { kvd, client } = await startKvd();
    const redis = await startRedisReplica(kvd.port, true);
    await writeLoad(client, 1, 1_000);
    await caughtUp(client, redis.client);
    expect(await redis.client.call('CLIENT', 'KILL', 'TYPE', 'master')).toBe(1);
    await writeLoad(client, 2, 1_000);
    await caughtUp(client, redis.client);
    const stats = (await client.info('stats')) as string;
    expect(stats).toMatch(/sync_full:1\r\n/);
    expect(stats).toMatch(/sync_partial_ok:1\r\n/);
    expect(await strings(redis.client, true)).toEqual(await strings(client, false));
  });

  it('a kvd replica promoted with REPLICAOF NO ONE serves a redis-server that followed the old master', async () => {
    const { kvd: first, client: master } = await startKvd();
    const { kvd: second, client: promoted } = await startKvd(first.port);
    await writeLoad(master, 1, 1_000);
    await caughtUp(master, promoted);
    expect(await promoted.call('REPLICAOF', 'NO', 'ONE')).toBe('OK');
    await promoted.set('after', 'the promotion');
    const redis = await startRedisReplica(second.port, true);
    await caughtUp(promoted, redis.client);
    expect(await redis.client.get('after')).toBe('the promotion');
    expect(await strings(redis.client, true)).toEqual(await strings(promoted, false));
    const info = await replicationInfo(promoted);
    expect(info.role).toBe('master');
    expect(info.master_replid2).toMatch(/^[0-9a-f]{40}$/);
    expect(Number(info.second_repl_offset)).toBeGreaterThan(0);
  });

  it('exports the replication offset, the replicas and their lag in /metrics', async () => {
    const { kvd: master, client } = await startKvd(undefined, true);
    const { kvd: replicaServer, client: replica } = await startKvd(master.port, true);
    await writeLoad(client, 1, 500);
    await caughtUp(client, replica);
    const [m, r] = await Promise.all([replicationInfo(client), replicationInfo(replica)]);
    const fromMaster = await scrape(master.metrics!.url);
    expect(fromMaster.value('kvd_repl_offset')).toBe(Number(m.master_repl_offset));
    expect(fromMaster.value('kvd_repl_is_replica')).toBe(0);
    expect(fromMaster.value('kvd_repl_connected_replicas')).toBe(1);
    // The replica acknowledges what it applied every second: its lag comes down to 0 bytes.
    const name = `127.0.0.1:${replicaServer.port}`;
    await pollUntil(
      'the replica lag reads 0 bytes',
      async () =>
        (await scrape(master.metrics!.url)).value('kvd_repl_replica_lag_bytes', {
          replica: name,
        }) === 0,
      10_000,
    );
    const fromReplica = await scrape(replicaServer.metrics!.url);
    expect(fromReplica.value('kvd_repl_offset')).toBe(Number(r.slave_repl_offset));
    expect(fromReplica.value('kvd_repl_is_replica')).toBe(1);
    expect(fromReplica.value('kvd_repl_master_link_up')).toBe(1);
  });

  it('refuses writes with NOREPLICAS until a replica acknowledges (min-replicas-to-write)', async () => {
    const kvd = await startTestServer({
      replication: { minReplicasToWrite: 1, minReplicasMaxLag: 2, backlogBytes: 65_536 },
    });
    servers.push(kvd);
    const client = new Redis({ port: kvd.port });
    clients.push(client);
    await expect(client.set('k', 'v')).rejects.toThrow(
      /^NOREPLICAS Not enough good replicas to write/,
    );
    await expect(client.multi().set('k', 'v').exec()).rejects.toThrow(/EXECABORT/);
    expect(await client.get('k')).toBeNull(); // reads are served
    const { kvd: replicaServer } = await startKvd(kvd.port);
    await pollUntil(
      'a write is accepted',
      () =>
        client.set('k', 'v').then(
          () => true,
          () => false,
        ),
      10_000,
    );
    expect((await replicationInfo(client)).repl_backlog_size).toBe('65536');
    await replicaServer.close();
    servers.splice(servers.indexOf(replicaServer), 1);
    await pollUntil(
      'writes are refused again',
      () =>
        client.set('k', 'w').then(
          () => false,
          (error: Error) => /^NOREPLICAS/.test(error.message),
        ),
      10_000,
    );
  });

  it('asks its replicas for --requirepass, and a restarted master gets a full resync', async () => {
    const dir = await makeTempDir('repl-auth-master');
    const first = await startTestServer({ dir, requirepass: 'secret' });
    servers.push(first);
    const client = new Redis({ port: first.port, password: 'secret' });
    clients.push(client);
    await client.set('k', 'before');
    const replicaServer = await startTestServer({
      replicaOf: { host: '127.0.0.1', port: first.port },
      masterAuth: 'secret',
    });
    servers.push(replicaServer);
    const replica = new Redis({ port: replicaServer.port });
    clients.push(replica);
    await caughtUp(client, replica);
    expect(await replica.get('k')).toBe('before');
    const before = await replicationInfo(client);

    // The master restarts on the same port and directory: a new id, so a full resync.
    client.disconnect();
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    const again = await startTestServer({ dir, port: first.port, requirepass: 'secret' });
    servers.push(again);
    const restarted = new Redis({ port: again.port, password: 'secret' });
    clients.push(restarted);
    await restarted.set('k', 'after');
    await caughtUp(restarted, replica);
    expect(await replica.get('k')).toBe('after');
    expect((await replicationInfo(restarted)).master_replid).not.toBe(before.master_replid);
    expect((await replicationInfo(replica)).kvd_full_syncs).toBe('2');
  });
});
