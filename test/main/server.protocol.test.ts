// Tests the daemon's protocol handling over raw sockets: partial reads, protocol errors answered
// and closed like Redis, QUIT, fuzzed byte streams that must neither crash the server nor touch
// stored keys, and a client that never reads its replies (the server pauses it, bounded).

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { encodeCommand, RespClient } from '../fixtures/resp-client.js';
import {
  headerSoup,
  inlineRequest,
  lengthAbuse,
  mutatedStream,
  randomStream,
} from '../fixtures/resp-fuzz.js';
import { removeTempDirs } from '../fixtures/temp-dir.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

describe('kvd serve protocol handling', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      networkThreads: 1, // reads the connections' own state (server.clients())
      maxPendingReplies: 16,
      limits: { maxBulkBytes: 1024 * 1024, maxInlineBytes: 1024 },
    });
  });
  afterAll(async () => {
    await server.close();
    await removeTempDirs();
  });

  it('parses requests delivered one byte at a time', async () => {
    const client = await RespClient.connect(server.port);
    const bytes = Buffer.concat([
      encodeCommand(['SET', 'bytewise', 'a\r\nb']),
      Buffer.from('GET bytewise\r\n'),
      encodeCommand(['GET', 'bytewise']),
    ]);
    for (const byte of bytes) client.send(Buffer.from([byte]));
    expect((await client.reply()).raw).toBe('+OK\r\n');
    expect((await client.reply()).raw).toBe('$4\r\na\r\nb\r\n');
    expect((await client.reply()).raw).toBe('$4\r\na\r\nb\r\n');
    client.close();
  });

  it('answers earlier requests, then the protocol error, then closes', async () => {
    const cases: [string, string][] = [
      ['*x\r\n', 'invalid multibulk length'],
      ['*1\r\n+PING\r\n', "expected '$', got '+'"],
      ['*1\r\n$1048577\r\n', 'invalid bulk length'],
      [`GET ${'k'.repeat(2000)}`, 'too big inline request'],
      ['SET "unbalanced\r\n', 'unbalanced quotes in request'],
    ];
    for (const [bad, message] of cases) {
      const client = await RespClient.connect(server.port);
      client.send(`PING\r\nECHO hi\r\n${bad}PING\r\n`);
      expect(await client.rest()).toBe(`+PONG\r\n$2\r\nhi\r\n-ERR Protocol error: ${message}\r\n`);
    }
    const alive = await RespClient.connect(server.port);
    expect((await alive.call('PING')).raw).toBe('+PONG\r\n');
    alive.close();
  });

  it('QUIT answers +OK after every earlier reply, then closes without running later requests', async () => {
    const client = await RespClient.connect(server.port);
    client.send('SET quit:a 1\r\nGET quit:a\r\nQUIT\r\nSET quit:b 2\r\n');
    expect(await client.rest()).toBe('+OK\r\n$1\r\n1\r\n+OK\r\n');
    const check = await RespClient.connect(server.port);
    expect((await check.call('EXISTS', 'quit:a', 'quit:b')).raw).toBe(':1\r\n');
    check.close();
  });

  it('survives random and truncated byte streams without touching stored keys', async () => {
    const known = new Map<string, Buffer>();
    const setup = await RespClient.connect(server.port);
    for (let i = 0; i < 40; i++) {
      const value = Buffer.from(
        Array.from({ length: 1 + ((i * 37) % 200) }, (_, j) => (i * j) & 255),
      );
      known.set(`known:${i}`, value);
      expect((await setup.call('SET', `known:${i}`, value)).raw).toBe('+OK\r\n');
    }
    setup.close();

    // Fuzz commands touch only FUZZ_KEYS (no FLUSHALL); flips and cuts cannot reach `known:`.
    const stream = fc.oneof(
      mutatedStream,
      randomStream,
      headerSoup,
      inlineRequest,
      lengthAbuse(1024 * 1024), // the server's maxBulkBytes
    );
    await fc.assert(
      fc.asyncProperty(stream, async (bytes) => {
        const client = await RespClient.connect(server.port);
        client.send(bytes);
        client.socket.end();
        await client.closed;
      }),
      { numRuns: 250 },
    );

    await pollUntil(
      'the fuzz connections have closed',
      () => server.clients().length === 0,
      10_000,
    );
    const check = await RespClient.connect(server.port);
    expect((await check.call('PING')).raw).toBe('+PONG\r\n');
    const names = [...known.keys()];
    const reply = await check.call('MGET', ...names);
    expect(reply.type).toBe('array');
    const values = reply.type === 'array' ? reply.value! : [];
    names.forEach((name, i) => {
      const got = values[i]!;
      expect(got.type === 'bulk' && got.value.equals(known.get(name)!), name).toBe(true);
    });
    check.close();
  });

  it('pauses a client that does not read its replies; queued output stays bounded', async () => {
    const valueBytes = 128 * 1024;
    const requests = 600;
    const maxPending = 16; // the server's maxPendingReplies
    const setup = await RespClient.connect(server.port);
    expect((await setup.call('SET', 'slow:big', Buffer.alloc(valueBytes, 'x'))).raw).toBe(
      '+OK\r\n',
    );
    const before = await setup.call('INFO', 'stats');
    setup.close();
    const commandsBefore = Number(
      /total_commands_processed:(\d+)/.exec(
        before.type === 'bulk' ? before.value.toString() : '',
      )![1],
    );

    const slow = await RespClient.connect(server.port);
    slow.socket.pause(); // never read, for now
    slow.send(
      Buffer.concat(Array.from({ length: requests }, () => encodeCommand(['GET', 'slow:big']))),
    );
    const mine = () =>
      server.clients().find((c) => c.address.endsWith(`:${slow.socket.localPort}`));
    await pollUntil(
      'the server has paused the slow client with nothing in flight',
      () => {
        const c = mine();
        return c?.paused === true && c.outputBlocked && c.inFlight === 0;
      },
      10_000,
    );
    const state = mine()!;

    const replyBytes = valueBytes + `$${valueBytes}\r\n\r\n`.length;
    expect(state.pendingReplies).toBeLessThanOrEqual(maxPending);
    // Once the socket refuses more, at most the requests already started add their replies.
    expect(state.outputBytes).toBeLessThanOrEqual((maxPending + 1) * replyBytes);

    const probe = await RespClient.connect(server.port);
    const info = await probe.call('INFO', 'stats');
    probe.close();
    const processed = Number(
      /total_commands_processed:(\d+)/.exec(info.type === 'bulk' ? info.value.toString() : '')![1],
    );

    expect(processed - commandsBefore).toBeLessThan(requests); // it stopped parsing

    // Now read: every reply arrives, in order, complete.
    const header = Buffer.from(`$${valueBytes}\r\n`);
    let received = 0;
    let badAt = -1;
    await new Promise<void>((resolve) => {
      slow.socket.removeAllListeners('data');
      slow.socket.on('data', (chunk: Buffer) => {
        for (let i = 0; i < chunk.length; i++) {
          const offset = (received + i) % replyBytes;
          const expected =
            offset < header.length
              ? header[offset]
              : offset < header.length + valueBytes
                ? 120
                : offset === replyBytes - 2
                  ? 13
                  : 10;
          if (chunk[i] !== expected && badAt < 0) badAt = received + i;
        }
        received += chunk.length;
        if (received >= requests * replyBytes) resolve();
      });
      slow.socket.resume();
    });
    expect(badAt).toBe(-1);
    expect(received).toBe(requests * replyBytes);
    slow.close();
  });
});
