// Tests the requests a network thread has the main thread run while it keeps the client
// (remote-command.ts), over real sockets: writes (their replies in order among the GETs the
// thread answers itself, which see them; READONLY/NOREPLICAS refusals; a client that mostly
// writes going back), a client that waits for each reply going back, the whole-keyspace reads
// SCAN, KEYS and RANDOMKEY (a large KEYS reply whole, SCAN's cursors shared with the main
// thread's clients, errors answered without the client moving), the reads of the server's
// state (SELECT 0, CONFIG GET, TIME, COMMAND, OBJECT, CLIENT INFO, …), HELLO, after which the
// thread answers in RESP3 (node-redis clients in RESP3 among them), any request the main
// thread refuses at lookup, and what still sends the client back (MULTI, WATCH, CONFIG SET).

import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { LONE_READS_MAX } from '../../dist/workers/client-habits.js';
import { pollUntil } from '../fixtures/poll.js';
import { encodeCommand, infoField, type Reply, type RespClient } from '../fixtures/resp-client.js';
import { useTestServers } from '../fixtures/test-servers.js';

const tests = useTestServers();

/**
 * A server with two threads (and `options`), a client of the main thread and one of the network
 * thread.
 */
async function mainAndThreadClients(
  options: Parameters<typeof tests.serve>[0] = {},
): Promise<{ main: RespClient; reader: RespClient }> {
  const server = await tests.serve({ networkThreads: 2, ...options });
  const clients: RespClient[] = [];
  for (let i = 0; i < 2; i++) {
    const client = await tests.connect(server.port);
    // Accepted (one reply), so the next client takes the next turn: main thread, then thread.
    expect((await client.call('GET', '_acc')).raw).toBe('$-1\r\n');
    clients.push(client);
  }
  const [main, reader] = clients as [RespClient, RespClient];
  expect((await main.call('CLIENT', 'LIST')).raw).toMatch(/io-thread=1\n/);
  return { main, reader };
}

/** The bulk strings of an array reply, as strings, sorted. */
function sortedBulks(reply: Reply | undefined): string[] {
  if (reply?.type !== 'array' || !reply.value) throw new Error(`not an array: ${reply?.raw}`);
  return reply.value.map((r) => (r.type === 'bulk' ? r.value.toString() : `?${r.raw}`)).sort();
}

/** Whether the network thread still serves its one client. */
async function stillOnThread(main: RespClient): Promise<void> {
  expect(await infoField(main, 'kvd_network_thread_clients')).toBe(1);
  expect((await main.call('CLIENT', 'LIST')).raw).toMatch(/io-thread=1\n/);
}

describe('network threads and writes', () => {
  it("run a thread client's writes on the main thread, in order, and keep the client", async () => {
    const { main, reader } = await mainAndThreadClients();
    expect((await reader.call('SET', 'a', '1')).raw).toBe('+OK\r\n');
    expect((await reader.call('INCR', 'a')).raw).toBe(':2\r\n');
    expect((await reader.call('GET', 'a')).raw).toBe('$1\r\n2\r\n');
    // Pipelined: each read (answered on the thread) sees every write before it, and no later one.
    const pipeline = [
      ['SET', 'b', 'x'],
      ['GET', 'b'],
      ['APPEND', 'b', 'yz'],
      ['APPEND', 'b', '!'],
      ['STRLEN', 'b'],
      ['GET', 'b'],
      ['PEXPIRE', 'b', '100000'],
      ['DEL', 'b', 'a'],
      ['EXISTS', 'b', 'a'],
      ['MGET', 'a', 'b'],
    ];
    const replies = await reader.pipeline(pipeline);
    expect(replies.map((r) => r.raw)).toEqual([
      '+OK\r\n',
      '$1\r\nx\r\n',
      ':3\r\n',
      ':4\r\n',
      ':4\r\n',
      '$4\r\nxyz!\r\n',
      ':1\r\n',
      ':2\r\n',
      ':0\r\n',
      '*2\r\n$-1\r\n$-1\r\n',
    ]);
    // Many writes in one pipeline, among reads.
    const many: string[][] = [];
    for (let i = 0; i < 300; i++) many.push(['SET', `k:${i}`, `v${i}`], ['GET', `k:${i}`]);
    const manyReplies = await reader.pipeline(many);
    for (let i = 0; i < 300; i++) {
      expect(manyReplies[2 * i]!.raw).toBe('+OK\r\n');
      expect(manyReplies[2 * i + 1]!.raw).toBe(`$${`v${i}`.length}\r\nv${i}\r\n`);
    }
    // The main thread's clients see them; counted as the main thread's commands.
    expect((await main.call('GET', 'k:299')).raw).toBe('$4\r\nv299\r\n');
    const stats = await main.call('INFO', 'commandstats');
    const text = stats.type === 'bulk' ? stats.value.toString() : '';
    expect(text).toMatch(/cmdstat_set:calls=302,/);
    expect(text).toMatch(/cmdstat_append:calls=2,/);
    expect(await infoField(main, 'kvd_network_thread_gets')).toBeGreaterThanOrEqual(303);
    await stillOnThread(main);
  });

  it('send back a client that mostly writes, and keep one that mostly reads', async () => {
    const { main, reader } = await mainAndThreadClients();
    const reads = Array.from({ length: 100 }, (_, i) => ['GET', `r:${i}`]);
    const writes = Array.from({ length: 60 }, (_, i) => ['SET', `w:${i}`, '1']);
    // More reads than writes: it stays, however many writes.
    expect((await reader.pipeline(reads)).length).toBe(100);
    for (const write of writes) expect((await reader.call(...write)).raw).toBe('+OK\r\n');
    await stillOnThread(main);
    // Writes outnumber its reads: the next one goes to the main thread with the client.
    for (const write of writes) expect((await reader.call(...write)).raw).toBe('+OK\r\n');
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(0);
    expect((await reader.call('GET', 'w:1')).raw).toBe('$1\r\n1\r\n');
  });

  it('send back a client that waits for each reply, and keep one that pipelines', async () => {
    // As when the cores are busy (the network service's test has the default).
    const { main, reader } = await mainAndThreadClients({ loneClients: 'always' });
    const lone = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) expect((await reader.call('GET', 'k')).raw).toBe('$-1\r\n');
    };
    // Its first GET (mainAndThreadClients) was one read of one request: LONE_READS_MAX − 2 more.
    await lone(LONE_READS_MAX - 2);
    await stillOnThread(main);
    // A read of two requests starts the count again.
    expect(
      (
        await reader.pipeline([
          ['GET', 'k'],
          ['EXISTS', 'k'],
        ])
      ).map((r) => r.raw),
    ).toEqual(['$-1\r\n', ':0\r\n']);
    await lone(LONE_READS_MAX - 1);
    await stillOnThread(main);
    // The LONE_READS_MAXth read in a row of one request: the client goes to the main thread
    // after its reply, and is served there.
    await lone(1);
    await pollUntil(
      'the client is handed back',
      async () => (await infoField(main, 'kvd_network_thread_clients')) === 0,
      5_000,
    );
    expect((await reader.call('SET', 'k', 'v')).raw).toBe('+OK\r\n');
    expect((await reader.call('GET', 'k')).raw).toBe('$1\r\nv\r\n');
    expect((await reader.call('CLIENT', 'INFO')).raw).toMatch(/ io-thread=0\n\r\n$/);
  });

  it('send back a client that waits for each reply only once its write has been answered', async () => {
    const { main, reader } = await mainAndThreadClients({ loneClients: 'always' });
    // GETs and SETs one at a time: the SETs never outnumber the GETs (REMOTE_ALLOWANCE).
    for (let i = 0; i < (LONE_READS_MAX - 2) / 2; i++) {
      expect((await reader.call('SET', `k${i}`, 'v')).raw).toBe('+OK\r\n');
      expect((await reader.call('GET', `k${i}`)).raw).toBe('$1\r\nv\r\n');
    }
    // The LONE_READS_MAXth read in a row of one request is a SET, with the main thread: the
    // client stays until that is answered, and its next read takes it to the main thread.
    expect((await reader.call('SET', 'last', 'w')).raw).toBe('+OK\r\n');
    await stillOnThread(main);
    expect((await reader.call('GET', 'last')).raw).toBe('$1\r\nw\r\n');
    await pollUntil(
      'the client is handed back',
      async () => (await infoField(main, 'kvd_network_thread_clients')) === 0,
      5_000,
    );
    expect((await reader.call('GET', 'k0')).raw).toBe('$1\r\nv\r\n');
  });

  it("refuse a thread client's write as its own connection would (NOREPLICAS)", async () => {
    const server = await tests.serve({
      networkThreads: 2,
      replication: { minReplicasToWrite: 1, minReplicasMaxLag: 2, backlogBytes: 65_536 },
    });
    const main = await tests.connect(server.port);
    expect((await main.call('GET', '_acc')).raw).toBe('$-1\r\n');
    const reader = await tests.connect(server.port);
    expect((await reader.call('GET', '_acc')).raw).toBe('$-1\r\n');
    await stillOnThread(main);
    expect((await reader.call('SET', 'k', 'v')).raw).toMatch(/^-NOREPLICAS Not enough good /);
    expect((await reader.call('GET', 'k')).raw).toBe('$-1\r\n');
    await stillOnThread(main);
  });
});

describe('network threads and whole-keyspace reads', () => {
  it('run SCAN, KEYS and RANDOMKEY on the main thread for a client they keep', async () => {
    const { main, reader } = await mainAndThreadClients();
    const keys = Array.from({ length: 25 }, (_, i) => `key:${String(i).padStart(2, '0')}`);
    expect((await main.call('MSET', ...keys.flatMap((k) => [k, 'v']))).raw).toBe('+OK\r\n');

    expect(sortedBulks(await reader.call('KEYS', '*'))).toEqual(keys);
    expect(sortedBulks(await reader.call('KEYS', 'key:1?'))).toEqual(keys.slice(10, 20));
    const picked = await reader.call('RANDOMKEY');
    expect(picked.type === 'bulk' && keys.includes(picked.value.toString())).toBe(true);

    // A whole SCAN, page by page, returns every key once.
    const scanned: string[] = [];
    let cursor = '0';
    let pages = 0;
    do {
      const page = await reader.call('SCAN', cursor, 'COUNT', '7');
      if (page.type !== 'array' || !page.value) throw new Error(page.raw);
      const [next, found] = page.value;
      cursor = next!.type === 'bulk' ? next!.value.toString() : '?';
      scanned.push(...sortedBulks(found));
      pages++;
    } while (cursor !== '0' && pages < 100);
    expect(scanned.sort()).toEqual(keys);
    expect(pages).toBe(4);

    // Counted as the main thread's commands, and the client never left its thread.
    const stats = await main.call('INFO', 'commandstats');
    const text = stats.type === 'bulk' ? stats.value.toString() : '';
    expect(text).toMatch(/cmdstat_keys:calls=2,/);
    expect(text).toMatch(/cmdstat_scan:calls=4,/);
    expect(text).toMatch(/cmdstat_randomkey:calls=1,/);
    await stillOnThread(main);
  });

  it('answer them in order among pipelined GETs, a large KEYS reply whole', async () => {
    const { main, reader } = await mainAndThreadClients();
    // ~3 MB of KEYS reply: more than a socket takes at once.
    const value = 'x'.repeat(10);
    const many = Array.from({ length: 30_000 }, (_, i) => `${'k'.repeat(80)}:${i}`);
    for (let i = 0; i < many.length; i += 1000) {
      const batch = many.slice(i, i + 1000).flatMap((k) => [k, value]);
      expect((await main.call('MSET', ...batch)).raw).toBe('+OK\r\n');
    }
    expect((await main.call('SET', 'g', 'got')).raw).toBe('+OK\r\n');
    reader.socket.pause(); // replies wait in the sockets until the client reads
    reader.send(
      Buffer.concat([
        encodeCommand(['GET', 'g']),
        encodeCommand(['KEYS', `${'k'.repeat(80)}:*`]),
        encodeCommand(['GET', 'g']),
        encodeCommand(['RANDOMKEY']),
        encodeCommand(['DBSIZE']),
        encodeCommand(['KEYS', 'g']),
        encodeCommand(['GET', 'nope']),
      ]),
    );
    reader.socket.resume();
    expect((await reader.reply()).raw).toBe('$3\r\ngot\r\n');
    expect(sortedBulks(await reader.reply())).toEqual([...many].sort());
    expect((await reader.reply()).raw).toBe('$3\r\ngot\r\n');
    expect((await reader.reply()).type).toBe('bulk');
    expect((await reader.reply()).raw).toBe(`:${many.length + 1}\r\n`);
    expect((await reader.reply()).raw).toBe('*1\r\n$1\r\ng\r\n');
    expect((await reader.reply()).raw).toBe('$-1\r\n');
    await stillOnThread(main);
  });

  it('share SCAN cursors with the main thread, and answer their errors on the thread', async () => {
    const { main, reader } = await mainAndThreadClients();
    const keys = ['a', 'b', 'c', 'd'];
    expect((await main.call('MSET', ...keys.flatMap((k) => [k, '1']))).raw).toBe('+OK\r\n');
    // A scan started on the thread's client goes on from the main thread's, and back.
    const first = await reader.call('SCAN', '0', 'COUNT', '1');
    expect(first.raw).toMatch(/^\*2\r\n\$\d+\r\n[1-9]\d*\r\n\*1\r\n\$1\r\na\r\n$/);
    const cursor1 =
      first.type === 'array' && first.value?.[0]?.type === 'bulk' ? first.value[0].value : '';
    const second = await main.call('SCAN', cursor1.toString(), 'COUNT', '2');
    expect(second.raw).toMatch(/\*2\r\n\$1\r\nb\r\n\$1\r\nc\r\n$/);
    const cursor2 =
      second.type === 'array' && second.value?.[0]?.type === 'bulk' ? second.value[0].value : '';
    expect((await reader.call('SCAN', cursor2.toString())).raw).toBe(
      '*2\r\n$1\r\n0\r\n*1\r\n$1\r\nd\r\n',
    );
    // Errors come back from the main thread; the client stays.
    expect((await reader.call('SCAN', 'nope')).raw).toBe('-ERR invalid cursor\r\n');
    expect((await reader.call('SCAN', '0', 'COUNT', '0')).raw).toBe('-ERR syntax error\r\n');
    expect((await reader.call('KEYS')).raw).toBe(
      "-ERR wrong number of arguments for 'keys' command\r\n",
    );
    expect((await reader.call('RANDOMKEY', 'x')).raw).toBe(
      "-ERR wrong number of arguments for 'randomkey' command\r\n",
    );
    await stillOnThread(main);
    expect((await reader.call('FLUSHALL')).raw).toBe('+OK\r\n'); // a write, run there too
    expect((await reader.call('RANDOMKEY')).raw).toBe('$-1\r\n');
    await stillOnThread(main);
  });

  it('switch a client to RESP3 with HELLO 3 and answer it in RESP3 on the thread', async () => {
    const { main, reader } = await mainAndThreadClients();
    expect((await main.call('MSET', 'a', 'ohmytext', 'b', 'mynewtext')).raw).toBe('+OK\r\n');
    const hello = await reader.call('HELLO', '3', 'SETNAME', 'three');
    expect(hello.type).toBe('map');
    expect(hello.raw).toContain('$5\r\nproto\r\n:3\r\n');
    const before = await infoField(main, 'kvd_network_thread_gets');
    // A miss is RESP3's null, in a plain GET, a pipelined run of them, and MGET.
    expect((await reader.call('GET', 'nope')).raw).toBe('_\r\n');
    reader.send(
      Buffer.concat([
        encodeCommand(['GET', 'a']),
        encodeCommand(['GET', 'nope']),
        encodeCommand(['MGET', 'a', 'nope', 'b']),
      ]),
    );
    expect((await reader.reply()).raw).toBe('$8\r\nohmytext\r\n');
    expect((await reader.reply()).raw).toBe('_\r\n');
    expect((await reader.reply()).raw).toBe('*3\r\n$8\r\nohmytext\r\n_\r\n$9\r\nmynewtext\r\n');
    // LCS IDX is a map in RESP3.
    expect((await reader.call('LCS', 'a', 'b', 'IDX', 'MINMATCHLEN', '4')).raw).toBe(
      '%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n',
    );
    expect((await reader.call('TTL', 'a')).raw).toBe(':-1\r\n');
    // All answered there, and the main thread's listing knows the client's protocol and name.
    expect(await infoField(main, 'kvd_network_thread_gets')).toBe(before + 6);
    await stillOnThread(main);
    expect((await main.call('CLIENT', 'LIST')).raw).toMatch(/name=three .*resp=3 .*io-thread=1\n/);
    // HELLO 2 goes back to RESP2, still on the thread.
    expect((await reader.call('HELLO', '2')).type).toBe('array');
    expect((await reader.call('GET', 'nope')).raw).toBe('$-1\r\n');
    expect((await reader.call('MGET', 'nope')).raw).toBe('*1\r\n$-1\r\n');
    await stillOnThread(main);
    // A bad HELLO is answered by the main thread and changes nothing.
    expect((await reader.call('HELLO', '4')).raw).toBe('-NOPROTO unsupported protocol version\r\n');
    expect((await reader.call('GET', 'nope')).raw).toBe('$-1\r\n');
    await stillOnThread(main);
    // A write is run by the main thread, in RESP3, and the client stays.
    expect((await reader.call('HELLO', '3')).type).toBe('map');
    expect((await reader.call('SET', 'k', 'v')).raw).toBe('+OK\r\n');
    expect((await reader.call('GETDEL', 'nope')).raw).toBe('_\r\n');
    await stillOnThread(main);
    // WATCH sends the client to the main thread, which goes on in the protocol it chose.
    expect((await reader.call('WATCH', 'k')).raw).toBe('+OK\r\n');
    expect((await reader.call('GET', 'nope')).raw).toBe('_\r\n');
    expect((await reader.call('MGET', 'k', 'nope')).raw).toBe('*2\r\n$1\r\nv\r\n_\r\n');
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(0);
    expect((await main.call('CLIENT', 'LIST')).raw).toMatch(/name=three .*resp=3 .*io-thread=0\n/);
  });

  it('run the reads of the server state on the main thread for a client they keep', async () => {
    const { main, reader } = await mainAndThreadClients();
    expect((await main.call('SET', 'n', '12')).raw).toBe('+OK\r\n');
    expect((await reader.call('SELECT', '0')).raw).toBe('+OK\r\n');
    expect((await reader.call('SELECT', '1')).raw).toBe('-ERR DB index is out of range\r\n');
    expect((await reader.call('CONFIG', 'GET', 'maxmemory-policy')).raw).toBe(
      '*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n',
    );
    expect((await reader.call('OBJECT', 'ENCODING', 'n')).raw).toBe('$3\r\nint\r\n');
    expect((await reader.call('COMMAND', 'COUNT')).raw).toBe(
      (await main.call('COMMAND', 'COUNT')).raw,
    );
    const time = await reader.call('TIME');
    expect(time.type === 'array' && time.value?.length).toBe(2);
    expect((await reader.call('LASTSAVE')).type).toBe('integer');
    expect((await reader.call('ROLE')).raw).toMatch(/^\*3\r\n\$6\r\nmaster\r\n/);
    expect((await reader.call('CLIENT', 'NO-EVICT', 'on')).raw).toBe('+OK\r\n');
    // CLIENT INFO and CLIENT LIST see the client where it is: on its thread.
    expect((await reader.call('CLIENT', 'INFO')).raw).toMatch(/ io-thread=1\n\r\n$/);
    expect((await reader.call('CLIENT', 'LIST')).raw).toMatch(/io-thread=0\n.*io-thread=1\n/s);
    await stillOnThread(main);
    // CONFIG SET is not run there: the client goes back, and the main thread answers it.
    expect((await reader.call('CONFIG', 'SET', 'maxmemory', '0')).type).not.toBe('array');
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(0);
  });

  it('keep a client whose request the main thread refuses at lookup', async () => {
    const { main, reader } = await mainAndThreadClients();
    expect((await reader.call('NOSUCH', 'a')).raw).toBe(
      "-ERR unknown command 'NOSUCH', with args beginning with: 'a' \r\n",
    );
    expect((await reader.call('CLIENT', 'MAINT_NOTIFICATIONS', 'ON')).raw).toBe(
      "-ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP.\r\n",
    );
    expect((await reader.call('SET', 'a')).raw).toBe(
      "-ERR wrong number of arguments for 'set' command\r\n",
    );
    // A command the thread answers, with a wrong arity, is refused alike.
    expect((await reader.call('TYPE', 'a', 'b')).raw).toBe(
      "-ERR wrong number of arguments for 'type' command\r\n",
    );
    expect((await reader.call('GET', 'a')).raw).toBe('$-1\r\n');
    await stillOnThread(main);
    const stats = await main.call('INFO', 'commandstats');
    expect(stats.type === 'bulk' && stats.value.toString()).toMatch(
      /cmdstat_set:calls=0,.*rejected_calls=1,failed_calls=0/,
    );
    // A request it does not refuse is run once, and the client stays.
    expect((await reader.call('SET', 'a', '1')).raw).toBe('+OK\r\n');
    await stillOnThread(main);
    const after = await main.call('INFO', 'commandstats');
    expect(after.type === 'bulk' && after.value.toString()).toMatch(
      /cmdstat_set:calls=1,.*rejected_calls=1,/,
    );
    // One that needs the client's own connection sends it to the main thread, which runs it once.
    expect((await reader.call('MULTI')).raw).toBe('+OK\r\n');
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(0);
    expect((await reader.call('INCR', 'a')).raw).toBe('+QUEUED\r\n');
    expect((await reader.call('EXEC')).raw).toBe('*1\r\n:2\r\n');
    const multi = await main.call('INFO', 'commandstats');
    expect(multi.type === 'bulk' && multi.value.toString()).toMatch(/cmdstat_multi:calls=1,/);
  });

  it('keep node-redis clients in RESP3 on their thread, answering as the main thread does', async () => {
    const server = await tests.serve({ networkThreads: 2 });
    const url = `redis://127.0.0.1:${server.port}`;
    // RESP: 3 sends HELLO 3 as it connects. Clients alternate between the two threads.
    const clients = Array.from({ length: 4 }, () => createClient({ url, RESP: 3 }));
    try {
      for (const c of clients) await c.connect();
      const writer = clients[0]!;
      for (let i = 0; i < 50; i++) await writer.set(`key:${i}`, `v${i}`);
      for (const c of clients) {
        expect(await c.get('key:7')).toBe('v7');
        expect(await c.get('missing')).toBeNull();
        expect(await c.mGet(['key:1', 'missing', 'key:2'])).toEqual(['v1', null, 'v2']);
        expect(await c.ttl('key:3')).toBe(-1);
        expect((await c.keys('key:1*')).sort()).toEqual(
          ['key:1', ...Array.from({ length: 10 }, (_, i) => `key:1${i}`)].sort(),
        );
        const scanned: string[] = [];
        for await (const page of c.scanIterator({ MATCH: 'key:*', COUNT: 7 }))
          scanned.push(...page);
        expect(scanned.length).toBe(50);
      }
      const admin = await tests.connect(server.port);
      // The writer is the main thread's (its SETs would have sent it there anyway); of the
      // others, which only read, the thread's are still there.
      expect(await infoField(admin, 'kvd_network_thread_clients')).toBe(2);
      expect(await infoField(admin, 'kvd_network_thread_gets')).toBeGreaterThanOrEqual(2 * 4);
    } finally {
      for (const c of clients) c.destroy();
    }
  });
});
