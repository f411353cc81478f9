// Tests for the daemon's socket reads (src/shared/socket-reads.ts): an accepted socket taken
// over by a socket that reads into the thread's one read buffer still reads and writes as Node's
// does (the bytes in order, chunks a listener may keep across reads of other sockets, pause and
// resume, unshift, the peer's end), and a socket it cannot take over comes back unchanged.

import { once } from 'node:events';
import { connect, createServer, type Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { socketFds } from '../../dist/shared/file-map.js';
import { withOwnReadBuffer } from '../../dist/shared/socket-reads.js';
import { pollUntil } from '../fixtures/poll.js';

const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(
    servers
      .splice(0)
      .map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

/** A client connected to a fresh server, and the socket the server accepted for it. */
async function accepted(): Promise<{ accepted: Socket; client: Socket }> {
  const server = createServer();
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const accepting = once(server, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  sockets.push(client);
  const [socket] = await accepting;
  sockets.push(socket);
  await once(client, 'connect');
  return { accepted: socket, client };
}

/** A connected pair: `served`, the accepted socket after withOwnReadBuffer, and the `client`. */
async function connectedPair(): Promise<{ served: Socket; accepted: Socket; client: Socket }> {
  const pair = await accepted();
  const served = withOwnReadBuffer(pair.accepted);
  sockets.push(served);
  return { served, ...pair };
}

/** Collects every 'data' chunk `socket` emits, the chunks themselves (not copies). */
function chunksOf(socket: Socket): Buffer[] {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return chunks;
}

const bytesOf = (chunks: Buffer[]): string => Buffer.concat(chunks).toString();

describe.runIf(socketFds !== undefined)('withOwnReadBuffer, with the native addon', () => {
  it('takes the accepted socket over: a new socket, the accepted one destroyed', async () => {
    const { served, accepted, client } = await connectedPair();
    expect(served).not.toBe(accepted);
    expect(accepted.destroyed).toBe(true);
    expect(served.remotePort).toBe(client.localPort);
    expect(served.remoteAddress).toBe('127.0.0.1');
  });

  it('reads what the peer sends and writes what the peer reads, both ways, in order', async () => {
    const { served, client } = await connectedPair();
    const received = chunksOf(served);
    const replies = chunksOf(client);
    client.write('*1\r\n$4\r\nPING\r\n');
    await pollUntil('the request arrives', () => bytesOf(received).length === 14, 5000);
    served.write('+PONG\r\n');
    await pollUntil('the reply arrives', () => bytesOf(replies) === '+PONG\r\n', 5000);
    expect(bytesOf(received)).toBe('*1\r\n$4\r\nPING\r\n');
  });

  it('gives each read its own bytes: chunks kept stay intact while other sockets read', async () => {
    const a = await connectedPair();
    const b = await connectedPair();
    const keptA = chunksOf(a.served);
    const keptB = chunksOf(b.served);
    // Alternate writes to the two sockets, so each read lands in the same thread buffer.
    let sentA = '';
    let sentB = '';
    for (let i = 0; i < 50; i++) {
      const toA = `a${i}:${'x'.repeat(i)};`;
      const toB = `b${i}:${'y'.repeat(50 - i)};`;
      sentA += toA;
      sentB += toB;
      a.client.write(toA);
      await pollUntil('a read of a', () => bytesOf(keptA).length === sentA.length, 5000);
      b.client.write(toB);
      await pollUntil('a read of b', () => bytesOf(keptB).length === sentB.length, 5000);
    }
    expect(keptA.length).toBeGreaterThan(1);
    expect(bytesOf(keptA)).toBe(sentA);
    expect(bytesOf(keptB)).toBe(sentB);
  });

  it('reads nothing while paused and everything once resumed', async () => {
    const { served, client } = await connectedPair();
    const other = await connectedPair();
    const received = chunksOf(served);
    const otherReceived = chunksOf(other.served);
    served.pause();
    client.write('held'); // on loopback, in the served side's kernel buffer once written
    other.client.write('later');
    // The loop has polled for reads since: a socket still reading would have read 'held'.
    await pollUntil('the other socket reads', () => bytesOf(otherReceived) === 'later', 5000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toEqual([]);
    served.resume();
    await pollUntil('the held bytes arrive', () => bytesOf(received) === 'held', 5000);
  });

  it('reads bytes put back with unshift first', async () => {
    const { served, client } = await connectedPair();
    served.unshift(Buffer.from('first;'));
    const received = chunksOf(served);
    client.write('then');
    await pollUntil('both arrive', () => bytesOf(received) === 'first;then', 5000);
  });

  it("emits 'end' and 'close' when the peer ends", async () => {
    const { served, client } = await connectedPair();
    const received = chunksOf(served);
    const ended = once(served, 'end');
    const closed = once(served, 'close');
    client.end('bye');
    await ended;
    await closed;
    expect(bytesOf(received)).toBe('bye');
  });
});

describe('withOwnReadBuffer, sockets it leaves alone', () => {
  it('returns a socket with no fd (not connected) unchanged', () => {
    const unconnected = new Socket();
    sockets.push(unconnected);
    expect(withOwnReadBuffer(unconnected)).toBe(unconnected);
    expect(unconnected.destroyed).toBe(false);
  });

  it('returns a TLS socket (its TLS state lives in it) unchanged', async () => {
    const pair = await accepted();
    const tlsLike = Object.assign(pair.accepted, { encrypted: true });
    expect(withOwnReadBuffer(tlsLike)).toBe(tlsLike);
    expect(tlsLike.destroyed).toBe(false);
  });
});
