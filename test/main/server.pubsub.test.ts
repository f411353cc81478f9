// Publish/subscribe on the daemon with real clients over real sockets: ioredis subscribers
// (RESP2) receive messages and pattern messages, PUBLISH counts receivers, a RESP2 subscriber is
// refused other commands, unsubscribing stops delivery, PUBSUB reports channels and listeners,
// and a RESP3 client (HELLO 3) gets the subscribe replies and messages as pushes (`>`).

import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { RespClient } from '../fixtures/resp-client.js';
import { removeTempDirs } from '../fixtures/temp-dir.js';

type Kvd = Awaited<ReturnType<typeof startTestServer>>;
const servers: Kvd[] = [];
const clients: Redis[] = [];
const raws: RespClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  for (const raw of raws.splice(0)) raw.close();
  for (const server of servers.splice(0)) await server.close();
  await removeTempDirs();
});

async function setup(): Promise<{ kvd: Kvd; client: () => Promise<Redis> }> {
  const kvd = await startTestServer();
  servers.push(kvd);
  return {
    kvd,
    // Ready before use: ioredis writes SUBSCRIBE (a "loading"-flagged command) while its
    // connection is still in the handshake, and the ready check's INFO that follows is then
    // refused as a subscriber's command, an unhandled rejection.
    client: async () => {
      const client = new Redis({ port: kvd.port });
      clients.push(client);
      await client.ping();
      return client;
    },
  };
}

describe('publish/subscribe', () => {
  it('delivers messages to channel and pattern subscribers, and counts them', async () => {
    const { client } = await setup();
    const sub = await client();
    const psub = await client();
    const pub = await client();
    expect(await sub.subscribe('news', 'other')).toBe(2);
    expect(await psub.psubscribe('ne*')).toBe(1);
    const got = once(sub, 'messageBuffer');
    const pgot = once(psub, 'pmessageBuffer');
    expect(await pub.publish('news', Buffer.from([0, 255, 13, 10]))).toBe(2);
    const [channel, message] = (await got) as [Buffer, Buffer];
    expect(channel.toString()).toBe('news');
    expect(message).toEqual(Buffer.from([0, 255, 13, 10]));
    const [pattern, pchannel, pmessage] = (await pgot) as [Buffer, Buffer, Buffer];
    expect([pattern.toString(), pchannel.toString()]).toEqual(['ne*', 'news']);
    expect(pmessage).toEqual(Buffer.from([0, 255, 13, 10]));
    expect(await pub.publish('nobody', 'x')).toBe(0);
    expect(await pub.call('PUBSUB', 'CHANNELS')).toEqual(expect.arrayContaining(['news', 'other']));
    expect(await pub.call('PUBSUB', 'NUMSUB', 'news', 'none')).toEqual(['news', 1, 'none', 0]);
    expect(await pub.call('PUBSUB', 'NUMPAT')).toBe(1);
    await sub.unsubscribe('news');
    expect(await pub.publish('news', 'y')).toBe(1); // the pattern only
    sub.disconnect();
    await pollUntil(
      'the closed subscriber is gone',
      async () =>
        (await pub.call('PUBSUB', 'NUMSUB', 'other')) !== null &&
        ((await pub.call('PUBSUB', 'NUMSUB', 'other')) as unknown[])[1] === 0,
      5_000,
    );
  });

  it('refuses other commands to a RESP2 subscriber, with one reply per channel', async () => {
    const { kvd } = await setup();
    const raw = await RespClient.connect(kvd.port);
    raws.push(raw);
    raw.command('SUBSCRIBE', 'a', 'b');
    expect((await raw.reply()).raw).toBe('*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n');
    expect((await raw.reply()).raw).toBe('*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n');
    expect((await raw.call('GET', 'k')).raw).toMatch(
      /^-ERR Can't execute 'get': only \(P\|S\)SUBSCRIBE/,
    );
    raw.command('UNSUBSCRIBE');
    expect((await raw.reply()).raw).toBe('*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n');
    expect((await raw.reply()).raw).toBe('*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n');
    expect((await raw.call('GET', 'k')).raw).toBe('$-1\r\n');
  });

  it('speaks pushes to a RESP3 client, which may go on with other commands', async () => {
    const { kvd, client } = await setup();
    const raw = await RespClient.connect(kvd.port);
    raws.push(raw);
    await raw.call('HELLO', '3');
    expect((await raw.call('SUBSCRIBE', 'c')).raw).toBe(
      '>3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n',
    );
    expect(await (await client()).publish('c', 'hi')).toBe(1);
    expect((await raw.reply()).raw).toBe('>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n');
    expect((await raw.call('GET', 'k')).raw).toBe('_\r\n');
  });
});
