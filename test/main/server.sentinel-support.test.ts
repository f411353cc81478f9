// What Redis Sentinel needs from a kvd daemon, each with real clients over real sockets:
// CLIENT LIST and CLIENT KILL (old form and filters: ID, TYPE, ADDR, LADDR, SKIPME, MAXAGE),
// INFO's run_id, `master_link_down_since_seconds` on a replica whose link is down, PING's
// `pong` array for a RESP2 subscriber, and the transaction Sentinel sends a replica it promotes
// (REPLICAOF, CONFIG REWRITE, CLIENT KILL between MULTI and EXEC, run once after the batch).

import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { freeTcpPort } from '../fixtures/redis-server.js';
import { infoFields, replicationInfo } from '../fixtures/replication.js';
import { RespClient } from '../fixtures/resp-client.js';
import { removeTempDirs } from '../fixtures/temp-dir.js';

type Kvd = Awaited<ReturnType<typeof startTestServer>>;
const servers: Kvd[] = [];
const clients: Redis[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  for (const server of servers.splice(0)) await server.close();
  await removeTempDirs();
});

async function kvd(options: Parameters<typeof startTestServer>[0] = {}): Promise<Kvd> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

async function connect(port: number, name?: string): Promise<Redis> {
  const client = new Redis({ port, connectionName: name, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  clients.push(client);
  await client.ping();
  return client;
}

/** CLIENT LIST as one record per client. */
async function clientList(client: Redis, ...args: string[]): Promise<Record<string, string>[]> {
  const text = (await client.call('CLIENT', 'LIST', ...args)) as string;
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => Object.fromEntries(line.split(' ').map((f) => f.split(/=(.*)/s).slice(0, 2))));
}

async function closedBy(client: Redis, kill: () => Promise<unknown>): Promise<void> {
  const closed = once(client, 'close');
  await kill();
  await closed;
}

describe('CLIENT LIST and CLIENT KILL', () => {
  it('lists every client with its id, addresses, name, flags and subscriptions', async () => {
    const server = await kvd();
    const admin = await connect(server.port, 'admin');
    const listener = await connect(server.port, 'listener');
    await listener.subscribe('news', 'sport');
    const all = await clientList(admin);
    expect(all.map((c) => c.name).sort()).toEqual(['admin', 'listener']);
    const mine = all.find((c) => c.name === 'admin')!;
    expect(mine.id).toBe(String(await admin.client('ID')));
    expect(mine.flags).toBe('N');
    expect(mine.laddr).toBe(`127.0.0.1:${server.port}`);
    expect(mine.addr).toMatch(/^127\.0\.0\.1:\d+$/);
    const sub = all.find((c) => c.name === 'listener')!;
    expect(sub).toMatchObject({ flags: 'P', sub: '2', psub: '0', multi: '-1', resp: '2' });
    expect((await clientList(admin, 'TYPE', 'pubsub')).map((c) => c.name)).toEqual(['listener']);
    expect((await clientList(admin, 'ID', mine.id!)).map((c) => c.name)).toEqual(['admin']);
    await expect(admin.call('CLIENT', 'LIST', 'TYPE', 'nope')).rejects.toThrow(
      "ERR Unknown client type 'nope'",
    );
    await expect(admin.call('CLIENT', 'LIST', 'ID', 'x')).rejects.toThrow('ERR Invalid client ID');
  });

  it('kills by address (old form), id, type, local address and age; spares the caller unless SKIPME no', async () => {
    const server = await kvd();
    const admin = await connect(server.port, 'admin');
    const a = await connect(server.port, 'a');
    const b = await connect(server.port, 'b');
    const listener = await connect(server.port, 'listener');
    await listener.subscribe('hello');
    const byName = Object.fromEntries((await clientList(admin)).map((c) => [c.name, c]));

    await closedBy(a, () => admin.call('CLIENT', 'KILL', byName.a!.addr!));
    await expect(admin.call('CLIENT', 'KILL', byName.a!.addr!)).rejects.toThrow(
      'ERR No such client',
    );
    await closedBy(b, async () => {
      expect(await admin.call('CLIENT', 'KILL', 'ID', byName.b!.id!)).toBe(1);
    });
    // TYPE pubsub takes only the listener; TYPE normal then finds nobody but the caller.
    await closedBy(listener, async () => {
      expect(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')).toBe(1);
    });
    expect(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal')).toBe(0);
    expect(await admin.call('CLIENT', 'KILL', 'MAXAGE', '3600')).toBe(0);
    expect(await admin.call('CLIENT', 'KILL', 'ADDR', '10.0.0.1:1')).toBe(0);
    const c = await connect(server.port, 'c');
    await closedBy(c, async () => {
      // The caller is spared by default even when every filter matches it.
      expect(
        await admin.call('CLIENT', 'KILL', 'LADDR', `127.0.0.1:${server.port}`, 'TYPE', 'normal'),
      ).toBe(1);
    });
    // SKIPME no: the caller gets its reply, then its connection closes.
    await closedBy(admin, async () => {
      expect(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'no')).toBe(1);
    });
  });

  it('refuses bad filters with Redis error texts', async () => {
    const server = await kvd();
    const admin = await connect(server.port);
    await expect(admin.call('CLIENT', 'KILL', 'TYPE', 'boss')).rejects.toThrow(
      "ERR Unknown client type 'boss'",
    );
    await expect(admin.call('CLIENT', 'KILL', 'ID', 'x')).rejects.toThrow(
      'ERR client-id should be greater than 0',
    );
    await expect(admin.call('CLIENT', 'KILL', 'SKIPME', 'maybe')).rejects.toThrow(
      'ERR syntax error',
    );
    await expect(admin.call('CLIENT', 'KILL', 'COLOUR', 'red')).rejects.toThrow('ERR syntax error');
    // Three words are the old form: `ID` is taken for an address.
    await expect(admin.call('CLIENT', 'KILL', 'ID')).rejects.toThrow('ERR No such client');
    await expect(admin.call('CLIENT', 'KILL', 'ID', '1', 'TYPE')).rejects.toThrow(
      'ERR syntax error',
    );
    await expect(admin.call('CLIENT', 'KILL')).rejects.toThrow('wrong number of arguments');
  });
});

/**
 * A kvd master and a kvd replica linked (the first write arrived), the link broken by `kill`
 * (a CLIENT KILL on either side); checks that writes after it arrive, an INCR exactly once, and
 * that the replica continued (+CONTINUE) instead of a second full resync.
 */
async function breakLink(kill: (master: Redis, replica: Redis) => Promise<void>): Promise<Redis> {
  const master = await kvd();
  const replica = await kvd({ replicaOf: { host: '127.0.0.1', port: master.port } });
  const m = await connect(master.port);
  const r = await connect(replica.port);
  await m.set('before', '1');
  await pollUntil('the first write arrived', async () => (await r.get('before')) === '1', 10_000);
  await kill(m, r);
  await m.incr('counter');
  await m.set('after', '2');
  await pollUntil(
    'writes after the kill arrived',
    async () => (await r.get('after')) === '2',
    10_000,
  );
  expect(await r.get('counter')).toBe('1');
  expect(await replicationInfo(r)).toMatchObject({
    kvd_full_syncs: '1',
    kvd_partial_syncs: '1',
    master_link_status: 'up',
  });
  return m;
}

describe('a replication link broken by CLIENT KILL', () => {
  it('TYPE master on the replica: the link drops and continues with +CONTINUE, losing nothing', async () => {
    await breakLink(async (_m, r) => {
      expect((await clientList(r, 'TYPE', 'master')).map((c) => c.flags)).toEqual(['M']);
      expect(await r.call('CLIENT', 'KILL', 'TYPE', 'master')).toBe(1);
    });
  });

  it('TYPE replica on the master: the replica reconnects and continues with +CONTINUE', async () => {
    const m = await breakLink(async (m) => {
      expect((await clientList(m, 'TYPE', 'replica')).map((c) => c.flags)).toEqual(['S']);
      expect(await m.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBe(1);
    });
    expect((await infoFields(m, 'stats')).sync_partial_ok).toBe('1');
  });
});

describe('announced replica addresses', () => {
  it('a kvd replica announces --replica-announce-ip/port, and a kvd master reports what replicas announce', async () => {
    const master = await kvd();
    await kvd({
      replicaOf: { host: '127.0.0.1', port: master.port },
      replication: { announceIp: '10.1.2.3', announcePort: 16379 },
    });
    const m = await connect(master.port);
    await pollUntil(
      'the replica is online',
      async () => (await replicationInfo(m)).slave0?.includes('state=online') ?? false,
      10_000,
    );
    expect((await replicationInfo(m)).slave0).toMatch(/^ip=10\.1\.2\.3,port=16379,/);
    const role = (await m.call('ROLE')) as [string, number, string[][]];
    expect(role[2]).toEqual([['10.1.2.3', '16379', expect.any(String)]]);
  });
});

describe('INFO for Sentinel', () => {
  it('reports a run_id of 40 hex characters, the same for the life of the server', async () => {
    const first = await kvd();
    const second = await kvd();
    const runId = async (port: number): Promise<string> => {
      const text = (await (await connect(port)).info('server')) as string;
      return /run_id:([0-9a-f]+)\r\n/.exec(text)?.[1] ?? '';
    };
    const id = await runId(first.port);
    expect(id).toMatch(/^[0-9a-f]{40}$/);
    expect(await runId(first.port)).toBe(id);
    expect(await runId(second.port)).not.toBe(id);
  });

  it('a replica reports for how long its link has been down (-1 when it never came up)', async () => {
    const nowhere = await freeTcpPort();
    const replica = await kvd({ replicaOf: { host: '127.0.0.1', port: nowhere } });
    const client = await connect(replica.port);
    const down = await replicationInfo(client);
    expect(down).toMatchObject({
      master_link_status: 'down',
      master_link_down_since_seconds: '-1',
    });

    const master = await kvd();
    await client.call('REPLICAOF', '127.0.0.1', String(master.port));
    await pollUntil(
      'the link is up',
      async () => (await replicationInfo(client)).master_link_status === 'up',
      10_000,
    );
    expect((await replicationInfo(client)).master_link_down_since_seconds).toBeUndefined();
    servers.splice(servers.indexOf(master), 1);
    await master.close();
    await pollUntil(
      'the link is down again',
      async () => (await replicationInfo(client)).master_link_status === 'down',
      10_000,
    );
    expect(
      Number((await replicationInfo(client)).master_link_down_since_seconds),
    ).toBeGreaterThanOrEqual(0);
  });
});

describe('PING while subscribed', () => {
  it('answers a RESP2 listener ["pong", message] and a RESP3 one as usual', async () => {
    const server = await kvd();
    const raw = await RespClient.connect(server.port);
    try {
      await raw.call('SUBSCRIBE', 'c');
      expect((await raw.call('PING')).raw).toBe('*2\r\n$4\r\npong\r\n$0\r\n\r\n');
      expect((await raw.call('PING', 'hi')).raw).toBe('*2\r\n$4\r\npong\r\n$2\r\nhi\r\n');
      await raw.call('UNSUBSCRIBE');
      expect((await raw.call('PING')).raw).toBe('+PONG\r\n');
    } finally {
      raw.close();
    }
    const resp3 = await RespClient.connect(server.port);
    try {
      await resp3.call('HELLO', '3');
      await resp3.call('SUBSCRIBE', 'c');
      expect((await resp3.call('PING')).raw).toBe('+PONG\r\n');
    } finally {
      resp3.close();
    }
  });
});

describe("Sentinel's promotion transaction", () => {
  it('queues REPLICAOF, CONFIG REWRITE and CLIENT KILL, and runs them once, in order, after the batch', async () => {
    const master = await kvd();
    const replica = await kvd({ replicaOf: { host: '127.0.0.1', port: master.port } });
    const sentinel = await connect(replica.port, 'sentinel');
    const reader = await connect(replica.port, 'reader');
    const listener = await connect(replica.port, 'listener');
    await listener.subscribe('__sentinel__:hello');
    await pollUntil(
      'the replica is linked',
      async () => (await replicationInfo(sentinel)).master_link_status === 'up',
      10_000,
    );
    const readerClosed = once(reader, 'close');
    const listenerClosed = once(listener, 'close');
    const replies = await sentinel
      .multi()
      .call('SLAVEOF', 'NO', 'ONE')
      .call('CONFIG', 'REWRITE')
      .call('CLIENT', 'KILL', 'TYPE', 'normal')
      .call('CLIENT', 'KILL', 'TYPE', 'pubsub')
      .get('written')
      .exec();
    expect(replies).toEqual([
      [null, 'OK'],
      [expect.objectContaining({ message: 'ERR The server is running without a config file' })],
      [null, 1],
      [null, 1],
      [null, null],
    ]);
    await Promise.all([readerClosed, listenerClosed]);
    expect((await replicationInfo(sentinel)).role).toBe('master');
    // Promoted: writes are taken now (before EXEC, a SET would have been refused when queued).
    expect(await sentinel.set('written', 'now')).toBe('OK');
    expect(await sentinel.get('written')).toBe('now');
  });
});
