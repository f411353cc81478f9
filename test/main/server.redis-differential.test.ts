// Tests the daemon's string, bit and keyspace commands, and MULTI/EXEC/WATCH around them, against
// a real redis-server: fast-check makes random command sequences over a few keys and awkward
// arguments (numbers at and past 64 bits, bad integers and floats, offsets past the end, wrong
// arities, expiries in the past and far ahead), both servers run each sequence on a fresh
// keyspace, one command at a time (RESP2 and RESP3) or all in one pipeline, and every reply must
// match byte for byte. A fourth property sends the reads, and some of the writes, to a client of a
// network thread (whose writes the main thread runs for it), and the other writes to one of the
// main thread. What differs by design is set aside (`comparable`,
// `chosenDifference`, README "Commands"). DIFF_RUNS=n runs each property n times.

import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { THREAD_COMMANDS } from '../../dist/shared/network-messages.js';
import { startTestServer } from '../fixtures/kvd-server.js';
import { command, KEYS } from '../fixtures/redis-commands.js';
import { hasRedisServer, startRedis, type TestRedis } from '../fixtures/redis-server.js';
import { encodeCommand, type Reply, RespClient } from '../fixtures/resp-client.js';
import type { TestServer } from '../fixtures/shared-server.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

/** Replies whose numbers depend on the clock: both servers must agree only on their kind. */
const TIMED = new Set(['ttl', 'pttl', 'expiretime', 'pexpiretime']);
/**
 * Commands on the whole keyspace, which kvd does not queue in MULTI (README, "Transactions"):
 * not sent while a transaction is open.
 */
const NOT_QUEUED = new Set(['keys', 'dbsize', 'scan', 'randomkey', 'flushall', 'flushdb']);
/**
 * OBJECT ENCODING's string encodings: kvd answers from the value alone, where Redis also
 * remembers how it was made (APPEND, SETRANGE and INCRBYFLOAT leave `raw` or `embstr` even for
 * an integer; README, "OBJECT").
 */
const STRING_ENCODINGS = /\$3\r\n(?:raw|int)\r\n|\$6\r\nembstr\r\n/g;

/**
 * A reply's bytes, with what differs by nature between the two servers put in one form: a
 * TTL's time left, the order of KEYS's and SCAN's keys, which key RANDOMKEY picks, OBJECT ENCODING's string encodings. `queued` are the
 * commands of the transaction an EXEC ran, whose replies are its array's elements.
 */
function comparable(args: readonly string[], reply: Reply, queued?: readonly string[][]): string {
  const name = args[0]!.toLowerCase();
  if (name === 'exec' && queued && reply.type === 'array' && reply.value)
    return reply.value.map((element, i) => comparable(queued[i]!, element)).join('');
  if (TIMED.has(name) && reply.type === 'integer' && reply.value > 0) return ':+';
  if (name === 'keys' && reply.type === 'array' && reply.value) return sortedRaw(reply.value);
  if (name === 'scan' && reply.type === 'array' && reply.value?.[1]?.type === 'array') {
    const [cursor, keys] = reply.value;
    return `${cursor!.raw}${sortedRaw(keys!.value ?? [])}`;
  }
  if (name === 'randomkey' && reply.type === 'bulk') return '<a key>';
  return reply.raw.replace(STRING_ENCODINGS, '<string encoding>');
}

/** The raw replies of `items` in byte order, joined. */
function sortedRaw(items: readonly Reply[]): string {
  return items
    .map((r) => r.raw)
    .sort()
    .join('|');
}

/**
 * Whether a difference is one kvd chose (README), or one of timing:
 * - BITCOUNT and BITPOS check all their arguments first, as Redis 7.2 does, where
 *   redis-server 7.0 answers 0 or -1 before it has read them all: for a missing key, and for a
 *   BITCOUNT range whose ends are both negative and crossed;
 * - DBSIZE counts an expired key until something deletes it, in both; kvd deletes at once a key
 *   written with a time already past (SET … EXAT 1), Redis at its next read or expiry cycle. So
 *   the counts are compared again once a GET of every key has deleted the expired ones.
 */
async function chosenDifference(
  pair: Pair,
  args: readonly string[],
  kvd: Reply,
  redis: Reply,
): Promise<boolean> {
  const name = args[0]!.toLowerCase();
  if (name === 'dbsize') {
    const counts: string[] = [];
    for (const client of [pair.kvd, pair.redis]) {
      for (const k of KEYS) await client.call('GET', k);
      counts.push((await client.call('DBSIZE')).raw);
    }
    return counts[0] === counts[1];
  }
  if (name !== 'bitcount' && name !== 'bitpos') return false;
  if (kvd.type !== 'error' || redis.type !== 'integer') return false;
  const [start, end] = [Number(args[2]), Number(args[3])];
  if (name === 'bitcount' && start < 0 && end < 0 && start > end) return true;
  const exists = await pair.redis.call('EXISTS', args[1]!);
  return exists.type === 'integer' && exists.value === 0;
}

/** Reads a network thread keeps its client for, which the main thread runs for it. */
const REMOTE_READS = new Set(['scan', 'keys', 'randomkey']);

/** Commands that open, end or watch for a transaction. */
const TRANSACTION_COMMANDS = new Set(['multi', 'exec', 'discard', 'watch', 'unwatch', 'reset']);

/** Both servers, each with one raw client in the protocol the test chose. */
interface Pair {
  readonly kvd: RespClient;
  readonly redis: RespClient;
  /** The protocol the sequences start in (a RESET in one goes back to RESP2). */
  readonly protocol: 2 | 3;
}

/**
 * Empties both servers, after leaving any transaction, watch or subscription the last sequence
 * left open and going back to the pair's protocol.
 */
async function reset(pair: Pair): Promise<void> {
  for (const client of [pair.kvd, pair.redis]) {
    client.send(encodeCommand(['RESET']));
    client.send(encodeCommand(['HELLO', String(pair.protocol)]));
    client.send(encodeCommand(['FLUSHALL']));
    for (let i = 0; i < 3; i++) await client.reply();
  }
}

/** Whether `args` is BITCOUNT or BITPOS with a range (see `chosenDifference`). */
function isBitRange(name: string, args: readonly string[]): boolean {
  return (name === 'bitcount' && args.length > 2) || (name === 'bitpos' && args.length > 3);
}

/**
 * The commands of `commands` to send: while a transaction is open, not those kvd does not queue
 * (NOT_QUEUED), nor a bit range, whose difference on a missing key could not be told apart
 * inside EXEC's reply; when pipelined, neither DBSIZE nor a bit range anywhere, for the same
 * reason (`chosenDifference` looks at the keyspace as it is after the command).
 */
function toSend(commands: readonly string[][], pipelined: boolean): string[][] {
  let open = false;
  return commands.filter((args) => {
    const name = args[0]!.toLowerCase();
    if ((open || pipelined) && isBitRange(name, args)) return false;
    if (pipelined && name === 'dbsize') return false;
    if (open && NOT_QUEUED.has(name)) return false;
    // A wrong arity fails MULTI, DISCARD and RESET, but still ends the transaction for EXEC.
    if (name === 'multi' && args.length === 1) open = true;
    if (name === 'exec' || ((name === 'discard' || name === 'reset') && args.length === 1))
      open = false;
    return true;
  });
}

/**
 * Runs `commands` on both servers after emptying them, one at a time or all in one pipeline,
 * and returns the first difference (command, kvd's reply, redis-server's), or undefined if
 * every reply matched.
 */
async function firstDifference(
  pair: Pair,
  commands: readonly string[][],
  pipelined: boolean,
): Promise<string | undefined> {
  await reset(pair);
  const sent = toSend(commands, pipelined);
  const replies = pipelined
    ? await Promise.all(
        [pair.kvd, pair.redis].map(async (client) => {
          client.send(Buffer.concat(sent.map((args) => encodeCommand(args))));
          const all: Reply[] = [];
          for (let i = 0; i < sent.length; i++) all.push(await client.reply());
          return all;
        }),
      )
    : undefined;
  /** The commands queued since MULTI, while a transaction is open. */
  let queued: string[][] | undefined;
  for (const [i, args] of sent.entries()) {
    const [mine, theirs] = replies
      ? [replies[0]![i]!, replies[1]![i]!]
      : await Promise.all([pair.kvd.call(...args), pair.redis.call(...args)]);
    const a = comparable(args, mine, queued);
    const b = comparable(args, theirs, queued);
    if (a !== b && !(queued === undefined && (await chosenDifference(pair, args, mine, theirs)))) {
      const text = `${JSON.stringify(args)} kvd: ${JSON.stringify(a)} redis: ${JSON.stringify(b)}`;
      return `${pipelined ? 'pipelined ' : ''}${text}`;
    }
    const name = args[0]!.toLowerCase();
    if (queued === undefined) {
      if (name === 'multi' && theirs.type !== 'error') queued = [];
    } else if (name === 'exec' || ((name === 'discard' || name === 'reset') && args.length === 1)) {
      queued = undefined;
    } else if (theirs.type === 'simple' && theirs.value === 'QUEUED') {
      queued.push(args);
    }
  }
  return undefined;
}

describe.runIf(hasRedisServer())('the daemon against redis-server, command by command', () => {
  let kvd: TestServer;
  let redis: TestRedis;
  const clients: RespClient[] = [];

  beforeAll(async () => {
    kvd = await startTestServer();
    redis = await startRedis(await makeTempDir('redis-differential'));
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await kvd?.close();
    await redis?.stop();
    await removeTempDirs();
  });

  async function connectPair(protocol: 2 | 3): Promise<Pair> {
    const pair = {
      kvd: await RespClient.connect(kvd.port),
      redis: await RespClient.connect(redis.socket),
      protocol,
    };
    clients.push(pair.kvd, pair.redis);
    return pair;
  }

  const sequences = fc.array(command, { minLength: 1, maxLength: 25 });
  for (const [protocol, pipelined, runs] of [
    [2, false, 2000],
    [3, false, 500],
    [2, true, 1000],
  ] as const) {
    const how = pipelined ? 'pipelined' : 'one at a time';
    it(`gives redis-server's reply to every command of random sequences (RESP${protocol}, ${how})`, async () => {
      const pair = await connectPair(protocol);
      await fc.assert(
        fc.asyncProperty(sequences, async (commands) => {
          expect(await firstDifference(pair, commands, pipelined)).toBeUndefined();
        }),
        { numRuns: Number(process.env.DIFF_RUNS ?? runs) },
      );
    }, 120_000);
  }
});

describe.runIf(hasRedisServer())('a network thread against redis-server', () => {
  let kvd: TestServer;
  let redis: TestRedis;
  let writer: Pair;
  /** The thread's client for each protocol, once found. */
  const readers = new Map<2 | 3, RespClient>();
  const clients: RespClient[] = [];

  beforeAll(async () => {
    kvd = await startTestServer({ networkThreads: 2 });
    redis = await startRedis(await makeTempDir('redis-differential'));
    writer = {
      kvd: await RespClient.connect(kvd.port),
      redis: await RespClient.connect(redis.socket),
      protocol: 2,
    };
    clients.push(writer.kvd, writer.redis);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await kvd?.close();
    await redis?.stop();
    await removeTempDirs();
  });

  /** The thread that serves `client` (0: the main thread), from the server's own listing. */
  async function threadOf(client: RespClient): Promise<number | undefined> {
    const address = `127.0.0.1:${client.socket.localPort}`;
    return (await kvd.allClients()).find((c) => c.address === address)?.thread;
  }

  /**
   * A kvd client that a network thread serves (new clients alternate with the main thread),
   * speaking `protocol` (HELLO, which the main thread runs for it, as the thread keeps it).
   */
  async function threadReader(protocol: 2 | 3): Promise<RespClient> {
    const reader = readers.get(protocol);
    if (reader && (await threadOf(reader)) === 1) return reader;
    for (;;) {
      const client = await RespClient.connect(kvd.port);
      clients.push(client);
      if ((await threadOf(client)) === 1) {
        if (protocol === 3) expect((await client.call('HELLO', '3')).type).toBe('map');
        readers.set(protocol, client);
        return client;
      }
    }
  }

  // Transactions are per connection, and this test uses two kvd connections.
  // Each write goes to the main thread's client or to the thread's (whose writes the main
  // thread runs for it), as the boolean says.
  const noTransactions = fc
    .array(fc.tuple(command, fc.boolean()), { minLength: 1, maxLength: 25 })
    .map((commands) =>
      commands.filter(([args]) => !TRANSACTION_COMMANDS.has(args[0]!.toLowerCase())),
    );

  for (const protocol of [2, 3] as const)
    it(`answers reads and writes as redis-server does (RESP${protocol})`, async () => {
      // The writer's two connections switch to the protocol too (reset sends HELLO).
      const pair: Pair = { ...writer, protocol };
      let onThread = 0;
      let writesOnThread = 0;
      await fc.assert(
        fc.asyncProperty(noTransactions, async (commands) => {
          await reset(pair);
          for (const [args, writeOnThread] of commands) {
            const name = args[0]!.toLowerCase();
            const read =
              (THREAD_COMMANDS as readonly string[]).includes(name) || REMOTE_READS.has(name);
            // A client the thread handed back (it sent mostly writes, or a request that needs
            // its connection on the main thread): take another.
            const thread = read || writeOnThread;
            const kvdClient = thread ? await threadReader(protocol) : pair.kvd;
            if (read) onThread++;
            else if (thread) writesOnThread++;
            const [mine, theirs] = await Promise.all([
              kvdClient.call(...args),
              pair.redis.call(...args),
            ]);
            const a = comparable(args, mine);
            const b = comparable(args, theirs);
            if (a !== b && !(await chosenDifference(pair, args, mine, theirs)))
              expect(`${JSON.stringify(args)} kvd: ${a}`).toBe(`${JSON.stringify(args)} kvd: ${b}`);
          }
        }),
        { numRuns: Number(process.env.DIFF_RUNS ?? 300) },
      );
      expect(onThread).toBeGreaterThan(100); // reads sent to a client of the thread
      expect(writesOnThread).toBeGreaterThan(100); // and writes
    }, 120_000);
});
