// Failover of kvd by the stock Redis Sentinel: three kvd daemons (a master and two replicas, real
// child processes) watched by three `redis-server --sentinel`. The master is SIGKILLed under a
// write load from ioredis in Sentinel mode that acknowledges a write only once `WAIT 1` says a
// replica has it: the Sentinels must promote a replica (REPLICAOF NO ONE, CONFIG REWRITE and
// CLIENT KILL in one MULTI), repoint the other, and the client must go on writing at the new
// master; the acknowledged writes lost are counted (zero expected). The old master, restarted,
// is turned into a replica of the new one.

import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerProcess } from '../fixtures/kvd-server.js';
import { spawnServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { hasRedisServer } from '../fixtures/redis-server.js';
import { replicationInfo } from '../fixtures/replication.js';
import { sentinelList, startSentinel, type TestSentinel } from '../fixtures/sentinel.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const NAME = 'kvd-main';
const daemons: ServerProcess[] = [];
const sentinels: TestSentinel[] = [];
const clients: Redis[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  for (const sentinel of sentinels.splice(0)) await sentinel.stop();
  for (const daemon of daemons.splice(0)) {
    daemon.child.kill();
    await daemon.child.exited;
  }
  await removeTempDirs();
});

async function startKvd(dir: string, args: readonly string[] = []): Promise<ServerProcess> {
  const daemon = await spawnServer(['--dir', dir, '--readers', '1', ...args]);
  daemons.push(daemon);
  return daemon;
}

function connect(port: number): Redis {
  const client = new Redis({ port, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

describe.skipIf(!hasRedisServer())('Sentinel failover of kvd', () => {
  it('promotes a replica of a SIGKILLed master; ioredis in Sentinel mode goes on writing and no write acknowledged under WAIT 1 is lost', async () => {
    const masterDir = await makeTempDir('sentinel-master');
    const master = await startKvd(masterDir);
    const replicas = [
      await startKvd(await makeTempDir('sentinel-replica'), [
        '--replicaof',
        `127.0.0.1:${master.port}`,
      ]),
      await startKvd(await makeTempDir('sentinel-replica'), [
        '--replicaof',
        `127.0.0.1:${master.port}`,
      ]),
    ];
    const masterClient = connect(master.port);
    await pollUntil(
      'both replicas are online',
      async () => (await replicationInfo(masterClient)).connected_slaves === '2',
      20_000,
    );

    const sentinelDir = await makeTempDir('sentinels');
    for (let i = 0; i < 3; i++)
      sentinels.push(await startSentinel(sentinelDir, NAME, master.port, 2));
    // Sentinels find the replicas in the master's INFO and each other through its hello channel.
    await pollUntil(
      'every Sentinel knows both replicas and the two other Sentinels',
      async () => {
        for (const sentinel of sentinels) {
          const known = await sentinelList(sentinel, 'replicas', NAME);
          const peers = await sentinelList(sentinel, 'sentinels', NAME);
          if (known.length !== 2 || peers.length !== 2) return false;
        }
        return true;
      },
      40_000,
    );

    const client = new Redis({
      sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      name: NAME,
      maxRetriesPerRequest: 2,
    });
    client.on('error', () => {});
    clients.push(client);
    const acknowledged = new Map<string, string>();
    let failed = 0;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const key = `key:${i}`;
        try {
          await client.set(key, `value-${i}`);
          const replicated = Number(await client.call('WAIT', '1', '1000'));
          if (replicated >= 1) acknowledged.set(key, `value-${i}`);
        } catch {
          failed++; // refused or cut off during the failover: never acknowledged
        }
      }
    })();
    await pollUntil('200 writes are acknowledged', () => acknowledged.size >= 200, 30_000);

    master.child.kill('SIGKILL');
    await master.child.exited;
    const beforeFailover = acknowledged.size;
    /** The master's port every Sentinel names, or undefined while they differ. */
    const agreedMaster = async (): Promise<number | undefined> => {
      const addresses = await Promise.all(sentinels.map((s) => s.masterAddress()));
      const ports = new Set(addresses.map(([, port]) => port));
      return ports.size === 1 ? [...ports][0] : undefined;
    };
    let newMasterPort = 0;
    await pollUntil(
      'every Sentinel names a new master',
      async () => {
        const port = await agreedMaster();
        if (port === undefined || port === master.port) return false;
        newMasterPort = port;
        return true;
      },
      60_000,
    );
    expect(replicas.map((r) => r.port)).toContain(newMasterPort);
    await pollUntil(
      'the client acknowledged 200 more writes',
      () => acknowledged.size >= beforeFailover + 200,
      60_000,
    );
    writing = false;
    await writer;

    // The promoted replica is a master and holds every acknowledged write.
    const promoted = connect(newMasterPort);
    expect((await replicationInfo(promoted)).role).toBe('master');
    const keys = [...acknowledged.keys()];
    const values = await promoted.mget(...keys);
    const lost = keys.filter((key, i) => values[i] !== acknowledged.get(key)).length;
    console.info(
      `Sentinel failover: ${acknowledged.size} writes acknowledged under WAIT 1 ` +
        `(${beforeFailover} before the kill), ${lost} lost, ${failed} refused or cut off`,
    );
    expect(lost).toBe(0);

    // The other replica follows the new master and gets everything.
    const other = replicas.find((r) => r.port !== newMasterPort)!;
    const otherClient = connect(other.port);
    await pollUntil(
      'the other replica follows the new master',
      async () => {
        const info = await replicationInfo(otherClient);
        return info.master_port === String(newMasterPort) && info.master_link_status === 'up';
      },
      30_000,
    );
    expect(Number(await promoted.call('WAIT', '1', '5000'))).toBe(1);
    expect(await otherClient.mget(...keys)).toEqual(values);
    await expect(otherClient.set('x', '1')).rejects.toThrow(/READONLY/);

    // The old master, restarted on its port with its data, is made a replica of the new one.
    // A Sentinel converts it only once it has been up for 8 s without a missed ping (down after
    // 1 s here) and has reported "master" for 8 s, seen in an INFO it asks a replica for every
    // 10 s: ~20 s idle. On a busy machine a ping answered late starts that count again (a CI run
    // beside other test jobs timed out at 40 s), hence the wide bound. It follows whichever
    // master the Sentinels name by then: on a busy machine they may fail over a second time
    // (seen once in six runs beside three other test files: a Sentinel's first PING to the
    // just-promoted master went unanswered for its 1 s down-after, so it was voted down and the
    // other replica promoted, and the old master was made a replica of that one).
    const restarted = await startKvd(masterDir, ['--port', String(master.port)]);
    const restartedClient = connect(restarted.port);
    await pollUntil(
      'the Sentinels turn the old master into a replica of the new one',
      async () => {
        const current = await agreedMaster();
        if (current === undefined || current === master.port) return false;
        const info = await replicationInfo(restartedClient);
        return (
          info.role === 'slave' &&
          info.master_port === String(current) &&
          info.master_link_status === 'up'
        );
      },
      120_000,
    ).catch(async (error: unknown) => {
      // What the Sentinels did meanwhile (a +tilt pauses one for 30 s) goes with the failure.
      const logs = await Promise.all(sentinels.map((sentinel) => sentinel.logTail()));
      const told = logs.map((log, i) => `--- Sentinel ${i}'s log, its end:\n${log}`);
      throw new Error(`${(error as Error).message}\n${told.join('\n')}`);
    });
    expect(await restartedClient.mget(...keys)).toEqual(values);
  }, 300_000);
});
