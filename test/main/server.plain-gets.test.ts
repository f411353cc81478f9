// Tests the main thread's plain-GET path (plain-gets.ts) over real sockets: any request stream,
// cut anywhere, gets the same replies and the same counters as from a daemon whose GETs all
// take the general path, in RESP2 and RESP3 (HELLO in the stream); a GET the session answers
// otherwise (before AUTH, in MULTI, subscribed) is left to that path; a damaged record's GET is answered with its error between good ones;
// values stored compressed are answered whole; a client that pipelines GETs of large values
// without reading is held back (its socket is paused) and then gets every byte.

import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { flipByte } from '../fixtures/file-bytes.js';
import { pollUntil } from '../fixtures/poll.js';
import { encodeCommand, infoField, type RespClient } from '../fixtures/resp-client.js';
import { readSegment, segmentFiles } from '../fixtures/segment-file.js';
import type { TestServer } from '../fixtures/shared-server.js';
import { makeTempDir } from '../fixtures/temp-dir.js';
import { useTestServers } from '../fixtures/test-servers.js';

const tests = useTestServers();

/** A one-thread daemon, with the plain-GET path on (the default) or off. */
function serve(options: Parameters<typeof tests.serve>[0] = {}): Promise<TestServer> {
  return tests.serve({ networkThreads: 1, ...options });
}

const client = (port: number): Promise<RespClient> => tests.connect(port);

/** The counters a GET moves, as INFO shows them. */
async function getCounters(c: RespClient): Promise<number[]> {
  const stats = await c.call('INFO', 'commandstats');
  const calls =
    stats.type === 'bulk' ? /cmdstat_get:calls=(\d+),/.exec(stats.value.toString()) : null;
  return [
    await infoField(c, 'keyspace_hits'),
    await infoField(c, 'keyspace_misses'),
    await infoField(c, 'total_commands_processed'),
    Number(calls?.[1] ?? 0),
  ];
}

describe('the main thread’s plain-GET path', () => {
  it('answers any request stream, cut anywhere, as the general path does', async () => {
    const plain = await serve({ store: { maxKeyBytes: 8 } });
    const general = await serve({ store: { maxKeyBytes: 8 }, plainGets: false });
    const key = fc.constantFrom('a', 'b', '', 'k:12345', 'longer-than-8');
    // Values across the reply slab's edges: small, past the 16 KiB a slab copies, past a slab.
    const value = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom(16 * 1024, 70 * 1024).map((n) => 'v'.repeat(n)),
    );
    const request = fc.oneof(
      { weight: 8, arbitrary: key.map((k) => encodeCommand(['GET', k])) },
      key.map((k) => encodeCommand(['gEt', k])),
      { weight: 2, arbitrary: fc.tuple(key, value).map(([k, v]) => encodeCommand(['SET', k, v])) },
      key.map((k) => encodeCommand(['DEL', k])),
      key.map((k) => encodeCommand(['GET', k, k])),
      fc.constant(encodeCommand(['GET'])),
      key.map((k) => Buffer.from(`GET ${k || 'x'}\r\n`)), // inline
      // A GET split by a cut, a GET whose key is too long, and a GET after a write in one
      // pipeline come from the cuts, the keys and the mix above.
      fc.constantFrom(['MULTI'], ['EXEC'], ['DISCARD'], ['PING']).map((c) => encodeCommand(c)),
      fc.constantFrom('2', '3').map((v) => encodeCommand(['HELLO', v])),
      key.map((k) => encodeCommand(['MGET', k, 'a'])),
    );
    // DISCARD first, so that a MULTI left open does not queue the marker (its reply is dropped).
    const marker = Buffer.concat([
      encodeCommand(['DISCARD']),
      encodeCommand(['ECHO', 'end-of-stream']),
    ]);
    async function replies(c: RespClient, bytes: Buffer, cuts: number[]): Promise<string[]> {
      let at = 0;
      for (const cut of [...cuts.map((n) => n % (bytes.length + 1))].sort((x, y) => x - y)) {
        c.send(bytes.subarray(at, cut));
        at = cut;
      }
      c.send(Buffer.concat([bytes.subarray(at), marker]));
      const out: string[] = [];
      for (;;) {
        const reply = await c.reply();
        if (reply.raw === '$13\r\nend-of-stream\r\n') return out.slice(0, -1);
        out.push(reply.raw);
      }
    }
    const plainAdmin = await client(plain.port);
    const generalAdmin = await client(general.port);
    await fc.assert(
      fc.asyncProperty(
        fc.array(request, { minLength: 1, maxLength: 14 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (requests, cuts) => {
          const bytes = Buffer.concat(requests);
          const got = await replies(await client(plain.port), bytes, cuts);
          const want = await replies(await client(general.port), bytes, cuts);
          expect(got).toEqual(want);
          expect(await getCounters(plainAdmin)).toEqual(await getCounters(generalAdmin));
          tests.closeClients(2);
        },
      ),
      { numRuns: 60 },
    );
    // The path did answer: most GETs here are plain ones on a client with nothing pending.
    const stats = await plainAdmin.call('INFO', 'commandstats');
    expect(
      stats.type === 'bulk' && /cmdstat_get:calls=[1-9]\d\d/.test(stats.value.toString()),
    ).toBe(true);
  });

  it('leaves a GET to the general path where the session answers it otherwise', async () => {
    const server = await serve({ requirepass: 'pw' });
    const c = await client(server.port);
    expect((await c.call('GET', 'k')).raw).toMatch(/^-NOAUTH /);
    expect((await c.call('AUTH', 'pw')).raw).toBe('+OK\r\n');
    expect((await c.call('SET', 'k', 'v')).raw).toBe('+OK\r\n');
    expect((await c.call('MULTI')).raw).toBe('+OK\r\n');
    expect((await c.call('GET', 'k')).raw).toBe('+QUEUED\r\n');
    expect((await c.call('EXEC')).raw).toBe('*1\r\n$1\r\nv\r\n');
    await c.call('HELLO', '3');
    expect((await c.call('GET', 'absent')).raw).toBe('_\r\n');
    await c.call('HELLO', '2');
    expect((await c.call('GET', 'absent')).raw).toBe('$-1\r\n');
    expect((await c.call('SUBSCRIBE', 'ch')).type).toBe('array');
    expect((await c.call('GET', 'k')).raw).toMatch(/^-ERR Can't execute 'get'/);
  });

  it('answers the GET of a damaged record with its error, between good ones', async () => {
    const dir = await makeTempDir('plain-gets-damage');
    const store = await Store.open(dir);
    for (const k of ['a', 'b', 'c']) await store.set(k, `value ${k}`);
    await store.close();
    const name = segmentFiles(dir)[0]!;
    const victim = readSegment(dir, name).records.find((r) => r.key.toString() === 'b')!;
    flipByte(join(dir, name), victim.offset + victim.length - 1);

    const server = await serve({ dir });
    const c = await client(server.port);
    c.send(Buffer.concat(['a', 'b', 'c', 'a'].map((k) => encodeCommand(['GET', k]))));
    expect((await c.reply()).raw).toBe('$7\r\nvalue a\r\n');
    expect((await c.reply()).raw).toMatch(/^-KV_CORRUPTION .*checksum mismatch/);
    expect((await c.reply()).raw).toBe('$7\r\nvalue c\r\n');
    expect((await c.reply()).raw).toBe('$7\r\nvalue a\r\n');
    expect(await infoField(c, 'keyspace_hits')).toBe(3);
  });

  it('answers values stored compressed, whole', async () => {
    const dir = await makeTempDir('plain-gets-compressed');
    const store = await Store.open(dir, { compression: 'lz4' });
    const doc = (i: number): string =>
      JSON.stringify({ id: i, text: 'the quick brown fox jumps over the lazy dog; '.repeat(20) });
    for (let i = 0; i < 50; i++) await store.set(`d${i}`, doc(i));
    await store.compact(); // into a data segment, each value compressed
    await store.close();

    const server = await serve({ dir, store: { compression: 'lz4' } });
    const c = await client(server.port);
    c.send(Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeCommand(['GET', `d${i}`]))));
    for (let i = 0; i < 50; i++) {
      const reply = await c.reply();
      expect(reply.type === 'bulk' && reply.value.toString()).toBe(doc(i));
    }
  });

  it('holds back a client that pipelines large GETs without reading, then sends every byte', async () => {
    const server = await serve();
    const c = await client(server.port);
    const big = Buffer.alloc(256 * 1024, 'x');
    expect((await c.call('SET', 'big', big)).raw).toBe('+OK\r\n');
    const count = 100; // 25 MiB of replies: far past the sockets' buffers
    c.socket.pause();
    c.send(Buffer.concat(Array.from({ length: count }, () => encodeCommand(['GET', 'big']))));
    await pollUntil(
      'the server stops reading the client',
      // Paused with requests left unparsed: the path answers 512 KiB of replies at a time.
      () => server.clients().some((i) => i.paused && i.outputBlocked && i.inputBytes > 0),
      10_000,
    );
    c.socket.resume();
    for (let i = 0; i < count; i++) {
      const reply = await c.reply();
      expect(reply.type === 'bulk' && reply.value.length).toBe(big.length);
    }
    expect((await c.call('PING')).raw).toBe('+PONG\r\n');
  });
});
