// Tests the daemon's string, bit and keyspace commands, and MULTI/EXEC/WATCH around them, against
// a real redis-server: fast-check makes random command sequences over a few keys and awkward
// arguments (numbers at and past 64 bits, bad integers and floats, offsets past the end, wrong
// arities, expiries in the past and far ahead), both servers run each sequence on a fresh
// keyspace, one command at a time (RESP2 and RESP3) or all in one pipeline, and every reply must
// match byte for byte. A fourth property sends the reads to a client of a network thread and the
// writes to one of the main thread. What differs by design is set aside (`comparable`,
// `chosenDifference`, README "Commands"). DIFF_RUNS=n runs each property n times.

import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { THREAD_COMMANDS } from '../../dist/shared/network-messages.js';
import { startTestServer } from '../fixtures/kvd-server.js';
import { hasRedisServer, startRedis, type TestRedis } from '../fixtures/redis-server.js';
import { encodeCommand, type Reply, RespClient } from '../fixtures/resp-client.js';
import type { TestServer } from '../fixtures/shared-server.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const KEYS = ['a', 'b', 'c', '{a}1', ''];
const VALUES = [
  '',
  '0',
  '1',
  '-1',
  '10',
  '007',
  '3.5',
  '1e3',
  ' 1',
  '+5',
  'abc',
  'hello world',
  '9223372036854775807',
  '-9223372036854775808',
  '9223372036854775808',
  'inf',
  'nan',
  '\u00ff\u0000\u0080',
  'x'.repeat(44),
  'y'.repeat(45),
  'ohmytext',
  'mynewtext',
];
const INTEGERS = [
  '0',
  '1',
  '-1',
  '2',
  '7',
  '8',
  '15',
  '100',
  '-100',
  '9223372036854775807',
  '-9223372036854775808',
  '9223372036854775808',
  '4294967295',
  '536870911',
  '1.5',
  'abc',
  '',
  ' 1',
  '+1',
];
const FLOATS = ['0', '1.5', '-0.5', '1e3', '5.0e-3', 'abc', 'inf', '-inf', '1e308', '0x10', ''];
/** Seconds ahead, for relative expiries that do not lapse during a run. */
const SECONDS = ['100', '1000', '0', '-1', 'abc', '9223372036854775807', '1.5'];
const FAR_UNIX_SECONDS = '4000000000';
const FAR_UNIX_MS = '4000000000000';
const PAST = ['1', '1000'];

const key = fc.constantFrom(...KEYS);
const value = fc.constantFrom(...VALUES);
const integer = fc.constantFrom(...INTEGERS);
const float = fc.constantFrom(...FLOATS);
const seconds = fc.constantFrom(...SECONDS);
const absolute = fc.constantFrom(FAR_UNIX_SECONDS, ...PAST);
const absoluteMs = fc.constantFrom(FAR_UNIX_MS, ...PAST);
const keys = fc.array(key, { minLength: 1, maxLength: 3 });
const pairs = fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 3 }).map((p) => p.flat());
const cmd = (...parts: fc.Arbitrary<string | string[]>[]): fc.Arbitrary<string[]> =>
  fc.tuple(...parts).map((p) => p.flat());
const word = (w: string): fc.Arbitrary<string> => fc.constant(w);
const maybe = (...options: fc.Arbitrary<string[]>[]): fc.Arbitrary<string[]> =>
  fc.oneof(fc.constant([] as string[]), ...options);

const expiryOption = fc.oneof(
  cmd(word('EX'), seconds),
  cmd(word('PX'), fc.constantFrom('100000', '0', '-5', 'x')),
  cmd(word('EXAT'), absolute),
  cmd(word('PXAT'), absoluteMs),
  cmd(word('KEEPTTL')),
);
const setOptions = fc
  .array(fc.oneof(expiryOption, cmd(word('NX')), cmd(word('XX')), cmd(word('GET'))), {
    maxLength: 2,
  })
  .map((o) => o.flat());
const expireCondition = fc.array(fc.constantFrom('NX', 'XX', 'GT', 'LT', 'BAD'), { maxLength: 2 });
const bitfieldType = fc.constantFrom('u8', 'i8', 'u1', 'i64', 'u63', 'u64', 'i5', 'x3');
const bitfieldOffset = fc.constantFrom('0', '3', '#1', '100', '-1');
const bitfieldOp = fc.oneof(
  cmd(word('GET'), bitfieldType, bitfieldOffset),
  cmd(word('SET'), bitfieldType, bitfieldOffset, integer),
  cmd(word('INCRBY'), bitfieldType, bitfieldOffset, integer),
  cmd(word('OVERFLOW'), fc.constantFrom('WRAP', 'SAT', 'FAIL', 'BAD')),
);
const bitRange = maybe(
  cmd(integer, integer),
  cmd(integer, integer, fc.constantFrom('BYTE', 'BIT', 'bad')),
);

/** One command of the families compared, arguments included (some of wrong arity). */
const oneCommand: fc.Arbitrary<string[]> = fc.oneof(
  cmd(word('SET'), key, value, setOptions),
  cmd(word('GET'), key),
  cmd(word('GETDEL'), key),
  cmd(
    word('GETEX'),
    key,
    maybe(
      expiryOption.filter((o) => o[0] !== 'KEEPTTL'),
      cmd(word('PERSIST')),
    ),
  ),
  cmd(word('GETSET'), key, value),
  cmd(word('SETNX'), key, value),
  cmd(fc.constantFrom('SETEX', 'PSETEX'), key, fc.constantFrom('100000', '0', '-1', 'x'), value),
  cmd(fc.constantFrom('MSET', 'MSETNX'), pairs),
  cmd(word('MGET'), keys),
  cmd(word('APPEND'), key, value),
  cmd(word('STRLEN'), key),
  cmd(fc.constantFrom('INCR', 'DECR'), key),
  cmd(fc.constantFrom('INCRBY', 'DECRBY'), key, integer),
  cmd(word('INCRBYFLOAT'), key, float),
  cmd(word('SETRANGE'), key, fc.constantFrom('0', '1', '5', '-1', 'x'), value),
  cmd(fc.constantFrom('GETRANGE', 'SUBSTR'), key, integer, integer),
  cmd(
    word('LCS'),
    key,
    key,
    maybe(cmd(word('LEN')), cmd(word('IDX')), cmd(word('IDX'), word('MINMATCHLEN'), integer)),
    maybe(cmd(word('WITHMATCHLEN'))),
  ),
  cmd(fc.constantFrom('DEL', 'UNLINK', 'EXISTS', 'TOUCH'), keys),
  cmd(fc.constantFrom('TYPE', 'TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME', 'PERSIST'), key),
  cmd(fc.constantFrom('EXPIRE', 'PEXPIRE'), key, seconds, expireCondition),
  cmd(word('EXPIREAT'), key, absolute, expireCondition),
  cmd(word('PEXPIREAT'), key, absoluteMs, expireCondition),
  cmd(fc.constantFrom('RENAME', 'RENAMENX'), key, key),
  cmd(word('COPY'), key, key, maybe(cmd(word('REPLACE')), cmd(word('DB'), word('0')))),
  cmd(fc.constantFrom('FLUSHALL', 'FLUSHDB'), maybe(cmd(fc.constantFrom('SYNC', 'ASYNC', 'BAD')))),
  cmd(word('SELECT'), fc.constantFrom('0', 'x')),
  cmd(word('SETBIT'), key, fc.constantFrom('0', '7', '9', '-1', '4294967296', 'x'), integer),
  cmd(word('GETBIT'), key, fc.constantFrom('0', '7', '9', '100', '-1')),
  cmd(word('BITCOUNT'), key, bitRange),
  cmd(word('BITPOS'), key, fc.constantFrom('0', '1', '2'), bitRange),
  cmd(word('BITOP'), fc.constantFrom('AND', 'OR', 'XOR', 'NOT', 'BAD'), key, keys),
  cmd(
    fc.constantFrom('BITFIELD', 'BITFIELD_RO'),
    key,
    fc.array(bitfieldOp, { maxLength: 3 }).map((o) => o.flat()),
  ),
  cmd(word('OBJECT'), fc.constantFrom('ENCODING', 'FREQ', 'BAD'), key),
  cmd(word('KEYS'), fc.constantFrom('*', 'a*', '?', '[ab]', '{*', '[^a]', '\\{*')),
  cmd(
    word('SCAN'),
    word('0'),
    maybe(cmd(word('MATCH'), fc.constantFrom('*', '?', '[a-c]'))),
    maybe(cmd(word('COUNT'), fc.constantFrom('1000', '0', 'x'))),
    maybe(cmd(word('TYPE'), fc.constantFrom('string', 'list'))),
  ),
  cmd(word('RANDOMKEY')),
  cmd(fc.constantFrom('ECHO', 'PING'), maybe(cmd(value))),
  cmd(word('OBJECT'), maybe(cmd(fc.constantFrom('ENCODING', 'REFCOUNT', 'IDLETIME')))),
  cmd(word('DBSIZE')),
  cmd(fc.constantFrom('MULTI', 'EXEC', 'DISCARD', 'UNWATCH', 'RESET')),
  cmd(word('WATCH'), keys),
  // A wrong arity for some of the above.
  cmd(fc.constantFrom('GET', 'SET', 'INCRBY', 'GETRANGE', 'RENAME', 'LCS', 'SETBIT'), key),
  cmd(fc.constantFrom('MULTI', 'EXEC', 'DISCARD', 'RESET'), key),
  cmd(fc.constantFrom('MSET', 'MSETNX'), key, value, key),
);
/** A command, or COMMAND GETKEYS of one (the key positions cluster clients route by). */
const command: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 9, arbitrary: oneCommand },
  { weight: 1, arbitrary: oneCommand.map((args) => ['COMMAND', 'GETKEYS', ...args]) },
);

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
  let reader: RespClient | undefined;
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

  /** A kvd client that a network thread serves (new clients alternate with the main thread). */
  async function threadReader(): Promise<RespClient> {
    if (reader && (await threadOf(reader)) === 1) return reader;
    for (;;) {
      const client = await RespClient.connect(kvd.port);
      clients.push(client);
      if ((await threadOf(client)) === 1) {
        reader = client;
        return client;
      }
    }
  }

  // Transactions are per connection, and this test uses two kvd connections.
  const noTransactions = fc
    .array(command, { minLength: 1, maxLength: 25 })
    .map((commands) =>
      commands.filter((args) => !TRANSACTION_COMMANDS.has(args[0]!.toLowerCase())),
    );

  it('answers reads of what the main thread wrote as redis-server does', async () => {
    let onThread = 0;
    await fc.assert(
      fc.asyncProperty(noTransactions, async (commands) => {
        await reset(writer);
        for (const args of commands) {
          const name = args[0]!.toLowerCase();
          const read = (THREAD_COMMANDS as readonly string[]).includes(name);
          // A read the thread cannot answer (a bad argument) hands its client back: take another.
          const kvdClient = read ? await threadReader() : writer.kvd;
          if (read) onThread++;
          const [mine, theirs] = await Promise.all([
            kvdClient.call(...args),
            writer.redis.call(...args),
          ]);
          const a = comparable(args, mine);
          const b = comparable(args, theirs);
          if (a !== b && !(await chosenDifference(writer, args, mine, theirs)))
            expect(`${JSON.stringify(args)} kvd: ${a}`).toBe(`${JSON.stringify(args)} kvd: ${b}`);
        }
      }),
      { numRuns: Number(process.env.DIFF_RUNS ?? 300) },
    );
    expect(onThread).toBeGreaterThan(100); // reads sent to a client of the thread
  }, 120_000);
});
