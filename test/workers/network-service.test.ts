// A daemon network thread's service, on this thread (the daemon runs it in a worker, where
// coverage does not reach), over a MessageChannel and real sockets: it adopts a client by fd
// and answers its GETs from the store's index, counting them; sends a setup request to the
// "main thread" and goes on once the reply is back; hands the client back by fd, with the bytes
// from its first other request, after its earlier replies; reads nothing for a client before
// AUTH; times its GETs by latency bucket; CLIENT KILL and shutdown end it.

import { createServer, type Server, Socket } from 'node:net';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { DEFAULT_PARSER_LIMITS } from '../../dist/main/server/resp-parser.js';
import { socketFds } from '../../dist/shared/file-map.js';
import {
  BLOCK_CALLS,
  BLOCK_LATENCY_BUCKETS,
  BLOCK_LATENCY_SECONDS,
  COMMAND_BLOCK,
  COUNTER_HITS,
  COUNTER_MISSES,
  commandCounter,
  type FromNetworkThread,
  NETWORK_COUNTERS,
  THREAD_COMMANDS,
  type ToNetworkThread,
} from '../../dist/shared/network-messages.js';
import { LONE_READS_MAX } from '../../dist/workers/client-habits.js';
import { type GetConnection, REPLY_BUDGET_BYTES } from '../../dist/workers/get-connection.js';
import { NetworkService } from '../../dist/workers/network-service.js';
import { pollUntil } from '../fixtures/poll.js';
import { encodeCommand, RespClient } from '../fixtures/resp-client.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

/** The main thread's replies when it answered none of a `run`'s requests. */
const NO_REPLY = new Uint8Array(0);
const COUNTER_GETS = commandCounter(0, BLOCK_CALLS);
const COUNTER_MGETS = commandCounter(1, BLOCK_CALLS);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await removeTempDirs();
});

/** The main thread's end of the channel: every message the service sent, awaitable in order. */
class MainEnd {
  private readonly seen: FromNetworkThread[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly port: MessagePort) {
    port.on('message', (message: FromNetworkThread) => {
      this.seen.push(message);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }
  post(message: ToNetworkThread): void {
    this.port.postMessage(message);
  }
  async next(): Promise<FromNetworkThread> {
    while (this.seen.length === 0) await new Promise<void>((r) => this.waiters.push(r));
    return this.seen.shift()!;
  }
  /**
   * The next message, once the main thread's part of a handback is played: requests the thread
   * sends to it (`run`) are answered as the main thread answers one it does not run for a
   * thread's client (none answered), and the thread then hands the client back.
   */
  async handback(): Promise<FromNetworkThread> {
    const message = await this.next();
    if (message.kind !== 'run') return message;
    this.post({
      kind: 'ran',
      id: message.id,
      reply: NO_REPLY,
      answered: 0,
      authenticated: true,
      protocol: 2,
    });
    return this.next();
  }
}

interface Setup {
  readonly main: MainEnd;
  /** The service's connection for client `id`. */
  connection(id: number): GetConnection | undefined;
  readonly counters: Float64Array;
  /** The cores-busy flag the service reads (core-load.ts): 0 at first. */
  readonly coreLoad: Int32Array;
  /**
   * A new client whose socket the service has adopted as `id` (not yet `authenticated`), in
   * `protocol`, with `bytes` the main thread read from it first.
   */
  client(
    id: number,
    authenticated?: boolean,
    protocol?: 2 | 3,
    bytes?: Uint8Array,
  ): Promise<RespClient>;
}

async function setUp(): Promise<Setup> {
  const dir = await makeTempDir('network-service');
  const store = await Store.open(dir, { readers: 1 });
  cleanups.push(() => store.close());
  await store.set('k', 'value');
  await store.set('big', Buffer.alloc(100_000, 3));
  await store.set('expiring', 'v', { expiresAt: Date.now() + 100_000 });
  const shared = new SharedArrayBuffer(NETWORK_COUNTERS * 8);
  const coreLoad = new SharedArrayBuffer(4);
  const channel = new MessageChannel();
  const service = new NetworkService(
    {
      ...store.readerInit(),
      maxKeyBytes: 64,
      parserLimits: DEFAULT_PARSER_LIMITS,
      idleTimeoutMs: 0,
      counters: shared,
      slot: 0,
      timed: true,
      coreLoad,
    },
    channel.port1,
  );
  const main = new MainEnd(channel.port2);
  cleanups.push(() => {
    channel.port1.close();
    channel.port2.close();
  });
  const clients = (service as unknown as { clients: Map<number, GetConnection> }).clients;
  const accepted: Socket[] = [];
  const waiting: ((s: Socket) => void)[] = [];
  const server: Server = createServer((socket) => {
    const wake = waiting.shift();
    if (wake) wake(socket);
    else accepted.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  return {
    main,
    connection: (id) => clients.get(id),
    counters: new Float64Array(shared),
    coreLoad: new Int32Array(coreLoad),
    async client(id, authenticated = true, protocol = 2, bytes = new Uint8Array(0)) {
      const client = await RespClient.connect(port);
      cleanups.push(() => client.close());
      const socket =
        accepted.shift() ?? (await new Promise<Socket>((resolve) => waiting.push(resolve)));
      const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
      const copy = socketFds!.dupFd(fd);
      if (typeof copy !== 'number') throw new Error(copy);
      socket.destroy();
      main.post({
        kind: 'adopt',
        id,
        fd: copy,
        authenticated,
        protocol,
        bytes,
      });
      return client;
    },
  };
}

/** Calls of `name` the service counted. */
function callsOf(counters: Float64Array, name: (typeof THREAD_COMMANDS)[number]): number {
  return counters[commandCounter(THREAD_COMMANDS.indexOf(name), BLOCK_CALLS)]!;
}

/**
 * Sends each of `requests` from a new client (ids from `firstId`) and expects each client handed
 * back to the main thread with that request's bytes.
 */
async function expectHandedBack(
  { main, client: connect }: Setup,
  requests: readonly Buffer[],
  firstId: number,
): Promise<void> {
  for (const [i, request] of requests.entries()) {
    const refusing = await connect(firstId + i);
    refusing.send(request);
    const back = await main.handback();
    if (back.kind !== 'handback') throw new Error(JSON.stringify(back));
    expect([back.id, Buffer.from(back.bytes)]).toEqual([firstId + i, request]);
    new Socket({ fd: back.fd }).destroy();
  }
}

describe('NetworkService', () => {
  it('answers GETs, runs setup requests through the main thread, and hands the client back', async () => {
    const { main, counters, client: connect } = await setUp();
    const client = await connect(7);
    expect((await client.call('GET', 'k')).raw).toBe('$5\r\nvalue\r\n');
    expect((await client.call('get', 'missing')).raw).toBe('$-1\r\n');
    const big = await client.call('GET', 'big');
    expect(big.type === 'bulk' && big.value.equals(Buffer.alloc(100_000, 3))).toBe(true);
    expect([counters[COUNTER_GETS], counters[COUNTER_HITS], counters[COUNTER_MISSES]]).toEqual([
      3, 2, 1,
    ]);

    // A setup request goes to the main thread; the GET after it waits for its reply.
    client.send(
      Buffer.concat([encodeCommand(['CLIENT', 'SETNAME', 'x']), encodeCommand(['GET', 'k'])]),
    );
    const run = await main.next();
    expect(run).toMatchObject({ kind: 'run', id: 7 });
    expect(run.kind === 'run' && run.requests[0]!.map((a) => Buffer.from(a).toString())).toEqual([
      'CLIENT',
      'SETNAME',
      'x',
    ]);
    main.post({
      kind: 'ran',
      id: 7,
      reply: Buffer.from('+OK\r\n'),
      answered: 1,
      authenticated: true,
      protocol: 2,
    });
    expect((await client.reply()).raw).toBe('+OK\r\n');
    expect((await client.reply()).raw).toBe('$5\r\nvalue\r\n');

    // A GET, then a SET in the same write: the GET is answered here (its reply held until the
    // main thread has answered about the SET), the SET handed back.
    const set = encodeCommand(['SET', 'k', 'new']);
    client.send(Buffer.concat([encodeCommand(['GET', 'k']), set, encodeCommand(['GET', 'k'])]));
    const back = await main.handback();
    expect((await client.reply()).raw).toBe('$5\r\nvalue\r\n');
    if (back.kind !== 'handback') throw new Error(JSON.stringify(back));
    expect(back.id).toBe(7);
    expect(Buffer.from(back.bytes)).toEqual(Buffer.concat([set, encodeCommand(['GET', 'k'])]));
    // The fd is the main thread's now: what it writes reaches the client.
    const socket = new Socket({ fd: back.fd, readable: true, writable: true });
    socket.write('+OK\r\n');
    expect((await client.reply()).raw).toBe('+OK\r\n');
    socket.destroy();
    await client.closed;
  });

  it('keeps a client whose request the main thread refuses at lookup, and hands back one it does not', async () => {
    const { main, counters, client: connect } = await setUp();
    const client = await connect(8);
    const unknown = encodeCommand(['CLIENT', 'MAINT_NOTIFICATIONS', 'ON']);
    const set = encodeCommand(['SET', 'k', 'v2']);
    // The request and a GET after it: the GET waits for the main thread's answer.
    client.send(Buffer.concat([unknown, encodeCommand(['GET', 'k'])]));
    const run = await main.next();
    expect(run).toMatchObject({ kind: 'run', id: 8 });
    expect(run.kind === 'run' && run.requests.length).toBe(1); // the GET waits: the thread's
    const refusal = "-ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP.\r\n";
    main.post({
      kind: 'ran',
      id: 8,
      reply: Buffer.from(refusal),
      answered: 1,
      authenticated: true,
      protocol: 2,
    });
    expect((await client.reply()).raw).toBe(refusal);
    expect((await client.reply()).raw).toBe('$5\r\nvalue\r\n');
    expect(counters[COUNTER_GETS]).toBe(1);
    // Not refused: the client goes back with that request and all that followed it.
    client.send(Buffer.concat([set, encodeCommand(['GET', 'k'])]));
    expect(await main.next()).toMatchObject({ kind: 'run', id: 8 });
    main.post({
      kind: 'ran',
      id: 8,
      reply: NO_REPLY,
      answered: 0,
      authenticated: true,
      protocol: 2,
    });
    const back = await main.next();
    if (back.kind !== 'handback') throw new Error(JSON.stringify(back));
    expect(Buffer.from(back.bytes)).toEqual(Buffer.concat([set, encodeCommand(['GET', 'k'])]));
    // The fd is the main thread's now: what it writes reaches the client.
    const socket = new Socket({ fd: back.fd, readable: true, writable: true });
    socket.write('+OK\r\n');
    expect((await client.reply()).raw).toBe('+OK\r\n');
    socket.destroy();
  });

  it('sends the requests that follow one it does not answer with it, and hands back from the first not run', async () => {
    const { main, counters, connection, client: connect } = await setUp();
    const client = await connect(9);
    const requests = [['SET', 'a', '1'], ['INCR', 'a'], ['MULTI'], ['SET', 'b', '2']].map((args) =>
      encodeCommand(args),
    );
    // Up to the GET, which the thread answers itself once the main thread has answered the rest.
    client.send(
      Buffer.concat([...requests, encodeCommand(['GET', 'k']), encodeCommand(['SET', 'c', '3'])]),
    );
    const run = await main.next();
    if (run.kind !== 'run') throw new Error(JSON.stringify(run));
    expect(run.requests.map((args) => args.map((a) => Buffer.from(a).toString()))).toEqual([
      ['SET', 'a', '1'],
      ['INCR', 'a'],
      ['MULTI'],
      ['SET', 'b', '2'],
    ]);
    expect(connection(9)!.state()).toMatchObject({ pendingReplies: 4, inFlight: 4 });
    // The main thread ran two (it does not run MULTI for a thread's client): their replies are
    // sent, and the client goes back from MULTI on, with everything after it.
    main.post({
      kind: 'ran',
      id: 9,
      reply: Buffer.from('+OK\r\n:2\r\n'),
      answered: 2,
      authenticated: true,
      protocol: 2,
    });
    expect((await client.reply()).raw).toBe('+OK\r\n');
    expect((await client.reply()).raw).toBe(':2\r\n');
    const back = await main.next();
    if (back.kind !== 'handback') throw new Error(JSON.stringify(back));
    expect(Buffer.from(back.bytes)).toEqual(
      Buffer.concat([
        requests[2]!,
        requests[3]!,
        encodeCommand(['GET', 'k']),
        encodeCommand(['SET', 'c', '3']),
      ]),
    );
    new Socket({ fd: back.fd }).destroy();
    expect(counters[COUNTER_GETS]).toBe(0);

    // All run: the GET after them is answered here, then the SET after it goes on its own.
    const other = await connect(10);
    other.send(
      Buffer.concat([
        requests[0]!,
        requests[1]!,
        encodeCommand(['GET', 'k']),
        encodeCommand(['SET', 'c', '3']),
      ]),
    );
    const first = await main.next();
    expect(first.kind === 'run' && first.requests.length).toBe(2);
    main.post({
      kind: 'ran',
      id: 10,
      reply: Buffer.from('+OK\r\n:2\r\n'),
      answered: 2,
      authenticated: true,
      protocol: 2,
    });
    const second = await main.next();
    expect(
      second.kind === 'run' &&
        second.requests.map((args) => args.map((a) => Buffer.from(a).toString())),
    ).toEqual([['SET', 'c', '3']]);
    main.post({
      kind: 'ran',
      id: 10,
      reply: Buffer.from('+OK\r\n'),
      answered: 1,
      authenticated: true,
      protocol: 2,
    });
    expect((await other.reply()).raw).toBe('+OK\r\n');
    expect((await other.reply()).raw).toBe(':2\r\n');
    expect((await other.reply()).raw).toBe('$5\r\nvalue\r\n');
    expect((await other.reply()).raw).toBe('+OK\r\n');
    expect(counters[COUNTER_GETS]).toBe(1);
  });

  it('answers MGET, EXISTS, STRLEN and TYPE here, in order with GETs, and hands back what it cannot', async () => {
    const { main, counters, client: connect } = await setUp();
    const client = await connect(4);
    client.send(
      Buffer.concat([
        encodeCommand(['GET', 'k']),
        encodeCommand(['MGET', 'k', 'missing', 'k']),
        encodeCommand(['get', 'missing']),
        encodeCommand(['mget', 'missing']),
      ]),
    );
    expect((await client.reply()).raw).toBe('$5\r\nvalue\r\n');
    expect((await client.reply()).raw).toBe('*3\r\n$5\r\nvalue\r\n$-1\r\n$5\r\nvalue\r\n');
    expect((await client.reply()).raw).toBe('$-1\r\n');
    expect((await client.reply()).raw).toBe('*1\r\n$-1\r\n');
    expect([counters[COUNTER_GETS], counters[COUNTER_MGETS]]).toEqual([2, 2]);
    expect([counters[COUNTER_HITS], counters[COUNTER_MISSES]]).toEqual([3, 3]);
    // EXISTS, STRLEN and TYPE are answered here too, and count no keyspace hits (as on the main
    // thread); a wrong arity goes to the main thread.
    client.send(
      Buffer.concat([
        encodeCommand(['EXISTS', 'k', 'missing', 'k']),
        encodeCommand(['strlen', 'big']),
        encodeCommand(['STRLEN', 'missing']),
        encodeCommand(['TYPE', 'k']),
        encodeCommand(['type', 'missing']),
      ]),
    );
    expect((await client.reply()).raw).toBe(':2\r\n');
    expect((await client.reply()).raw).toBe(':100000\r\n');
    expect((await client.reply()).raw).toBe(':0\r\n');
    expect((await client.reply()).raw).toBe('+string\r\n');
    expect((await client.reply()).raw).toBe('+none\r\n');
    expect([2, 3, 4].map((c) => counters[commandCounter(c, BLOCK_CALLS)])).toEqual([1, 2, 2]);

    // TTL and PTTL: -2 without the key, -1 without an expiry, else the time left.
    const asked = Date.now();
    client.send(
      Buffer.concat([
        encodeCommand(['TTL', 'missing']),
        encodeCommand(['pttl', 'k']),
        encodeCommand(['TTL', 'expiring']),
        encodeCommand(['PTTL', 'expiring']),
      ]),
    );
    expect((await client.reply()).raw).toBe(':-2\r\n');
    expect((await client.reply()).raw).toBe(':-1\r\n');
    // Set in setUp with 100 s to live: whole seconds rounded, and milliseconds.
    const ttl = Number((await client.reply()).raw.slice(1, -2));
    expect(ttl).toBeLessThanOrEqual(100);
    expect(ttl).toBeGreaterThanOrEqual(90);
    const left = Number((await client.reply()).raw.slice(1, -2));
    expect(left).toBeLessThanOrEqual(100_000);
    expect(left).toBeGreaterThanOrEqual(90_000);
    expect(Math.abs(left / 1000 - ttl)).toBeLessThanOrEqual(0.5 + (Date.now() - asked) / 1000);
    expect([5, 6].map((c) => counters[commandCounter(c, BLOCK_CALLS)])).toEqual([2, 2]);
    expect([counters[COUNTER_HITS], counters[COUNTER_MISSES]]).toEqual([3, 3]);
    // A wrong arity, or a key over maxKeyBytes (64): sent to the main thread to be refused; not
    // refused (as `handback` plays the main thread), the client goes back with the request.
    const arity = await connect(5);
    arity.send(encodeCommand(['TYPE', 'k', 'k']));
    const moved = await main.handback();
    if (moved.kind !== 'handback') throw new Error(JSON.stringify(moved));
    expect(Buffer.from(moved.bytes)).toEqual(encodeCommand(['TYPE', 'k', 'k']));
    new Socket({ fd: moved.fd }).destroy();
    const long = encodeCommand(['MGET', 'k', 'x'.repeat(65)]);
    client.send(long);
    const back = await main.handback();
    if (back.kind !== 'handback') throw new Error(JSON.stringify(back));
    expect(Buffer.from(back.bytes)).toEqual(long);
    new Socket({ fd: back.fd }).destroy();
    expect(counters[COUNTER_MGETS]).toBe(2);
  });

  it('answers GETRANGE, SUBSTR, GETBIT, TOUCH, EXPIRETIME and PEXPIRETIME here, and hands back what the main thread refuses', async () => {
    const setup = await setUp();
    const { counters, client: connect } = setup;
    const calls = (name: (typeof THREAD_COMMANDS)[number]) => callsOf(counters, name);
    const client = await connect(6);
    const asked = Date.now();
    client.send(
      Buffer.concat([
        encodeCommand(['GETRANGE', 'k', '1', '3']),
        encodeCommand(['getrange', 'k', '-3', '-1']),
        encodeCommand(['SUBSTR', 'k', '10', '20']),
        encodeCommand(['GETRANGE', 'missing', '0', '-1']),
        encodeCommand(['GETBIT', 'k', '1']), // 'v' is 0x76: 0111 0110
        encodeCommand(['GETBIT', 'k', '4']),
        encodeCommand(['getbit', 'k', '1000']),
        encodeCommand(['GETBIT', 'missing', '0']),
        encodeCommand(['TOUCH', 'k', 'missing', 'k']),
        encodeCommand(['EXPIRETIME', 'missing']),
        encodeCommand(['pexpiretime', 'k']),
        encodeCommand(['PEXPIRETIME', 'expiring']),
        encodeCommand(['EXPIRETIME', 'expiring']),
      ]),
    );
    const replies: string[] = [];
    for (let i = 0; i < 13; i++) replies.push((await client.reply()).raw);
    expect(replies.slice(0, 11)).toEqual([
      '$3\r\nalu\r\n',
      '$3\r\nlue\r\n',
      '$0\r\n\r\n',
      '$0\r\n\r\n',
      ':1\r\n',
      ':0\r\n',
      ':0\r\n',
      ':0\r\n',
      ':2\r\n',
      ':-2\r\n',
      ':-1\r\n',
    ]);
    // Set in setUp to expire 100 s after it was written: a Unix time in ms, then in seconds.
    const at = Number(replies[11]!.slice(1, -2));
    expect(at).toBeGreaterThan(asked + 90_000);
    expect(at).toBeLessThanOrEqual(Date.now() + 100_000);
    expect(replies[12]).toBe(`:${Math.floor((at + 500) / 1000)}\r\n`);
    expect([calls('getrange'), calls('substr'), calls('getbit'), calls('touch')]).toEqual([
      3, 1, 4, 1,
    ]);
    expect([calls('expiretime'), calls('pexpiretime')]).toEqual([2, 2]);
    // GETRANGE, SUBSTR and GETBIT count their key as a hit or a miss, as the main thread does.
    expect([counters[COUNTER_HITS], counters[COUNTER_MISSES]]).toEqual([6, 2]);

    // What the main thread answers with an error goes to it: arguments that are not integers, a
    // negative bit offset or one whose byte is past the bulk limit, a wrong arity.
    const limit = DEFAULT_PARSER_LIMITS.maxBulkBytes * 8;
    const lastBit = await connect(7);
    expect((await lastBit.call('GETBIT', 'k', String(limit - 1))).raw).toBe(':0\r\n');
    const refused = [
      encodeCommand(['GETRANGE', 'k', 'x', '1']),
      encodeCommand(['SUBSTR', 'k', '0', '1.5']),
      encodeCommand(['GETBIT', 'k', '-1']),
      encodeCommand(['GETBIT', 'k', String(limit)]),
      encodeCommand(['GETRANGE', 'k', '0']),
      encodeCommand(['GETBIT', 'k']),
      encodeCommand(['EXPIRETIME', 'k', 'k']),
    ];
    await expectHandedBack(setup, refused, 10);
    expect(calls('getbit')).toBe(5);
  });

  it('answers BITCOUNT and BITPOS here, and hands back what the main thread refuses', async () => {
    const setup = await setUp();
    const { counters, client: connect } = setup;
    const calls = (name: (typeof THREAD_COMMANDS)[number]) => callsOf(counters, name);
    const client = await connect(8);
    // 'value' is 76 61 6c 75 65: 5, 3, 4, 5 and 4 bits set; its first 1 is bit 1, its first 0 bit 0.
    const asked: [string[], string][] = [
      [['BITCOUNT', 'k'], ':21\r\n'],
      [['bitcount', 'k', '1', '2'], ':7\r\n'],
      [['BITCOUNT', 'k', '-1', '-1', 'BYTE'], ':4\r\n'],
      [['BITCOUNT', 'k', '0', '7', 'bit'], ':5\r\n'],
      [['BITCOUNT', 'k', '-1', '-3'], ':0\r\n'],
      [['BITCOUNT', 'missing'], ':0\r\n'],
      [['BITPOS', 'k', '1'], ':1\r\n'],
      [['bitpos', 'k', '0'], ':0\r\n'],
      [['BITPOS', 'k', '1', '2'], ':17\r\n'],
      [['BITPOS', 'k', '0', '1', '1', 'BIT'], ':-1\r\n'],
      [['BITPOS', 'k', '1', '8', '-1', 'bit'], ':9\r\n'],
      [['BITPOS', 'missing', '1'], ':-1\r\n'],
      [['BITPOS', 'missing', '0'], ':0\r\n'],
    ];
    client.send(Buffer.concat(asked.map(([args]) => encodeCommand(args))));
    for (const [args, reply] of asked)
      expect([args, (await client.reply()).raw]).toEqual([args, reply]);
    expect([calls('bitcount'), calls('bitpos')]).toEqual([6, 7]);
    expect([counters[COUNTER_HITS], counters[COUNTER_MISSES]]).toEqual([10, 3]);
    const refused = [
      ['BITCOUNT', 'k', '0'],
      ['BITCOUNT', 'k', '0', 'x'],
      ['BITCOUNT', 'k', '0', '1', 'BITS'],
      ['BITPOS', 'k', '2'],
      ['BITPOS', 'k', 'x'],
      ['BITPOS', 'k', '1', '0', '1', 'BYTE', 'more'],
      ['BITPOS', 'k'],
    ].map((args) => encodeCommand(args));
    await expectHandedBack(setup, refused, 20);
    expect([calls('bitcount'), calls('bitpos')]).toEqual([6, 7]);
  });

  it('hands back a client that waits for each reply only while the cores are busy', async () => {
    const { main, coreLoad, client: connect } = await setUp();
    const client = await connect(4);
    // Cores to spare: it stays, however many reads in a row bring one request each.
    for (let i = 0; i < LONE_READS_MAX + 10; i++)
      expect((await client.call('GET', 'k')).raw).toBe('$5\r\nvalue\r\n');
    // Busy cores: the next read of one request sends it to the main thread, with no bytes.
    Atomics.store(coreLoad, 0, 1);
    expect((await client.call('GET', 'k')).raw).toBe('$5\r\nvalue\r\n');
    const back = await main.next();
    expect(back).toMatchObject({ kind: 'handback', id: 4 });
    if (back.kind !== 'handback') throw new Error(back.kind);
    expect(back.bytes.length).toBe(0);
    new Socket({ fd: back.fd }).destroy();
    // A read of two requests starts the count again.
    const piped = await connect(5);
    for (let i = 0; i < LONE_READS_MAX - 1; i++)
      expect((await piped.call('GET', 'k')).raw).toBe('$5\r\nvalue\r\n');
    expect(
      (
        await piped.pipeline([
          ['GET', 'k'],
          ['GET', 'k'],
        ])
      ).length,
    ).toBe(2);
    for (let i = 0; i < LONE_READS_MAX - 1; i++)
      expect((await piped.call('GET', 'k')).raw).toBe('$5\r\nvalue\r\n');
    piped.close();
    expect(await main.next()).toEqual({ kind: 'gone', id: 5 });
  });

  it('adopts a client in its protocol, taking the bytes the main thread read first', async () => {
    const { main, client } = await setUp();
    const get = encodeCommand(['GET', 'k']);
    const first = Buffer.concat([get, encodeCommand(['GET', 'missing']), get.subarray(0, 5)]);
    const reader = await client(8, true, 3, first);
    expect((await reader.reply()).raw).toBe('$5\r\nvalue\r\n');
    expect((await reader.reply()).raw).toBe('_\r\n'); // RESP3's null
    reader.send(get.subarray(5));
    expect((await reader.reply()).raw).toBe('$5\r\nvalue\r\n');
    // A request it does not answer goes to the main thread as any other.
    reader.command('SET', 'k', 'w');
    const run = await main.next();
    expect(run.kind === 'run' && run.requests.map((r) => Buffer.from(r[0]!).toString())).toEqual([
      'SET',
    ]);
  });

  it('hands a client back at an inline request, and reports clients that leave or are killed', async () => {
    const { main, client: connect } = await setUp();
    const inline = await connect(1);
    inline.send('PING\r\n');
    const back = await main.handback();
    expect(back).toMatchObject({ kind: 'handback', id: 1 });
    if (back.kind === 'handback') new Socket({ fd: back.fd }).destroy();

    const leaving = await connect(2);
    expect((await leaving.call('GET', 'k')).raw).toBe('$5\r\nvalue\r\n');
    leaving.close();
    expect(await main.next()).toEqual({ kind: 'gone', id: 2 });

    const killed = await connect(3);
    expect((await killed.call('GET', 'k')).raw).toBe('$5\r\nvalue\r\n');
    main.post({ kind: 'kill', id: 3 });
    await killed.closed;
    expect(await main.next()).toEqual({ kind: 'gone', id: 3 });
  });

  it('reads nothing for a client before AUTH, and runs its AUTH on the main thread', async () => {
    const { main, counters, client: connect } = await setUp();
    // A GET before AUTH goes to the main thread (which refuses it).
    const refused = await connect(1, false);
    refused.send(encodeCommand(['GET', 'k']));
    const back = await main.handback();
    if (back.kind !== 'handback') throw new Error(JSON.stringify(back));
    expect(Buffer.from(back.bytes)).toEqual(encodeCommand(['GET', 'k']));
    new Socket({ fd: back.fd }).destroy();

    // AUTH goes to the main thread; the GET after it is answered here once it says yes.
    const client = await connect(2, false);
    client.send(Buffer.concat([encodeCommand(['AUTH', 'secret']), encodeCommand(['GET', 'k'])]));
    const run = await main.next();
    expect(run.kind === 'run' && run.requests[0]!.map((a) => Buffer.from(a).toString())).toEqual([
      'AUTH',
      'secret',
    ]);
    main.post({
      kind: 'ran',
      id: 2,
      reply: Buffer.from('+OK\r\n'),
      answered: 1,
      authenticated: true,
      protocol: 2,
    });
    expect((await client.reply()).raw).toBe('+OK\r\n');
    expect((await client.reply()).raw).toBe('$5\r\nvalue\r\n');
    expect(counters[COUNTER_GETS]).toBe(1);
    // Timed: the GET is in one latency bucket, and its latency in the sum.
    const buckets = counters.subarray(
      commandCounter(0, BLOCK_LATENCY_BUCKETS),
      commandCounter(0, COMMAND_BLOCK),
    );
    expect(buckets.reduce((a, b) => a + b, 0)).toBe(1);
    expect(counters[commandCounter(0, BLOCK_LATENCY_SECONDS)]).toBeGreaterThan(0);

    // A refused AUTH leaves it unauthenticated: its next GET goes to the main thread.
    const denied = await connect(3, false);
    denied.send(encodeCommand(['AUTH', 'wrong']));
    expect(await main.next()).toMatchObject({ kind: 'run', id: 3 });
    main.post({
      kind: 'ran',
      id: 3,
      reply: Buffer.from('-WRONGPASS\r\n'),
      answered: 1,
      authenticated: false,
      protocol: 2,
    });
    expect((await denied.reply()).raw).toBe('-WRONGPASS\r\n');
    denied.send(encodeCommand(['GET', 'k']));
    const moved = await main.handback();
    expect(moved).toMatchObject({ kind: 'handback', id: 3 });
    if (moved.kind === 'handback') new Socket({ fd: moved.fd }).destroy();
  });

  it('runs a full collection when the main thread says the daemon is idle, and says so', async () => {
    const { main } = await setUp();
    const gc = globalThis.gc;
    let collected = 0;
    // The service runs in this thread here: its collection is this thread's gc(), recorded.
    globalThis.gc = (() => {
      collected++;
    }) as typeof globalThis.gc;
    try {
      main.post({ kind: 'collect' });
      const answer = await main.next();
      expect(answer.kind).toBe('collected');
      if (answer.kind === 'collected') expect(answer.heapBefore).toBeGreaterThan(0);
      expect(collected).toBe(1);
    } finally {
      globalThis.gc = gc;
    }
  });

  it('reads no more from a client that does not read its replies until its socket drains', async () => {
    const { counters, connection, client: connect } = await setUp();
    const client = await connect(1);
    const requests = 600; // 60 MB of replies
    client.socket.pause();
    client.send(
      Buffer.concat(Array.from({ length: requests }, () => encodeCommand(['GET', 'big']))),
    );
    await pollUntil(
      'the connection waits for its socket to drain',
      () => connection(1)?.waitingForDrain === true && counters[COUNTER_GETS]! > 0,
      10_000,
    );
    // At most one budget and the value that crossed it wait in the process.
    expect(connection(1)!.queuedBytes).toBeLessThanOrEqual(REPLY_BUDGET_BYTES + 100_100);
    expect(counters[COUNTER_GETS]).toBeLessThan(requests);
    client.socket.resume();
    const big = Buffer.alloc(100_000, 3);
    for (let i = 0; i < requests; i++) {
      const reply = await client.reply();
      if (reply.type !== 'bulk' || !reply.value.equals(big)) throw new Error(`reply ${i}`);
    }
    expect(counters[COUNTER_GETS]).toBe(requests);
  });

  it('ends its clients on close, then says so', async () => {
    const { main, client: connect } = await setUp();
    const a = await connect(1);
    const b = await connect(2);
    expect((await a.call('GET', 'k')).raw).toBe('$5\r\nvalue\r\n');
    expect((await b.call('GET', 'k')).raw).toBe('$5\r\nvalue\r\n');
    main.post({ kind: 'close' });
    expect(await a.rest()).toBe('');
    expect(await b.rest()).toBe('');
    const gone = [await main.next(), await main.next()];
    expect(gone.map((m) => (m.kind === 'gone' ? m.id : -1)).sort()).toEqual([1, 2]);
    expect(await main.next()).toEqual({ kind: 'closed' });
  });
});
