// Tests the daemon's network threads over real sockets: clients are shared out in turn with the
// main thread; a network thread answers plain GETs (counted in INFO), has the main thread run
// its writes, and hands a client back at its first request that needs its connection there
// (WATCH, MULTI) with every reply in order; any request stream, cut anywhere, gets
// the same replies as from a one-thread daemon; CLIENT LIST/KILL, `allClients`, maxclients, shutdown, the
// Unix socket, ioredis, and thread counts outside 1–16 are refused; `kvd serve` starts one per
// CPU core (at most 4) unless told otherwise. STREAM_RUNS=n runs the stream property n times.

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import type { ConnectionInfo } from '../../dist/main/server/connection-options.js';
import { flipByte } from '../fixtures/file-bytes.js';
import { expectRejectsWith } from '../fixtures/kv-errors.js';
import { spawnServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { encodeCommand, infoField, RespClient } from '../fixtures/resp-client.js';
import { readSegment, segmentFiles } from '../fixtures/segment-file.js';
import { makeTempDir } from '../fixtures/temp-dir.js';
import { useTestServers } from '../fixtures/test-servers.js';

const tests = useTestServers();
const serve = tests.serve;

/** A client accepted by the server (one GET answered), so the next one takes the next turn. */
async function connected(target: number | string): Promise<RespClient> {
  const client = await tests.connect(target);
  expect((await client.call('GET', '_acc')).raw).toBe('$-1\r\n');
  return client;
}

describe('network threads', () => {
  it('share clients out in turn and answer plain GETs, counted in INFO', async () => {
    const server = await serve({ networkThreads: 2 });
    const first = await connected(server.port); // turn 0: the main thread
    const second = await connected(server.port); // turn 1: the network thread
    const third = await connected(server.port); // the main thread
    const fourth = await connected(server.port); // the network thread
    expect((await first.call('SET', 'k', 'value')).raw).toBe('+OK\r\n');
    for (const client of [second, third, fourth])
      expect((await client.call('GET', 'k')).raw).toBe('$5\r\nvalue\r\n');
    expect(await infoField(first, 'kvd_network_threads')).toBe(2);
    expect(await infoField(first, 'kvd_network_thread_clients')).toBe(2);
    // Each client's first GET (`__accepted`) and then `k` on the two network-thread clients.
    expect(await infoField(first, 'kvd_network_thread_gets')).toBe(4);
    expect(await infoField(first, 'keyspace_hits')).toBe(3);
    expect(await infoField(first, 'keyspace_misses')).toBe(4);
    expect(await infoField(first, 'connected_clients')).toBe(4);
    const list = await first.call('CLIENT', 'LIST');
    expect(list.raw.match(/ id=|^\$\d+\r\nid=|\nid=/g)?.length).toBe(4);
    // Which thread serves each, as Redis 8 says it (io-thread): turns 0, 1, 0, 1.
    expect([...list.raw.matchAll(/ io-thread=(\d+)/g)].map((m) => m[1])).toEqual([
      '0',
      '0',
      '1',
      '1',
    ]);
    const stats = await first.call('INFO', 'commandstats');
    expect(stats.type === 'bulk' && /cmdstat_get:calls=7,/.test(stats.value.toString())).toBe(true);
    expect((await first.call('CONFIG', 'RESETSTAT')).raw).toBe('+OK\r\n');
    expect(await infoField(first, 'kvd_network_thread_gets')).toBe(0);
    expect((await second.call('GET', 'k')).raw).toBe('$5\r\nvalue\r\n');
    expect(await infoField(first, 'kvd_network_thread_gets')).toBe(1);
  });

  it('hand a client back at its first other request, every reply in order', async () => {
    const server = await serve({ networkThreads: 2 });
    const main = await connected(server.port);
    const moving = await connected(server.port);
    expect((await moving.call('CLIENT', 'SETNAME', 'mover')).raw).toBe('+OK\r\n');
    const before = await main.call('CLIENT', 'LIST');
    expect(before.raw).toContain('name=mover');
    expect((await main.call('SET', 'a', '1')).raw).toBe('+OK\r\n');
    moving.send(
      Buffer.concat([
        encodeCommand(['GET', 'a']),
        encodeCommand(['SET', 'b', '2']), // run by the main thread for it
        encodeCommand(['get', 'b']),
        encodeCommand(['WATCH', 'b']), // needs its own connection there: the client moves
        encodeCommand(['GET', 'a']),
        encodeCommand(['CLIENT', 'ID']),
      ]),
    );
    const replies = [];
    for (let i = 0; i < 6; i++) replies.push((await moving.reply()).raw);
    expect(replies.slice(0, 5)).toEqual([
      '$1\r\n1\r\n',
      '+OK\r\n',
      '$1\r\n2\r\n',
      '+OK\r\n',
      '$1\r\n1\r\n',
    ]);
    // The client keeps its id; it is listed once, now served by the main thread.
    const id = /id=(\d+)/g;
    const ids = before.type === 'bulk' ? [...before.value.toString().matchAll(id)] : [];
    expect(replies[5]).toBe(`:${ids[1]![1]}\r\n`);
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(0);
    expect((await moving.call('GET', 'b')).raw).toBe('$1\r\n2\r\n');
    expect((await moving.call('CLIENT', 'GETNAME')).raw).toBe('$5\r\nmover\r\n');
    const after = await main.call('CLIENT', 'LIST');
    expect(before.raw).toMatch(/name=mover .* io-thread=1\n/);
    expect(after.raw).toMatch(/name=mover .* io-thread=0\n/);
    expect((await moving.call('MULTI')).raw).toBe('+OK\r\n');
  });

  it('answer any request stream, cut anywhere, as a one-thread daemon does', async () => {
    const threaded = await serve({ networkThreads: 2, store: { maxKeyBytes: 8 } });
    const single = await serve({ networkThreads: 1, store: { maxKeyBytes: 8 } });
    const key = fc.constantFrom('a', 'b', '', 'k:12345', 'longer-than-8');
    const request = fc.oneof(
      { weight: 6, arbitrary: key.map((k) => encodeCommand(['GET', k])) },
      key.map((k) => encodeCommand(['gEt', k])),
      fc.tuple(key, fc.string({ maxLength: 20 })).map(([k, v]) => encodeCommand(['SET', k, v])),
      key.map((k) => encodeCommand(['DEL', k])),
      // Writes the main thread runs for the thread's client, one or several in a row; and
      // what sends the client back to the main thread (MULTI, EXEC, WATCH).
      fc
        .tuple(fc.constantFrom('INCR', 'append', 'GETDEL', 'PERSIST', 'SETNX'), key)
        .map(([c, k]) => encodeCommand(c === 'append' || c === 'SETNX' ? [c, k, '1'] : [c, k])),
      fc.tuple(key, key).map(([a, b]) => encodeCommand(['MSET', a, 'x', b, 'y'])),
      fc.constantFrom(
        Buffer.concat([['MULTI'], ['INCR', 'a'], ['GET', 'a'], ['EXEC']].map(encodeCommand)),
        encodeCommand(['EXEC']),
        encodeCommand(['WATCH', 'a']),
        encodeCommand(['FLUSHALL']),
      ),
      key.map((k) => encodeCommand(['GET', k, k])),
      // MGET, answered on the thread (unless a key is too long: the main thread refuses it).
      {
        weight: 3,
        arbitrary: fc
          .array(key, { minLength: 1, maxLength: 4 })
          .map((ks) => encodeCommand(['MGET', ...ks])),
      },
      key.map((k) => encodeCommand(['mget', k])),
      fc.constant(encodeCommand(['MGET'])),
      // EXISTS, STRLEN, TYPE, TTL and PTTL, answered on the thread too; wrong arities by the main
      // thread. (The bulk limit is 17 MiB: GETBIT refuses offsets from 142,606,336 on.)
      fc.array(key, { minLength: 0, maxLength: 3 }).map((ks) => encodeCommand(['EXISTS', ...ks])),
      fc
        .array(key, { minLength: 0, maxLength: 2 })
        .chain((ks) =>
          fc.constantFrom('STRLEN', 'type', 'TTL', 'pttl').map((c) => encodeCommand([c, ...ks])),
        ),
      // (No key here has an expiry, so TTL, PTTL, EXPIRETIME and PEXPIRETIME answer -1 or -2 on
      // both daemons alike; a key that expires is checked in test/workers/network-service.test.ts.)
      fc
        .array(key, { minLength: 0, maxLength: 2 })
        .chain((ks) =>
          fc
            .constantFrom('EXPIRETIME', 'pexpiretime', 'TOUCH')
            .map((c) => encodeCommand([c, ...ks])),
        ),
      // GETRANGE/SUBSTR and GETBIT over the values SET wrote, with offsets in and out of range
      // and arguments the main thread refuses (not integers, a negative or too large bit offset,
      // a wrong arity).
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.constantFrom('GETRANGE', 'substr'),
            key,
            fc.constantFrom('0', '3', '-1', '-5', '100', '-100', 'x', '9223372036854775807'),
            fc.constantFrom('0', '2', '-1', '-3', '50', '-50', '1.5'),
          )
          .map((args) => encodeCommand(args)),
      },
      fc
        .tuple(
          key,
          fc.constantFrom(
            '0',
            '1',
            '7',
            '8',
            '15',
            '159',
            '-1',
            'x',
            String(2 ** 40),
            '142606335',
            '142606336',
          ),
        )
        .map(([k, offset]) => encodeCommand(['GETBIT', k, offset])),
      // BITCOUNT and BITPOS, with every shape of range, and arguments refused as above.
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.constantFrom('BITCOUNT', 'bitpos'),
            key,
            fc.constantFrom([], ['0'], ['1'], ['2'], ['x']),
            fc.constantFrom([], ['0'], ['1', '-1'], ['-2', '-1'], ['5', '1'], ['0', 'y']),
            fc.constantFrom([], ['BYTE'], ['bit'], ['bits']),
          )
          .map(([name, k, a, b, unit]) => encodeCommand([name, k, ...a, ...b, ...unit])),
      },
      // LCS, BITFIELD_RO and DBSIZE, answered on the thread; a bad LCS option, a BITFIELD_RO SET
      // or bad type, and wrong arities by the main thread.
      fc
        .tuple(
          key,
          key,
          fc.constantFrom([], ['LEN'], ['idx'], ['IDX', 'MINMATCHLEN', '2', 'WITHMATCHLEN'], ['x']),
        )
        .map(([a, b, options]) => encodeCommand(['LCS', a, b, ...options])),
      fc
        .tuple(
          key,
          fc.constantFrom(
            [],
            ['GET', 'u8', '0'],
            ['get', 'i5', '#1', 'GET', 'i64', '3'],
            ['OVERFLOW', 'SAT', 'GET', 'u63', '1'],
            ['SET', 'u8', '0', '1'],
            ['GET', 'x8', '0'],
            ['GET', 'u8', '142606336'],
          ),
        )
        .map(([k, ops]) => encodeCommand(['BITFIELD_RO', k, ...ops])),
      fc.constantFrom(encodeCommand(['DBSIZE']), encodeCommand(['dbsize', 'x'])),
      key.map((k) => encodeCommand(['GETRANGE', k, '0'])),
      key.map((k) => encodeCommand(['getbit', k])),
      key.map((k) => Buffer.from(`GET ${k || 'x'}\r\n`)),
      fc.constant(encodeCommand(['PING'])),
      // Connection-setup requests the main thread runs while the network thread keeps the client.
      fc.constantFrom('app', 'two words').map((n) => encodeCommand(['CLIENT', 'SETNAME', n])),
      fc.constant(encodeCommand(['client', 'getname'])),
      fc.constant(encodeCommand(['CLIENT', 'SETINFO', 'LIB-NAME', 'lib'])),
      key.map((k) => encodeCommand(['ECHO', k])),
      // Whole-keyspace reads the main thread runs too (a fresh SCAN each: cursor ids are
      // handed out alike by both daemons, which see the same requests); wrong arities.
      fc.constantFrom('*', 'a', '?', 'k:*', '[ab]').map((p) => encodeCommand(['KEYS', p])),
      fc
        .constantFrom([], ['COUNT', '1'], ['MATCH', '?'], ['count', '0'], ['TYPE', 'list'])
        .map((options) => encodeCommand(['SCAN', '0', ...options])),
      fc.constantFrom(encodeCommand(['KEYS']), encodeCommand(['RANDOMKEY', 'x'])),
      // Reads of the server's state, run by the main thread too; CONFIG SET, which is not.
      fc.constantFrom(
        encodeCommand(['SELECT', '0']),
        encodeCommand(['select', '1']),
        encodeCommand(['CONFIG', 'GET', 'maxmemory']),
        encodeCommand(['COMMAND', 'COUNT']),
        encodeCommand(['OBJECT', 'ENCODING', 'a']),
        encodeCommand(['CLIENT', 'NO-EVICT', 'on']),
        encodeCommand(['CONFIG', 'SET', 'maxmemory', '0']),
      ),
      // Requests the main thread refuses at lookup, which leave the client on its thread.
      fc.constantFrom(
        encodeCommand(['NOSUCH', 'a']),
        encodeCommand(['CLIENT', 'MAINT_NOTIFICATIONS', 'ON']),
        encodeCommand(['SET', 'a']),
        encodeCommand(['EXEC', 'x']),
        encodeCommand(['config', 'nosuch']),
      ),
      // HELLO, run by the main thread: the thread answers in RESP3 after HELLO 3.
      fc
        .constantFrom(['3'], ['2'], ['3', 'SETNAME', 'n'], ['4'], [])
        .map((args) => encodeCommand(['HELLO', ...args])),
    );
    const marker = encodeCommand(['ECHO', 'end-of-stream']);
    /** Sends `bytes` cut at `cuts` on a fresh accepted client; returns every reply before the marker. */
    async function replies(client: RespClient, bytes: Buffer, cuts: number[]): Promise<string[]> {
      let at = 0;
      for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((x, y) => x - y)) {
        client.send(bytes.subarray(at, cut));
        at = cut;
      }
      client.send(Buffer.concat([bytes.subarray(at), marker]));
      const out: string[] = [];
      for (;;) {
        const reply = await client.reply();
        if (reply.raw === '$13\r\nend-of-stream\r\n') return out;
        // HELLO's reply names the client's id, which the two daemons number apart.
        out.push(reply.raw.replace(/(\$2\r\nid\r\n):\d+\r\n/, '$1:<id>\r\n'));
      }
    }
    const admin = await RespClient.connect(threaded.port); // turn 0: the main thread
    await fc.assert(
      fc.asyncProperty(
        fc.array(request, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (requests, cuts) => {
          const bytes = Buffer.concat(requests);
          // Two clients in a row: one of them is on the network thread (turns alternate).
          const a = await replies(await connected(threaded.port), bytes, cuts);
          const b = await replies(await connected(threaded.port), bytes, cuts);
          const refA = await replies(await connected(single.port), bytes, cuts);
          const refB = await replies(await connected(single.port), bytes, cuts);
          expect(a).toEqual(refA);
          expect(b).toEqual(refB);
          tests.closeClients();
          // Turns alternate per accept: a run of two keeps the next run's pair in step.
        },
      ),
      { numRuns: Number(process.env.STREAM_RUNS ?? 40) },
    );
    expect(await infoField(admin, 'kvd_network_thread_gets')).toBeGreaterThan(40);
    admin.close();
  });

  it('answer LCS, BITFIELD_RO and DBSIZE on the thread, keeping the client there', async () => {
    const server = await serve({ networkThreads: 2 });
    const main = await connected(server.port); // turn 0: the main thread
    const reader = await connected(server.port); // turn 1: the network thread
    expect((await main.call('MSET', 'a', 'ohmytext', 'b', 'mynewtext')).raw).toBe('+OK\r\n');
    const before = await infoField(main, 'kvd_network_thread_gets');
    expect((await reader.call('LCS', 'a', 'b')).raw).toBe('$6\r\nmytext\r\n');
    expect((await reader.call('LCS', 'a', 'b', 'LEN')).raw).toBe(':6\r\n');
    expect((await reader.call('LCS', 'a', 'b', 'IDX', 'MINMATCHLEN', '4')).raw).toBe(
      '*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n',
    );
    expect((await reader.call('BITFIELD_RO', 'a', 'GET', 'u8', '0', 'GET', 'i4', '#1')).raw).toBe(
      '*2\r\n:111\r\n:-1\r\n',
    );
    expect((await reader.call('DBSIZE')).raw).toBe(':2\r\n');
    // All five answered there (its counters), and the client is still the thread's.
    expect(await infoField(main, 'kvd_network_thread_gets')).toBe(before + 5);
    expect((await main.call('CLIENT', 'LIST')).raw).toMatch(/io-thread=1\n/);
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(1);
  });

  it('answer MGET and EXISTS on the thread, never with half of an MSET or a RENAME', async () => {
    const server = await serve({ networkThreads: 2 });
    const writer = await connected(server.port); // the main thread
    const reader = await connected(server.port); // the network thread
    expect((await writer.call('MSET', 'a', '0', 'b', '0')).raw).toBe('+OK\r\n');
    // The writer's MSETs go on while the reader reads both keys, pipelined in rounds of 8.
    let writing = true;
    let written = 0;
    const writes = (async () => {
      for (let i = 1; writing; i++) {
        expect((await writer.call('MSET', 'a', String(i), 'b', String(i))).raw).toBe('+OK\r\n');
        written = i;
      }
    })();
    const seen = new Set<string>();
    // Rounds of 8 until the reads have overlapped 1,000 writes (at most 3,000 rounds).
    let rounds = 0;
    for (; rounds < 3000 && written < 1000; rounds++) {
      reader.send(
        Buffer.concat(Array.from({ length: 8 }, () => encodeCommand(['MGET', 'a', 'b']))),
      );
      for (let i = 0; i < 8; i++) {
        const reply = await reader.reply();
        const [, a, b] = /^\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n$/.exec(reply.raw) ?? [];
        expect(a, reply.raw).toBe(b);
        seen.add(a!);
      }
    }
    writing = false;
    await writes;
    expect(seen.size).toBeGreaterThan(1); // the reads did overlap the writes
    expect(await infoField(writer, 'kvd_network_thread_clients')).toBe(1);
    const stats = await writer.call('INFO', 'commandstats');
    const mgets = rounds * 8;
    expect(
      stats.type === 'bulk' && stats.value.toString().includes(`cmdstat_mget:calls=${mgets},`),
    ).toBe(true);
    expect(await infoField(writer, 'kvd_network_thread_gets')).toBe(mgets + 1); // and one GET

    // EXISTS of two keys while RENAME moves one value between them: always exactly one.
    expect((await writer.call('SET', 'x', 'v')).raw).toBe('+OK\r\n');
    writing = true;
    written = 0;
    const renames = (async () => {
      for (let i = 0; writing; i++) {
        expect((await writer.call('RENAME', i % 2 ? 'y' : 'x', i % 2 ? 'x' : 'y')).raw).toBe(
          '+OK\r\n',
        );
        written = i + 1;
      }
    })();
    for (let round = 0; round < 3000 && written < 1000; round++) {
      reader.send(
        Buffer.concat(Array.from({ length: 8 }, () => encodeCommand(['EXISTS', 'x', 'y']))),
      );
      for (let i = 0; i < 8; i++) expect((await reader.reply()).raw).toBe(':1\r\n');
    }
    writing = false;
    await renames;
    expect(await infoField(writer, 'kvd_network_thread_clients')).toBe(1);
  });

  it('read what the writer published: big values, expiry, a client on the Unix socket', async () => {
    const dir = await makeTempDir('network-unix');
    const server = await serve({ networkThreads: 2, unixPath: `${dir}/kvd.sock` });
    const main = await connected(server.port);
    const onThread = await connected(`${dir}/kvd.sock`);
    const big = Buffer.alloc(1 << 20, 7);
    expect((await main.call('SET', 'big', big)).raw).toBe('+OK\r\n');
    const reply = await onThread.call('GET', 'big');
    expect(reply.type === 'bulk' && reply.value.equals(big)).toBe(true);
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(1);
    expect((await main.call('SET', 'brief', 'x', 'PX', '40')).raw).toBe('+OK\r\n');
    expect((await onThread.call('GET', 'brief')).raw).toBe('$1\r\nx\r\n');
    await pollUntil(
      'the expired key reads as absent on the network thread',
      async () => (await onThread.call('GET', 'brief')).raw === '$-1\r\n',
      5_000,
    );
    const list = await main.call('CLIENT', 'LIST');
    expect(list.type === 'bulk' && list.value.toString()).toContain(`addr=unix:${dir}/kvd.sock`);
  });

  it('give the GET of a damaged record to the main thread, which answers its error', async () => {
    const dir = await makeTempDir('network-damage');
    const store = await Store.open(dir);
    for (const k of ['a', 'b', 'c']) await store.set(k, `value ${k}`);
    await store.close();
    const name = segmentFiles(dir)[0]!;
    const victim = readSegment(dir, name).records.find((r) => r.key.toString() === 'b')!;
    flipByte(join(dir, name), victim.offset + victim.length - 1);

    const server = await serve({ dir, networkThreads: 2 });
    const main = await connected(server.port);
    const onThread = await connected(server.port);
    const pipeline = Buffer.concat(['a', 'b', 'c'].map((k) => encodeCommand(['GET', k])));
    const answers = async (client: RespClient): Promise<string[]> => {
      client.send(pipeline);
      return [(await client.reply()).raw, (await client.reply()).raw, (await client.reply()).raw];
    };
    const fromThread = await answers(onThread);
    expect(fromThread[0]).toBe('$7\r\nvalue a\r\n');
    expect(fromThread[1]).toMatch(/^-KV_CORRUPTION /);
    expect(fromThread[2]).toBe('$7\r\nvalue c\r\n');
    expect(fromThread).toEqual(await answers(main));
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(0);
  });

  it('serve ioredis clients under load while another client writes', async () => {
    const server = await serve({ networkThreads: 2 });
    const writer = new Redis({ port: server.port, host: '127.0.0.1' });
    // As applications open them: each sends CLIENT SETINFO twice and INFO (its ready check).
    const readers = Array.from(
      { length: 6 },
      () => new Redis({ port: server.port, host: '127.0.0.1' }),
    );
    try {
      for (let i = 0; i < 200; i++) await writer.set(`key:${i}`, `v${i}`);
      const writes = (async () => {
        for (let i = 200; i < 400; i++) await writer.set(`key:${i}`, `v${i}`);
      })();
      const reads = readers.map(async (r) => {
        const got = await Promise.all(Array.from({ length: 200 }, (_, i) => r.get(`key:${i}`)));
        expect(got).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`));
      });
      await Promise.all([writes, ...reads]);
      const admin = await connected(server.port);
      expect(await infoField(admin, 'kvd_network_thread_gets')).toBeGreaterThanOrEqual(600);
      expect(await infoField(admin, 'kvd_network_thread_clients')).toBeGreaterThanOrEqual(3);
      const list = await admin.call('CLIENT', 'LIST');
      expect(list.raw.match(/lib-name=ioredis/g)?.length).toBe(7);
      expect(await readers[0]!.get('key:399')).toBe('v399');
    } finally {
      writer.disconnect();
      for (const r of readers) r.disconnect();
    }
  });

  it('count their clients in maxclients, and CLIENT KILL closes one', async () => {
    const server = await serve({ networkThreads: 2, maxClients: 2 });
    const main = await connected(server.port);
    const onThread = await connected(server.port);
    const refused = await RespClient.connect(server.port);
    expect(await refused.rest()).toBe('-ERR max number of clients reached\r\n');
    const list = await main.call('CLIENT', 'LIST');
    const ids = list.type === 'bulk' ? [...list.value.toString().matchAll(/id=(\d+)/g)] : [];
    expect((await main.call('CLIENT', 'KILL', 'ID', ids[1]![1]!)).raw).toBe(':1\r\n');
    await onThread.closed;
    await pollUntil(
      'the killed client is no longer counted',
      async () => (await main.call('CLIENT', 'LIST')).raw.match(/id=/g)?.length === 1,
      5_000,
    );
  });

  it("report their clients' state in allClients, with the thread that serves each", async () => {
    const server = await serve({ networkThreads: 3 });
    const clients: RespClient[] = [];
    for (let i = 0; i < 6; i++) {
      const client = await connected(server.port); // turns 0, 1, 2, 0, 1, 2
      expect((await client.call('CLIENT', 'SETNAME', `c${i}`)).raw).toBe('+OK\r\n');
      clients.push(client);
    }
    const byName = async (): Promise<Map<string | undefined, ConnectionInfo>> =>
      new Map((await server.allClients()).map((info) => [info.name, info]));
    const all = await byName();
    expect(all.size).toBe(6);
    clients.forEach((client, i) => {
      const info = all.get(`c${i}`)!;
      expect(info.thread).toBe(i % 3);
      expect(info.address).toBe(`127.0.0.1:${client.socket.localPort}`);
      expect(info).toMatchObject({ pendingReplies: 0, inFlight: 0, outputBytes: 0, inputBytes: 0 });
    });
    expect(new Set([...all.values()].map((info) => info.id)).size).toBe(6);
    // clients() stays the main thread's own.
    expect(
      server
        .clients()
        .map((info) => info.name)
        .sort(),
    ).toEqual(['c0', 'c3']);
    // A network thread's client with half a request read: its bytes are reported.
    const half = '*2\r\n$3\r\nGET\r\n$2\r\nk';
    clients[1]!.send(half);
    await pollUntil(
      "the thread reports the client's unparsed bytes",
      async () => (await byName()).get('c1')?.inputBytes === half.length,
      5_000,
    );
    clients[1]!.send('k\r\n');
    expect((await clients[1]!.reply()).raw).toBe('$-1\r\n');
    // A client the thread handed back is listed once, by the main thread.
    expect((await clients[2]!.call('WATCH', 'k')).raw).toBe('+OK\r\n');
    const after = await server.allClients();
    expect(after.filter((info) => info.name === 'c2').map((info) => info.thread)).toEqual([0]);
    expect(after.length).toBe(6);
    expect(server.clients().length).toBe(3);
  });

  it('close their idle clients after --idle-timeout', async () => {
    const server = await serve({ networkThreads: 2, idleTimeoutSeconds: 1 });
    const main = await connected(server.port);
    const onThread = await connected(server.port);
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(1);
    await onThread.closed; // the thread's idle timer, not the client, closed it
    await pollUntil(
      'the closed client is no longer counted',
      () => server.clients().length <= 1,
      5_000,
    );
  });

  it('end their clients and stop when the server closes', async () => {
    const server = await serve({ networkThreads: 3 });
    const clients = [];
    for (let i = 0; i < 6; i++) clients.push(await connected(server.port));
    expect(await infoField(clients[0]!, 'kvd_network_thread_clients')).toBe(4);
    await tests.servers.splice(0)[0]!.close();
    for (const client of clients) expect(await client.rest()).toBe('');
  });

  it('are refused outside 1 to 16', async () => {
    const dir = await makeTempDir('network-refused');
    await expectRejectsWith(serve({ dir, networkThreads: 0 }), 'KV_INVALID_ARGUMENT');
    await expectRejectsWith(serve({ dir, networkThreads: 17 }), 'KV_INVALID_ARGUMENT');
    await expectRejectsWith(serve({ dir, networkThreads: 1.5 }), 'KV_INVALID_ARGUMENT');
    // The directory was never opened: a plain server opens it.
    expect((await serve({ dir })).port).toBeGreaterThan(0);
  });

  it('are set by kvd serve --network-threads', async () => {
    const dir = await makeTempDir('network-cli');
    const daemon = await spawnServer(['--dir', dir, '--network-threads', '2']);
    try {
      const main = await connected(daemon.port);
      const onThread = await connected(daemon.port);
      expect((await onThread.call('GET', 'x')).raw).toBe('$-1\r\n');
      expect(await infoField(main, 'kvd_network_thread_clients')).toBe(1);
    } finally {
      daemon.child.kill('SIGTERM');
    }
    // It waits for its thread to end its clients, then exits 0 (it once exited 13: the thread,
    // unref'd, let the process end before the close it awaited had settled).
    expect(await daemon.child.exited).toEqual({ code: 0, signal: null });
    const bad = await spawnServer(['--dir', dir, '--network-threads', '0']).catch(
      (error: unknown) => error,
    );
    expect(String(bad)).toMatch(/network-threads must be auto or an integer from 1 to 16/);
  });

  it('are one per CPU core, at most 4, in kvd serve by default and with auto', async () => {
    const dir = await makeTempDir('network-auto');
    const perCore = Math.min(availableParallelism(), 4);
    const threadsOf = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> => {
      const daemon = await spawnServer(['--dir', dir, ...args], env);
      try {
        const client = await RespClient.connect(daemon.port);
        const threads = await infoField(client, 'kvd_network_threads');
        client.close();
        return threads;
      } finally {
        daemon.child.kill('SIGTERM');
        expect(await daemon.child.exited).toEqual({ code: 0, signal: null });
      }
    };
    expect(await threadsOf([])).toBe(perCore);
    expect(await threadsOf(['--network-threads', 'AUTO'])).toBe(perCore);
    expect(await threadsOf([], { KVD_NETWORK_THREADS: '1' })).toBe(1);
    expect(await threadsOf([], { KVD_NETWORK_THREADS: 'auto' })).toBe(perCore);
  });
});
