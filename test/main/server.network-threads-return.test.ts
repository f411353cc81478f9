// Tests a client that a network thread handed to the main thread going back to a network thread
// (thread-return.ts), over real sockets: once it pipelines the thread's reads again, with its
// name, protocol and unparsed bytes carried over; never while it holds what only the main thread
// serves (WATCH, MULTI, SUBSCRIBE) or while most of what it pipelines is the main thread's; less
// and less often as it keeps coming back.

import { describe, expect, it } from 'vitest';
import { RETURN_READS } from '../../dist/main/server/thread-return.js';
import { LONE_READS_MAX } from '../../dist/workers/client-habits.js';
import { pollUntil } from '../fixtures/poll.js';
import { encodeCommand, infoField, type RespClient } from '../fixtures/resp-client.js';
import { useTestServers } from '../fixtures/test-servers.js';

const tests = useTestServers();

/**
 * A server with two threads, where a network thread hands a client that waits for each reply to
 * the main thread (as when the cores are busy); `admin` is a main-thread client, `client` one
 * the network thread served and handed back.
 */
async function handedBackClient(): Promise<{ admin: RespClient; client: RespClient }> {
  const server = await tests.serve({ networkThreads: 2, loneClients: 'always' });
  const admin = await tests.connect(server.port);
  expect((await admin.call('GET', '_acc')).raw).toBe('$-1\r\n'); // accepted: the next is the thread's
  const client = await tests.connect(server.port);
  expect((await client.call('CLIENT', 'SETNAME', 'returner')).raw).toBe('+OK\r\n');
  expect(await threadOf(admin)).toBe(1);
  await handBack(admin, client);
  return { admin, client };
}

/** The thread that serves the client named `returner` (CLIENT LIST's io-thread). */
async function threadOf(admin: RespClient): Promise<number> {
  const list = await admin.call('CLIENT', 'LIST');
  if (list.type !== 'bulk') throw new Error(list.raw);
  const line = list.value
    .toString()
    .split('\n')
    .find((l) => l.includes(' name=returner '));
  const match = / io-thread=(\d+)/.exec(line ?? '');
  if (!match) throw new Error(`no returner in ${list.value}`);
  return Number(match[1]);
}

/** Has `client`, served by the network thread, wait for each reply until it is handed back. */
async function handBack(admin: RespClient, client: RespClient): Promise<void> {
  for (let i = 0; i < LONE_READS_MAX; i++)
    expect((await client.call('GET', 'k')).raw).toBe('$-1\r\n');
  await pollUntil('the client is handed back', async () => (await threadOf(admin)) === 0, 5_000);
}

/** `reads` pipelines of GETs (one write, one read each), every reply checked. */
async function pipelinedGets(client: RespClient, reads: number, nil = '$-1\r\n'): Promise<void> {
  for (let i = 0; i < reads; i++) {
    const replies = await client.pipeline([
      ['GET', 'none'],
      ['EXISTS', 'none'],
      ['GET', 'other'],
    ]);
    expect(replies.map((r) => r.raw)).toEqual([nil, ':0\r\n', nil]);
  }
}

describe('a client handed back to the main thread', () => {
  it('goes to a network thread again once it pipelines reads, with its session and unparsed bytes', async () => {
    const { admin, client } = await handedBackClient();
    expect((await client.call('HELLO', '3')).type).toBe('map');
    // One pipelined read short: still the main thread's.
    await pipelinedGets(client, RETURN_READS - 1, '_\r\n');
    expect(await threadOf(admin)).toBe(0);
    // The RETURN_READSth read ends with the start of a request: those bytes go with the client.
    const head = Buffer.concat([encodeCommand(['GET', 'k']), encodeCommand(['GET', 'k'])]);
    const split = encodeCommand(['GET', 'x']);
    client.send(Buffer.concat([head, split.subarray(0, 3)]));
    expect((await client.reply()).raw).toBe('_\r\n');
    expect((await client.reply()).raw).toBe('_\r\n');
    await pollUntil(
      'the client returns to its thread',
      async () => (await threadOf(admin)) === 1,
      5_000,
    );
    expect(await infoField(admin, 'kvd_network_thread_clients')).toBe(1);
    expect((await admin.call('SET', 'x', 'y')).raw).toBe('+OK\r\n');
    client.send(split.subarray(3));
    expect((await client.reply()).raw).toBe('$1\r\ny\r\n');
    // Served by the thread, in RESP3, its name kept; writes still go through the main thread.
    const before = await infoField(admin, 'kvd_network_thread_gets');
    expect((await client.call('GET', 'nothing')).raw).toBe('_\r\n');
    expect(await infoField(admin, 'kvd_network_thread_gets')).toBe(before + 1);
    expect((await client.call('SET', 'k', 'v')).raw).toBe('+OK\r\n');
    expect((await client.call('GET', 'k')).raw).toBe('$1\r\nv\r\n');
    expect((await client.call('CLIENT', 'GETNAME')).raw).toBe('$8\r\nreturner\r\n');
  });

  it('stays while most of what it pipelines is for the main thread', async () => {
    const { admin, client } = await handedBackClient();
    for (let i = 0; i < RETURN_READS * 2; i++) {
      const replies = await client.pipeline([
        ['SET', 'k', `${i}`],
        ['INCR', 'n'],
        ['GET', 'k'],
      ]);
      expect(replies.map((r) => r.raw)).toEqual([
        '+OK\r\n',
        `:${i + 1}\r\n`,
        `$${`${i}`.length}\r\n${i}\r\n`,
      ]);
    }
    expect(await threadOf(admin)).toBe(0);
    // A read of one request starts the count again.
    await pipelinedGets(client, RETURN_READS - 1);
    expect((await client.call('GET', 'none')).raw).toBe('$-1\r\n');
    await pipelinedGets(client, RETURN_READS - 1);
    expect(await threadOf(admin)).toBe(0);
    await pipelinedGets(client, 1);
    await pollUntil(
      'the client returns to its thread',
      async () => (await threadOf(admin)) === 1,
      5_000,
    );
  });

  it('stays while it watches keys, has a transaction open or listens, and goes once it does not', async () => {
    const { admin, client } = await handedBackClient();
    expect((await client.call('WATCH', 'w')).raw).toBe('+OK\r\n');
    await pipelinedGets(client, RETURN_READS + 2);
    expect(await threadOf(admin)).toBe(0);
    expect((await client.call('MULTI')).raw).toBe('+OK\r\n');
    for (let i = 0; i < RETURN_READS + 2; i++) {
      const replies = await client.pipeline([
        ['GET', 'k'],
        ['GET', 'k'],
      ]);
      expect(replies.map((r) => r.raw)).toEqual(['+QUEUED\r\n', '+QUEUED\r\n']);
    }
    expect(await threadOf(admin)).toBe(0);
    const exec = await client.call('EXEC');
    expect(exec.type === 'array' && exec.value?.length).toBe((RETURN_READS + 2) * 2);
    // RESP3 lets a listening client send any command.
    expect((await client.call('HELLO', '3')).type).toBe('map');
    expect((await client.call('SUBSCRIBE', 'ch')).type).toBe('push');
    await pipelinedGets(client, RETURN_READS + 2, '_\r\n');
    expect(await threadOf(admin)).toBe(0);
    expect((await client.call('UNSUBSCRIBE', 'ch')).type).toBe('push');
    await pipelinedGets(client, RETURN_READS, '_\r\n');
    await pollUntil(
      'the client returns to its thread',
      async () => (await threadOf(admin)) === 1,
      5_000,
    );
    expect((await client.call('GET', 'k')).raw).toBe('_\r\n');
  });

  it('needs twice as many pipelined reads each time it comes back', async () => {
    const { admin, client } = await handedBackClient();
    await pipelinedGets(client, RETURN_READS);
    await pollUntil('its first return', async () => (await threadOf(admin)) === 1, 5_000);
    await handBack(admin, client);
    await pipelinedGets(client, RETURN_READS * 2 - 1);
    expect(await threadOf(admin)).toBe(0);
    await pipelinedGets(client, 1);
    await pollUntil('its second return', async () => (await threadOf(admin)) === 1, 5_000);
    expect((await client.call('CLIENT', 'GETNAME')).raw).toBe('$8\r\nreturner\r\n');
  });

  it('answers every request in order while it moves, however its requests arrive', async () => {
    const { admin, client } = await handedBackClient();
    for (let round = 0; round < 3; round++) {
      const values = Array.from({ length: 300 }, (_, i) => `r${round}:${i}`);
      const sets = values.map((v) => ['SET', v, v]);
      expect((await admin.pipeline(sets)).every((r) => r.raw === '+OK\r\n')).toBe(true);
      // One pipelined read short of its return (the count doubles at each), then GETs sent
      // without waiting: it moves at the end of the first read that takes them, with requests
      // still unread, or read and not parsed; the thread takes them from there.
      await pipelinedGets(client, (RETURN_READS << round) - 1);
      expect(await threadOf(admin)).toBe(0);
      const expected: string[] = [];
      for (const v of values) {
        client.send(Buffer.concat([encodeCommand(['GET', v]), encodeCommand(['GET', 'none'])]));
        expected.push(`$${v.length}\r\n${v}\r\n`, '$-1\r\n');
      }
      const replies: string[] = [];
      for (let i = 0; i < expected.length; i++) replies.push((await client.reply()).raw);
      expect(replies).toEqual(expected);
      expect(await threadOf(admin)).toBe(1);
      // Writes among its GETs, answered by the main thread for it, in order.
      const replies2 = await client.pipeline([
        ['SET', values[0]!, 'w'],
        ['GET', values[0]!],
        ['INCR', `n${round}`],
        ['GET', values[1]!],
      ]);
      expect(replies2.map((r) => r.raw)).toEqual([
        '+OK\r\n',
        '$1\r\nw\r\n',
        ':1\r\n',
        `$${values[1]!.length}\r\n${values[1]}\r\n`,
      ]);
      await handBack(admin, client);
    }
  });
});
