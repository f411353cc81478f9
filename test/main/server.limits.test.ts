// Tests the daemon's argument size limit and its input memory over real sockets: the bulk limit
// follows the store's key and value limits (in process and through `kvd serve`'s flags), a bulk
// past it is refused from its header, and clients that sent big bulks keep no input buffer.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { defaultMaxBulkBytes } from '../../dist/main/server/resp-parser.js';
import { fullGc } from '../fixtures/gc.js';
import { type ServerProcess, spawnServer, startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { encodeCommand, type Reply, RespClient } from '../fixtures/resp-client.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BULK_ERROR = '-ERR Protocol error: invalid bulk length\r\n';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
const servers: TestServer[] = [];
const processes: ServerProcess[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const p of processes.splice(0)) {
    p.child.kill('SIGTERM');
    await p.child.exited;
  }
});
afterAll(removeTempDirs);

async function serve(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

/** The first `SET k <value>` bytes up to and including the value's `$<length>` header. */
function setHeader(length: number): string {
  return `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${length}\r\n`;
}

/** Sends a SET header announcing `length` bytes and nothing more; returns all the server said. */
async function announce(port: number, length: number): Promise<string> {
  const client = await RespClient.connect(port);
  client.send(setHeader(length));
  return client.rest(); // the server must answer and close without waiting for the data
}

function errorText(reply: Reply): string {
  return reply.type === 'error' ? reply.value : `not an error: ${reply.raw.slice(0, 80)}`;
}

describe('the bulk limit', () => {
  it('defaults to just above the value limit and follows it', async () => {
    expect(defaultMaxBulkBytes(64 * KiB, 16 * MiB)).toBe(17 * MiB);
    const fallback = await serve();
    // The old default (512 MiB) and the first byte past the new one are refused from the header.
    expect(await announce(fallback.port, 512 * MiB)).toBe(BULK_ERROR);
    expect(await announce(fallback.port, 17 * MiB + 1)).toBe(BULK_ERROR);

    const small = await serve({ store: { maxValueBytes: 256 * KiB } });
    const limit = 256 * KiB + MiB;
    expect(await announce(small.port, limit + 1)).toBe(BULK_ERROR);
    const client = await RespClient.connect(small.port);
    expect((await client.call('CONFIG', 'GET', 'proto-max-bulk-len')).raw).toBe(
      `*2\r\n$18\r\nproto-max-bulk-len\r\n$${String(limit).length}\r\n${limit}\r\n`,
    );
    // A value too large but within the bulk limit gets the store's error; the client stays.
    expect(errorText(await client.call('SET', 'k', Buffer.alloc(limit, 1)))).toMatch(
      /^KV_VALUE_TOO_LARGE value of 1310720 bytes exceeds maxValueBytes \(262144\)/,
    );
    expect(errorText(await client.call('SET', 'k', Buffer.alloc(256 * KiB + 1, 1)))).toMatch(
      /^KV_VALUE_TOO_LARGE /,
    );
    expect((await client.call('SET', 'k', Buffer.alloc(256 * KiB, 1))).raw).toBe('+OK\r\n');
    expect((await client.call('STRLEN', 'k')).raw).toBe(`:${256 * KiB}\r\n`);
    client.close();
  });

  it('follows the key limit when keys may be larger than values', async () => {
    const server = await serve({ store: { maxValueBytes: 1024, maxKeyBytes: 2 * MiB } });
    const client = await RespClient.connect(server.port);
    const key = Buffer.alloc(2 * MiB, 'k');
    expect((await client.call('SET', key, 'v')).raw).toBe('+OK\r\n');
    expect((await client.call('GET', key)).raw).toBe('$1\r\nv\r\n');
    client.close();
    expect(await announce(server.port, 3 * MiB + 1)).toBe(BULK_ERROR);
  });

  it('is an explicit limit when given', async () => {
    const server = await serve({ limits: { maxBulkBytes: 1000 }, store: { maxValueBytes: 4096 } });
    expect(await announce(server.port, 1001)).toBe(BULK_ERROR);
    const client = await RespClient.connect(server.port);
    expect((await client.call('SET', 'k', Buffer.alloc(1000))).raw).toBe('+OK\r\n');
    client.close();
  });

  it('follows kvd serve --max-value-bytes and --max-key-bytes; --max-bulk-bytes overrides', async () => {
    const valued = await spawnServer(['--dir', await makeTempDir('limits'), '--readers', '1'], {
      KVD_MAX_VALUE_BYTES: String(2 * MiB),
    });
    processes.push(valued);
    expect(await announce(valued.port, 3 * MiB + 1)).toBe(BULK_ERROR);
    const client = await RespClient.connect(valued.port);
    expect(errorText(await client.call('SET', 'k', Buffer.alloc(3 * MiB)))).toMatch(
      /^KV_VALUE_TOO_LARGE /,
    );
    client.close();

    const keyed = await spawnServer([
      ...['--dir', await makeTempDir('limits'), '--readers', '1'],
      ...['--max-value-bytes', '100', '--max-key-bytes', String(4 * MiB)],
    ]);
    processes.push(keyed);
    expect(await announce(keyed.port, 5 * MiB + 1)).toBe(BULK_ERROR);
    const keyClient = await RespClient.connect(keyed.port);
    expect((await keyClient.call('SET', Buffer.alloc(4 * MiB, 'k'), 'v')).raw).toBe('+OK\r\n');
    keyClient.close();

    const explicit = await spawnServer([
      ...['--dir', await makeTempDir('limits'), '--readers', '1'],
      ...['--max-bulk-bytes', '4096'],
    ]);
    processes.push(explicit);
    expect(await announce(explicit.port, 4097)).toBe(BULK_ERROR);
  });
});

// Process-level check: ArrayBuffer memory after a full collection (fixtures/gc.ts).
const gc = fullGc;

/** ArrayBuffer bytes still reachable: collects first (V8 frees buffers on a background thread). */
async function arrayBuffersBelow(what: string, bytes: number): Promise<void> {
  await pollUntil(
    `${what} (arrayBuffers ${process.memoryUsage().arrayBuffers} < ${bytes})`,
    () => {
      gc();
      return process.memoryUsage().arrayBuffers < bytes;
    },
    10_000,
  );
}

/**
 * ArrayBuffer bytes once collection has settled: collects until two readings in a row agree
 * (V8 frees buffers on a background thread, so one reading after gc() may still count garbage).
 */
async function settledArrayBuffers(): Promise<number> {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const now = process.memoryUsage().arrayBuffers;
    if (now === last) return now;
    last = now;
  }
  throw new Error('ArrayBuffer memory never settled');
}

/** Writes `bytes` in 64 KiB pieces, waiting for the socket to drain between them. */
async function sendInPieces(client: RespClient, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; at += 64 * KiB) {
    if (!client.socket.write(bytes.subarray(at, at + 64 * KiB))) {
      await new Promise((resolve) => client.socket.once('drain', resolve));
    }
  }
}

describe('input buffers', () => {
  it('hold a big bulk only while it arrives, at most twice what was received, and nothing after', async () => {
    const server = await serve({ networkThreads: 1 }); // reads connection state (clients())
    const size = 12 * MiB;
    const request = encodeCommand(['SET', 'big', Buffer.alloc(size, 7)]);
    const client = await RespClient.connect(server.port);
    const mine = () =>
      server.clients().find((c) => c.address.endsWith(`:${client.socket.localPort}`))!;
    await sendInPieces(client, request.subarray(0, request.length / 2));
    await pollUntil(
      'the server has read half the bulk',
      () => mine().inputBytes > size / 2 - KiB,
      10_000,
    );
    const midway = mine();
    expect(midway.inputBufferBytes).toBeGreaterThanOrEqual(midway.inputBytes);
    expect(midway.inputBufferBytes).toBeLessThanOrEqual(2 * midway.inputBytes + 64 * KiB);
    await sendInPieces(client, request.subarray(request.length / 2));
    expect((await client.reply()).raw).toBe('+OK\r\n');
    expect(mine()).toMatchObject({ inputBytes: 0, inputBufferBytes: 0 });
    client.close();
  });

  it('are given back: by clients that sent big bulks and stayed, and by clients that left mid-bulk', async () => {
    // Values just over the store's limit: the parser reads each whole, the store refuses it on
    // this thread, and nothing is handed to the writer thread (whose buffers its own GC frees).
    // networkThreads 1: the test reads connection state (clients()).
    const server = await serve({ networkThreads: 1, store: { maxValueBytes: 8 * MiB } });
    const size = 8 * MiB + 512 * KiB;
    const request = encodeCommand(['SET', 'big', Buffer.alloc(size, 7)]);
    const refused = async (client: RespClient) => {
      await sendInPieces(client, request);
      expect(errorText(await client.reply())).toMatch(/^KV_VALUE_TOO_LARGE /);
    };
    const warm = await RespClient.connect(server.port); // anything allocated once, first
    await refused(warm);
    warm.close();
    await pollUntil('the warm-up client is gone', () => server.clients().length === 0, 10_000);
    const baseline = await settledArrayBuffers();

    const stayers = await Promise.all([0, 1].map(() => RespClient.connect(server.port)));
    for (const client of stayers) await refused(client);
    // Two requests of 8.5 MiB were read; neither is kept while their clients stay connected.
    await arrayBuffersBelow('the stayers keep no request', baseline + 4 * MiB);

    const leavers = await Promise.all([0, 1].map(() => RespClient.connect(server.port)));
    for (const client of leavers) await sendInPieces(client, request.subarray(0, size - MiB));
    await pollUntil(
      'the server has read most of both bulks',
      () => server.clients().filter((c) => c.inputBytes > size - 2 * MiB).length === 2,
      10_000,
    );
    // What they sent is held (so the measure sees such buffers) ...
    expect(await settledArrayBuffers()).toBeGreaterThan(baseline + 2 * (size - 2 * MiB));
    for (const client of leavers) client.close();
    await pollUntil('the leavers are gone', () => server.clients().length === 2, 10_000);
    await arrayBuffersBelow('the leavers are freed', baseline + 4 * MiB); // ... and given back
    for (const client of stayers) {
      expect((await client.call('PING')).raw).toBe('+PONG\r\n');
      client.close();
    }
  });
});
