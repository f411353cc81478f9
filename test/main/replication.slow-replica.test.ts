// A master's limits on its replicas: a replica that stops reading is dropped once the stream it
// leaves unsent passes the hard limit, or the soft limit for long enough (Redis's
// `client-output-buffer-limit replica`, kvd's `--replica-output-buffer-limit`), and counted in
// INFO stats; the PINGs the stream carries come every `--repl-ping-replica-period` seconds. The
// replica here is a raw socket that speaks the handshake and then never reads.

import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServer, startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { infoFields, replicationInfo } from '../fixtures/replication.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

type Kvd = Awaited<ReturnType<typeof startTestServer>>;
const servers: Kvd[] = [];
const clients: Redis[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const client of clients.splice(0)) client.disconnect();
  for (const server of servers.splice(0)) await server.close();
  await removeTempDirs();
});

async function master(
  replication: NonNullable<Parameters<typeof startTestServer>[0]>['replication'],
): Promise<{ kvd: Kvd; client: Redis }> {
  const kvd = await startTestServer({ replication });
  servers.push(kvd);
  const client = new Redis({ port: kvd.port });
  clients.push(client);
  return { kvd, client };
}

/** A replica that completes the handshake (a disk-based full resync), then stops reading. */
function stalledReplica(port: number): Socket {
  const socket = connect({ port, host: '127.0.0.1' });
  sockets.push(socket);
  socket.write('REPLCONF listening-port 1\r\nREPLCONF capa psync2\r\nPSYNC ? -1\r\n');
  socket.pause();
  return socket;
}

const VALUE = 'v'.repeat(100_000);

describe('a replica that stops reading', () => {
  it('is dropped once its unsent stream passes the hard limit, and counted', async () => {
    const { kvd, client } = await master({
      replicaBufferLimit: { hardBytes: 1024 * 1024, softBytes: 0, softSeconds: 0 },
    });
    stalledReplica(kvd.port);
    await pollUntil(
      'the replica is attached',
      async () => (await replicationInfo(client)).connected_slaves === '1',
      10_000,
    );
    // Far more than the socket buffers of both ends can take.
    for (let i = 0; i < 400; i++) await client.set(`big:${i}`, VALUE);
    await pollUntil(
      'the replica is dropped',
      async () => (await replicationInfo(client)).connected_slaves === '0',
      10_000,
    );
    expect((await infoFields(client, 'stats')).client_output_buffer_limit_disconnections).toBe('1');
    // The master goes on: every write is there.
    expect(await client.dbsize()).toBe(400);
  });

  it('is dropped after lagging past the soft limit for its seconds, not before', async () => {
    const { kvd, client } = await master({
      replicaBufferLimit: { hardBytes: 0, softBytes: 256 * 1024, softSeconds: 1 },
    });
    stalledReplica(kvd.port);
    await pollUntil(
      'the replica is attached',
      async () => (await replicationInfo(client)).connected_slaves === '1',
      10_000,
    );
    let firstOver: number | undefined;
    let i = 0;
    await pollUntil(
      'the replica is dropped',
      async () => {
        await client.set(`big:${i++}`, VALUE);
        const info = await replicationInfo(client);
        if (info.connected_slaves === '0') return true;
        firstOver ??= Date.now();
        return false;
      },
      30_000,
    );
    // Writes went on for at least the soft limit's second before it was dropped.
    expect(Date.now() - firstOver!).toBeGreaterThanOrEqual(1000);
    expect((await infoFields(client, 'stats')).client_output_buffer_limit_disconnections).toBe('1');
  });

  it('a replica that reads is never dropped under the same writes', async () => {
    const { kvd, client } = await master({
      replicaBufferLimit: { hardBytes: 4 * 1024 * 1024, softBytes: 0, softSeconds: 0 },
    });
    const replica = await startTestServer({ replicaOf: { host: '127.0.0.1', port: kvd.port } });
    servers.push(replica);
    await pollUntil(
      'the replica is online',
      async () => (await replicationInfo(client)).slave0?.includes('state=online') ?? false,
      10_000,
    );
    for (let i = 0; i < 400; i++) await client.set(`big:${i}`, VALUE);
    expect(Number(await client.call('WAIT', '1', '10000'))).toBe(1);
    expect((await infoFields(client, 'stats')).client_output_buffer_limit_disconnections).toBe('0');
  });
});

describe('--repl-ping-replica-period', () => {
  it('puts a PING into the stream every period while a replica is attached', async () => {
    const daemon = await spawnServer([
      ...['--dir', await makeTempDir('ping-period'), '--readers', '1'],
      ...['--repl-ping-replica-period', '1'],
    ]);
    const client = new Redis({ port: daemon.port });
    clients.push(client);
    try {
      stalledReplica(daemon.port);
      const ping = '*1\r\n$4\r\nPING\r\n'.length;
      // No writes at all: only PINGs move the offset, one period after another.
      await pollUntil(
        'two PINGs are in the stream',
        async () => Number((await replicationInfo(client)).master_repl_offset) >= 2 * ping,
        10_000,
      );
      expect(Number((await replicationInfo(client)).master_repl_offset) % ping).toBe(0);
    } finally {
      daemon.child.kill();
      await daemon.child.exited;
    }
  });

  it('refuses bad limits on the command line', async () => {
    for (const bad of ['--replica-output-buffer-limit=lots', '--replica-output-buffer-limit=1:2']) {
      const daemon = spawnServer(['--dir', await makeTempDir('bad-flag'), bad]);
      await expect(daemon).rejects.toThrow(/replica-output-buffer-limit/);
    }
    await expect(
      spawnServer(['--dir', await makeTempDir('bad-flag'), '--repl-ping-replica-period', '0']),
    ).rejects.toThrow(/repl-ping-replica-period must be an integer from 1 to 3600/);
    await expect(
      spawnServer(['--dir', await makeTempDir('bad-flag'), '--replica-announce-port', '70000']),
    ).rejects.toThrow(/replica-announce-port must be an integer from 1 to 65535/);
  });
});
