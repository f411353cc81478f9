// Tests for when a thread's replies reach the kernel (src/main/server/turn-end-sends.ts and its
// use in reply-output.ts): every connection that asks during a turn is sent once, in order, at
// the turn's end, never synchronously; one that throws does not keep the others from going; and
// a real socket's replies stay corked in the process until then, unless held for later.

import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplyOutput } from '../../dist/main/server/reply-output.js';
import { sendAtTurnEnd, type TurnEndSender } from '../../dist/main/server/turn-end-sends.js';
import { pollUntil } from '../fixtures/poll.js';

/** Resolves after the check phase of the current turn (ours was queued before it). */
function afterTurnEnd(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('sendAtTurnEnd', () => {
  it('sends each sender that asked, once, in order, at the turn end and not before', async () => {
    const order: string[] = [];
    const named = (name: string): TurnEndSender => ({ sendCorked: () => order.push(name) });
    sendAtTurnEnd(named('a'));
    sendAtTurnEnd(named('b'));
    expect(order).toEqual([]);
    await Promise.resolve(); // not after the microtasks either
    expect(order).toEqual([]);
    await afterTurnEnd();
    expect(order).toEqual(['a', 'b']);
    await afterTurnEnd();
    expect(order).toEqual(['a', 'b']);
  });

  it('sends a sender that asks while the others are sent, and those of later turns', async () => {
    const order: string[] = [];
    const late: TurnEndSender = { sendCorked: () => order.push('late') };
    sendAtTurnEnd({
      sendCorked: () => {
        order.push('first');
        sendAtTurnEnd(late);
      },
    });
    await afterTurnEnd();
    expect(order).toEqual(['first', 'late']);
    sendAtTurnEnd(late);
    await afterTurnEnd();
    expect(order).toEqual(['first', 'late', 'late']);
  });

  it('still sends the others when one throws, and keeps working after', async () => {
    const sent: string[] = [];
    const failures: unknown[] = [];
    const onError = (error: unknown) => failures.push(error);
    process.on('uncaughtException', onError);
    try {
      sendAtTurnEnd({ sendCorked: () => sent.push('a') });
      sendAtTurnEnd({
        sendCorked: () => {
          throw new Error('send failed');
        },
      });
      sendAtTurnEnd({ sendCorked: () => sent.push('c') });
      await pollUntil('the sender after the one that threw is sent', () => sent.length === 2, 5000);
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(sent).toEqual(['a', 'c']);
    expect(failures).toHaveLength(1);
    sendAtTurnEnd({ sendCorked: () => sent.push('d') });
    await afterTurnEnd();
    expect(sent).toEqual(['a', 'c', 'd']);
  });
});

describe('ReplyOutput on a real socket', () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    server?.close();
    server = undefined;
  });

  /** A connected pair: the server's end (which the output writes to) and the client's. */
  async function socketPair(): Promise<{ served: Socket; client: Socket; received: Buffer[] }> {
    server ??= createServer();
    if (!server.listening) {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
    }
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const accepted = once(server, 'connection');
    const client = connect(address.port, '127.0.0.1');
    const [served] = (await accepted) as [Socket];
    await once(client, 'connect');
    const received: Buffer[] = [];
    client.on('data', (chunk: Buffer) => received.push(chunk));
    sockets.push(served, client);
    return { served, client, received };
  }

  it("keeps a turn's replies of every connection corked until the turn ends, then sends each", async () => {
    const pairs = [await socketPair(), await socketPair()];
    const sent = [0, 0];
    const outputs = pairs.map((p, i) => new ReplyOutput(p.served, () => sent[i]!++));
    // One turn: each connection's pump writes two replies and ends.
    for (const [i, output] of outputs.entries()) {
      output.startPump();
      pairs[i]!.served.write('+OK\r\n');
      pairs[i]!.served.write(`:${i}\r\n`);
      output.endPump(false);
      output.startPump(); // a second pump of the same turn
      pairs[i]!.served.write('+PONG\r\n');
      output.endPump(false);
    }
    for (const p of pairs) expect(p.served.writableLength).toBeGreaterThan(0);
    expect(sent).toEqual([0, 0]);
    await afterTurnEnd();
    expect(sent).toEqual([1, 1]); // once each, though each pumped twice
    for (const p of pairs) expect(p.served.writableLength).toBe(0);
    for (const [i, p] of pairs.entries()) {
      const expected = `+OK\r\n:${i}\r\n+PONG\r\n`;
      await pollUntil(
        `client ${i} has its replies`,
        () => Buffer.concat(p.received).toString() === expected,
        5000,
      );
    }
  });

  it('holds replies past the turn end while the last pump holds them, and sends them with the next', async () => {
    const { served, received } = await socketPair();
    let sent = 0;
    const output = new ReplyOutput(served, () => sent++);
    output.startPump();
    served.write('+OK\r\n');
    output.endPump(false);
    output.startPump();
    served.write(':1\r\n');
    output.endPump(true); // writes in flight: held, with the first pump's reply
    await afterTurnEnd();
    expect(sent).toBe(0);
    expect(output.corked).toBe(true);
    expect(served.writableLength).toBeGreaterThan(0);
    output.startPump();
    served.write(':2\r\n');
    output.endPump(false);
    await afterTurnEnd();
    expect(sent).toBe(1);
    expect(output.corked).toBe(false);
    const all = '+OK\r\n:1\r\n:2\r\n';
    await pollUntil(
      'the client has all three replies',
      () => Buffer.concat(received).toString() === all,
      5000,
    );
  });
});
