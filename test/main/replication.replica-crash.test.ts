// A kvd replica SIGKILLed in the middle of its master's write load, then started again on the
// same directory: it continues from its last checkpoint with +CONTINUE when every command since
// is a blind write (a kvd master's whole stream; plain SETs and DELs from redis-server), and the
// dataset is then exactly the master's. When the master sends read-modify-writes (INCRBY,
// APPEND, …) the checkpoint is removed before they are applied, so whatever resync follows, no
// command is applied twice: the counters match the master's. A replica promoted with REPLICAOF
// NO ONE keeps no checkpoint, and one whose master restarted checkpoints the new stream.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServerProcess, spawnServer, startTestServer } from '../fixtures/kvd-server.js';
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
const daemons: ServerProcess[] = [];
const servers: Kvd[] = [];
const redises: TestRedis[] = [];
const clients: Redis[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  for (const daemon of daemons.splice(0)) {
    daemon.child.kill();
    await daemon.child.exited;
  }
  for (const server of servers.splice(0)) await server.close();
  for (const redis of redises.splice(0)) await redis.stop();
  await removeTempDirs();
});

function connect(port: number): Redis {
  const client = new Redis({ port });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

/** A kvd replica as a child process (so it can be SIGKILLed) in `dir`. */
async function startReplica(dir: string, masterPort: number): Promise<[ServerProcess, Redis]> {
  const daemon = await spawnServer([
    ...['--dir', dir, '--readers', '1', '--replicaof', `127.0.0.1:${masterPort}`],
  ]);
  daemons.push(daemon);
  return [daemon, connect(daemon.port)];
}

/**
 * Runs `load` on the master and SIGKILLs the replica once it has applied part of it (its
 * offset moved past `from`), then waits for the load to finish.
 */
async function killDuringLoad(
  daemon: ServerProcess,
  replica: Redis,
  load: Promise<unknown>,
): Promise<void> {
  const from = Number((await replicationInfo(replica)).slave_repl_offset);
  await pollUntil(
    'the replica applied part of the load',
    async () => Number((await replicationInfo(replica)).slave_repl_offset) > from,
    30_000,
  );
  daemon.child.kill('SIGKILL');
  await daemon.child.exited;
  daemons.splice(daemons.indexOf(daemon), 1);
  await load;
}

/** Plain SETs and DELs only: blind writes. */
async function blindLoad(master: Redis, round: number, count: number): Promise<void> {
  const work: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    work.push(
      i % 5 === 4
        ? master.del(`blind:${(i * 7) % 300}`)
        : master.set(`blind:${i % 300}`, `${round}-${i}`),
    );
  }
  await Promise.all(work);
}

describe('a kvd replica SIGKILLed during the load', () => {
  it('continues from its checkpoint (+CONTINUE) with a kvd master, and holds exactly its data', async () => {
    // A backlog that holds the whole load: the replica's checkpoint is its only question.
    const master = await startTestServer({ replication: { backlogBytes: 64 * 1024 * 1024 } });
    servers.push(master);
    const masterClient = connect(master.port);
    const dir = await makeTempDir('crash-replica');
    const [daemon, replica] = await startReplica(dir, master.port);
    await writeLoad(masterClient, 1, 1_000);
    await caughtUp(masterClient, replica);
    await pollUntil(
      'a checkpoint is written',
      () => existsSync(join(dir, 'replication.json')),
      10_000,
    );

    await killDuringLoad(daemon, replica, writeLoad(masterClient, 2, 20_000));
    await writeLoad(masterClient, 3, 1_000); // while it is down

    const [, again] = await startReplica(dir, master.port);
    await caughtUp(masterClient, again);
    const info = await replicationInfo(again);
    expect(info).toMatchObject({ kvd_partial_syncs: '1', kvd_full_syncs: '0' });
    expect(await strings(again, false)).toEqual(await strings(masterClient, false));
  });
});

describe('a kvd replica promoted with REPLICAOF NO ONE', () => {
  it('drops its checkpoint, so a restart as a replica again makes a full resync', async () => {
    const master = await startTestServer({});
    servers.push(master);
    const masterClient = connect(master.port);
    const dir = await makeTempDir('promoted-replica');
    const replica = await startTestServer({
      dir,
      replicaOf: { host: '127.0.0.1', port: master.port },
    });
    const replicaClient = connect(replica.port);
    await writeLoad(masterClient, 1, 500);
    await caughtUp(masterClient, replicaClient);
    await pollUntil(
      'a checkpoint is written',
      () => existsSync(join(dir, 'replication.json')),
      10_000,
    );
    await replicaClient.call('REPLICAOF', 'NO', 'ONE');
    expect(existsSync(join(dir, 'replication.json'))).toBe(false);
    // Written as a master: a continuation from the old offset would keep it beside the stream.
    await replicaClient.set('mine', 'written while a master');
    replicaClient.disconnect();
    await replica.close();
    expect(existsSync(join(dir, 'replication.json'))).toBe(false); // a master keeps none

    const again = await startTestServer({
      dir,
      replicaOf: { host: '127.0.0.1', port: master.port },
    });
    servers.push(again);
    const againClient = connect(again.port);
    await caughtUp(masterClient, againClient);
    expect(await replicationInfo(againClient)).toMatchObject({ kvd_full_syncs: '1' });
    expect(await againClient.get('mine')).toBeNull();
    expect(await strings(againClient, false)).toEqual(await strings(masterClient, false));
  });
});

describe('a kvd replica SIGKILLed after its master restarted', () => {
  it('checkpoints the new stream from its start (offsets begin again after the full resync)', async () => {
    const port = await freeTcpPort();
    const masterDir = await makeTempDir('crash-master');
    const first = await startTestServer({ dir: masterDir, port });
    const firstClient = connect(port);
    const dir = await makeTempDir('crash-replica');
    const [daemon, replica] = await startReplica(dir, port);
    // A long first stream, so that its offsets pass whatever the second one reaches.
    await writeLoad(firstClient, 1, 5_000);
    await caughtUp(firstClient, replica);
    await pollUntil(
      'a checkpoint is written',
      () => existsSync(join(dir, 'replication.json')),
      10_000,
    );

    // The master restarts: a new replication id, offsets from 0, a full resync.
    firstClient.disconnect();
    await first.close();
    const master = await startTestServer({ dir: masterDir, port });
    servers.push(master);
    const masterClient = connect(port);
    await pollUntil(
      'the replica made its second full resync',
      async () => (await replicationInfo(replica)).kvd_full_syncs === '2',
      30_000,
    );
    await writeLoad(masterClient, 2, 200);
    await caughtUp(masterClient, replica);
    await pollUntil(
      'a checkpoint of the new stream is written',
      () => existsSync(join(dir, 'replication.json')),
      10_000,
    );
    daemon.child.kill('SIGKILL');
    await daemon.child.exited;
    daemons.splice(daemons.indexOf(daemon), 1);

    const [, again] = await startReplica(dir, port);
    await caughtUp(masterClient, again);
    expect(await replicationInfo(again)).toMatchObject({
      kvd_partial_syncs: '1',
      kvd_full_syncs: '0',
    });
    expect(await strings(again, false)).toEqual(await strings(masterClient, false));
  });
});

describe.skipIf(!hasRedisServer())(
  'a kvd replica of redis-server SIGKILLed during the load',
  () => {
    it('continues with +CONTINUE after blind writes, and applies no read-modify-write twice', async () => {
      const master = await startRedis(
        await makeTempDir('crash-master'),
        ['--repl-backlog-size', '64mb'],
        await freeTcpPort(),
      );
      redises.push(master);
      const dir = await makeTempDir('crash-replica');
      let [daemon, replica] = await startReplica(dir, master.port);
      await blindLoad(master.client, 1, 1_000);
      await caughtUp(master.client, replica);
      await pollUntil(
        'a checkpoint is written',
        () => existsSync(join(dir, 'replication.json')),
        10_000,
      );

      // Blind writes only: the checkpoint stays, and the replica continues from it.
      await killDuringLoad(daemon, replica, blindLoad(master.client, 2, 20_000));
      [daemon, replica] = await startReplica(dir, master.port);
      await caughtUp(master.client, replica);
      expect(await replicationInfo(replica)).toMatchObject({
        kvd_partial_syncs: '1',
        kvd_full_syncs: '0',
      });
      expect(await strings(replica, false)).toEqual(await strings(master.client, true));

      // Read-modify-writes (INCRBY, APPEND, PEXPIREAT, …): killed among them, it must not apply
      // one twice, whichever resync it gets.
      await pollUntil(
        'a checkpoint is written',
        () => existsSync(join(dir, 'replication.json')),
        10_000,
      );
      await killDuringLoad(daemon, replica, writeLoad(master.client, 3, 20_000));
      [daemon, replica] = await startReplica(dir, master.port);
      await caughtUp(master.client, replica);
      expect(await strings(replica, false)).toEqual(await strings(master.client, true));
    });
  },
);
