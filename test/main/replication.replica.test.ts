// kvd as a replica of a real redis-server 7 (disk-based and diskless full resyncs): the master's
// dataset arrives and the command stream follows under a write load with expiries, read-modify-
// writes and MULTI/EXEC; the datasets are then compared key by key and expiry by expiry. Also:
// keys of other types skipped and counted, read-only refusal, ROLE and INFO replication, a broken
// link resumed with +CONTINUE, and REPLICAOF at runtime (to a master, and NO ONE).

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import {
  freeTcpPort,
  hasRedisServer,
  startRedis,
  type TestRedis,
} from '../fixtures/redis-server.js';
import { caughtUp, replicationInfo, strings, writeLoad } from '../fixtures/replication.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

type Kvd = Awaited<ReturnType<typeof startTestServer>>;
const masters: TestRedis[] = [];
const replicas: Kvd[] = [];
const clients: Redis[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  for (const kvd of replicas.splice(0)) await kvd.close();
  for (const master of masters.splice(0)) await master.stop();
  await removeTempDirs();
});

async function startMaster(diskless: boolean): Promise<TestRedis> {
  const options = diskless
    ? ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0']
    : ['--repl-diskless-sync', 'no'];
  const master = await startRedis(await makeTempDir('repl-master'), options, await freeTcpPort());
  masters.push(master);
  return master;
}

async function startReplica(master?: TestRedis): Promise<{ kvd: Kvd; client: Redis }> {
  const kvd = await startTestServer(
    master ? { replicaOf: { host: '127.0.0.1', port: master.port } } : {},
  );
  replicas.push(kvd);
  const client = new Redis({ port: kvd.port, lazyConnect: true });
  clients.push(client);
  await client.connect();
  return { kvd, client };
}

describe.skipIf(!hasRedisServer())('kvd as a replica of redis-server', () => {
  for (const diskless of [false, true]) {
    it(`loads the master's data and follows its stream (${diskless ? 'diskless' : 'disk-based'} sync)`, async () => {
      const master = await startMaster(diskless);
      // Before the replica exists: strings in every encoding, expiries, and other types.
      await master.client.set('int', '12345');
      await master.client.set('lzf', 'abcdefgh'.repeat(2_000), 'PX', 3_600_000);
      await master.client.set(Buffer.from([0, 255, 10]), Buffer.from([13, 10]));
      for (let i = 0; i < 2_000; i++) await master.client.set(`pre:${i}`, `v${i}`);
      await master.client.rpush('a-list', 'x', 'y');
      await master.client.hset('a-hash', 'f', 'v');
      await master.client.set('gone', 'soon', 'PX', 1);
      const { client } = await startReplica(master);
      const load = writeLoad(master.client, 1, 3_000); // while the full resync runs
      await load;
      await caughtUp(master.client, client);
      await writeLoad(master.client, 2, 3_000);
      await caughtUp(master.client, client);

      expect(await strings(client, false)).toEqual(await strings(master.client, true));
      const info = await replicationInfo(client);
      expect(info.role).toBe('slave');
      expect(info.master_port).toBe(String(master.port));
      expect(info.kvd_full_syncs).toBe('1');
      expect(info.kvd_skipped_list_keys).toBe('1');
      expect(info.kvd_skipped_hash_keys).toBe('1');
      const role = (await client.call('ROLE')) as unknown[];
      expect(role.slice(0, 4)).toEqual(['slave', '127.0.0.1', master.port, 'connected']);
      expect(role[4]).toBe(Number(info.slave_repl_offset));
    });
  }

  it('refuses writes from clients, inside MULTI too, and still serves reads', async () => {
    const master = await startMaster(true);
    await master.client.set('k', 'from the master');
    const { client } = await startReplica(master);
    await caughtUp(master.client, client);
    await expect(client.set('k', 'x')).rejects.toThrow(
      /^READONLY You can't write against a read only replica/,
    );
    await expect(client.multi().set('k', 'x').exec()).rejects.toThrow(/EXECABORT/);
    await expect(client.incr('n')).rejects.toThrow(/^READONLY/);
    expect(await client.get('k')).toBe('from the master');
  });

  it('authenticates as an ACL user (--masteruser) where the default user may not replicate', async () => {
    const master = await startRedis(
      await makeTempDir('repl-acl-master'),
      [
        ...['--user', 'default', 'on', 'nopass', '~*', '&*', '+@all', '-psync', '-sync'],
        ...['--user', 'replicator', 'on', '>s3cret', '~*', '&*', '+@all'],
      ],
      await freeTcpPort(),
    );
    masters.push(master);
    await master.client.set('k', 'for the replicator');
    const address = { host: '127.0.0.1', port: master.port };
    const withUser = await startTestServer({
      replicaOf: address,
      masterAuth: 's3cret',
      masterUser: 'replicator',
    });
    replicas.push(withUser);
    const client = new Redis({ port: withUser.port });
    clients.push(client);
    await caughtUp(master.client, client);
    expect(await client.get('k')).toBe('for the replicator');
    // As the default user, PSYNC is refused (NOPERM, in the master's ACL log): no link.
    const without = await startTestServer({ replicaOf: address });
    replicas.push(without);
    const other = new Redis({ port: without.port });
    clients.push(other);
    expect(await master.client.call('ACL', 'LOG', 'RESET')).toBe('OK');
    await pollUntil(
      'the master logged the refused PSYNC',
      async () => ((await master.client.call('ACL', 'LOG')) as unknown[]).length > 0,
      10_000,
    );
    expect((await replicationInfo(other)).master_link_status).toBe('down');
  });

  it('resumes a broken link with +CONTINUE and loses nothing', async () => {
    const master = await startMaster(true);
    const { client } = await startReplica(master);
    await writeLoad(master.client, 1, 1_000);
    await caughtUp(master.client, client);
    expect(await master.client.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBe(1);
    await writeLoad(master.client, 2, 1_000);
    await caughtUp(master.client, client);
    const info = await replicationInfo(client);
    expect(info.kvd_partial_syncs).toBe('1');
    expect(info.kvd_full_syncs).toBe('1');
    expect(await strings(client, false)).toEqual(await strings(master.client, true));
  });

  it('becomes a replica at runtime (its own data replaced) and a master again with NO ONE', async () => {
    const master = await startMaster(true);
    await master.client.set('shared', 'master value');
    const { client } = await startReplica();
    await client.set('own', 'replaced by the sync');
    expect(await client.call('REPLICAOF', '127.0.0.1', String(master.port))).toBe('OK');
    await caughtUp(master.client, client);
    expect(await client.get('own')).toBeNull();
    expect(await client.get('shared')).toBe('master value');
    expect(await client.call('REPLICAOF', 'NO', 'ONE')).toBe('OK');
    expect((await replicationInfo(client)).role).toBe('master');
    await client.set('own', 'mine again');
    expect(await client.get('own')).toBe('mine again');
    await master.client.set('shared', 'no longer followed');
    expect(await client.get('shared')).toBe('master value');
    await expect(client.call('SLAVEOF', 'localhost', 'x')).rejects.toThrow(/not an integer/);
  });
});

describe.skipIf(!hasRedisServer())('kvd as a replica across its own restart', () => {
  it('keeps the master id and offset through a clean stop and continues with +CONTINUE', async () => {
    const master = await startMaster(true);
    const dir = await makeTempDir('repl-restart');
    const first = await startTestServer({
      dir,
      replicaOf: { host: '127.0.0.1', port: master.port },
    });
    const client = new Redis({ port: first.port });
    await writeLoad(master.client, 1, 1_000);
    await caughtUp(master.client, client);
    client.disconnect();
    await first.close();
    expect(existsSync(join(dir, 'replication.json'))).toBe(true);
    await writeLoad(master.client, 2, 1_000); // while the replica is down

    const { client: again } = await startReplicaIn(dir, master);
    expect(existsSync(join(dir, 'replication.json'))).toBe(false); // taken as it was read
    await caughtUp(master.client, again);
    const info = await replicationInfo(again);
    expect(info.kvd_partial_syncs).toBe('1');
    expect(info.kvd_full_syncs).toBe('0');
    expect(await strings(again, false)).toEqual(await strings(master.client, true));
  });

  it('makes a full resync when the saved offset names another master', async () => {
    const master = await startMaster(true);
    const dir = await makeTempDir('repl-other');
    await writeFile(
      join(dir, 'replication.json'),
      JSON.stringify({ master: { host: '127.0.0.1', port: 1 }, replId: 'a'.repeat(40), offset: 5 }),
    );
    await master.client.set('k', 'v');
    const { client } = await startReplicaIn(dir, master);
    await caughtUp(master.client, client);
    expect((await replicationInfo(client)).kvd_full_syncs).toBe('1');
    expect(await client.get('k')).toBe('v');
  });
});

async function startReplicaIn(
  dir: string,
  master: TestRedis,
): Promise<{ kvd: Kvd; client: Redis }> {
  const kvd = await startTestServer({ dir, replicaOf: { host: '127.0.0.1', port: master.port } });
  replicas.push(kvd);
  const client = new Redis({ port: kvd.port });
  clients.push(client);
  return { kvd, client };
}
