// Tests the daemon's network threads with the settings that reach into a client's requests, over
// real sockets: `requirepass` (AUTH runs on the main thread for a thread's client, which reads on
// the thread only once authenticated, and carries its authentication back when it moves),
// `--metrics-port` (the threads' GETs and MGETs in the command counters and latency histograms), TLS (TLS
// clients stay on the main thread; plain ones are shared out), and the request limits; and what
// `networkThreads: 'auto'` stands for (one per core, at most 4; 1 without the native addon or
// with TLS on every listener), and `--network-threads`' parser.

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { resolveNetworkThreads } from '../../dist/main/server/network-thread-count.js';
import { parseNetworkThreads } from '../../dist/main/server/serve-flag-parsers.js';
import { startServer } from '../../dist/main/server/server.js';
import { startTestServer } from '../fixtures/kvd-server.js';
import { scrape } from '../fixtures/prometheus.js';
import { encodeCommand, infoField, RespClient } from '../fixtures/resp-client.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';
import { selfSignedCert } from '../fixtures/tls-cert.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
const servers: TestServer[] = [];
const closers: (() => void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(removeTempDirs);

async function serve(options: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

async function connect(target: number | string): Promise<RespClient> {
  const client = await RespClient.connect(target);
  closers.push(() => client.close());
  return client;
}

/** A client that has authenticated and been answered once (so the next takes the next turn). */
async function authenticated(target: number | string): Promise<RespClient> {
  const client = await connect(target);
  expect((await client.call('AUTH', 'secret')).raw).toBe('+OK\r\n');
  expect((await client.call('GET', '_acc')).raw).toBe('$-1\r\n');
  return client;
}

const NOAUTH = '-NOAUTH Authentication required.\r\n';

describe('network threads with requirepass', () => {
  it('serve a client on its thread once AUTH succeeds, and refuse it before', async () => {
    const server = await serve({ networkThreads: 2, requirepass: 'secret' });
    const main = await authenticated(server.port); // turn 0: the main thread
    expect((await main.call('SET', 'k', 'value')).raw).toBe('+OK\r\n');
    const onThread = await authenticated(server.port); // turn 1: the network thread
    expect((await onThread.call('GET', 'k')).raw).toBe('$5\r\nvalue\r\n');
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(1);
    expect(await infoField(main, 'kvd_network_thread_gets')).toBe(2);

    await authenticated(server.port); // the main thread
    const late = await connect(server.port); // the network thread, not yet authenticated
    // Setup requests before AUTH are refused as on the main thread; the client stays.
    expect((await late.call('INFO')).raw).toBe(NOAUTH);
    expect((await late.call('CLIENT', 'SETNAME', 'late')).raw).toBe(NOAUTH);
    expect((await late.call('PING')).raw).toBe(NOAUTH);
    expect((await late.call('AUTH', 'wrong')).raw).toMatch(/^-WRONGPASS/);
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(2);
    // A GET or a write before AUTH is not read or run: the main thread refuses it (NOAUTH) and
    // the client stays.
    expect((await late.call('GET', 'k')).raw).toBe(NOAUTH);
    expect((await late.call('SET', 'k', 'x')).raw).toBe(NOAUTH);
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(2);
    expect(await infoField(main, 'kvd_network_thread_gets')).toBe(2);
    expect((await late.call('AUTH', 'secret')).raw).toBe('+OK\r\n');
    expect((await late.call('GET', 'k')).raw).toBe('$5\r\nvalue\r\n');
    expect(await infoField(main, 'kvd_network_thread_gets')).toBe(3); // read on the thread
  });

  it('answer AUTH and the GETs pipelined after it in order, on the thread', async () => {
    const server = await serve({ networkThreads: 2, requirepass: 'secret' });
    const main = await authenticated(server.port);
    expect((await main.call('SET', 'k', 'v')).raw).toBe('+OK\r\n');
    const client = await connect(server.port); // the network thread
    client.send(
      Buffer.concat([
        encodeCommand(['GET', 'k']),
        encodeCommand(['AUTH', 'secret']),
        encodeCommand(['GET', 'k']),
      ]),
    );
    // The main thread refuses the first GET and runs AUTH, one at a time; the GET after AUTH is
    // read on the thread.
    expect((await client.reply()).raw).toBe(NOAUTH);
    expect((await client.reply()).raw).toBe('+OK\r\n');
    expect((await client.reply()).raw).toBe('$1\r\nv\r\n');
    expect(await infoField(main, 'kvd_network_thread_gets')).toBe(1);

    await authenticated(server.port); // the main thread
    const next = await connect(server.port); // the network thread
    next.send(
      Buffer.concat([
        encodeCommand(['AUTH', 'default', 'secret']),
        encodeCommand(['GET', 'k']),
        encodeCommand(['GET', 'k']),
      ]),
    );
    expect((await next.reply()).raw).toBe('+OK\r\n');
    expect((await next.reply()).raw).toBe('$1\r\nv\r\n');
    expect((await next.reply()).raw).toBe('$1\r\nv\r\n');
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(2);
    expect(await infoField(main, 'kvd_network_thread_gets')).toBe(3);
  });

  it('carry a client’s authentication and name back to the main thread', async () => {
    const server = await serve({ networkThreads: 2, requirepass: 'secret' });
    const main = await authenticated(server.port);
    const client = await authenticated(server.port); // the network thread
    expect((await client.call('CLIENT', 'SETNAME', 'mover')).raw).toBe('+OK\r\n');
    // Larger than a client may send before AUTH (16 KiB): refused if the main thread did not
    // know it had authenticated.
    const big = Buffer.alloc(100_000, 7);
    expect((await client.call('SET', 'big', big)).raw).toBe('+OK\r\n');
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(0);
    expect((await client.call('CLIENT', 'GETNAME')).raw).toBe('$5\r\nmover\r\n');
    const value = await client.call('GET', 'big');
    expect(value.type === 'bulk' && value.value.equals(big)).toBe(true);
  });

  it('refuse before AUTH what the main thread refuses: a long multibulk, MGET, EXISTS', async () => {
    const server = await serve({ networkThreads: 2, requirepass: 'secret' });
    await authenticated(server.port);
    const client = await connect(server.port); // the network thread
    client.send(encodeCommand(['CLIENT', 'SETNAME', ...Array.from({ length: 12 }, () => 'x')]));
    expect(await client.rest()).toMatch(/^-ERR Protocol error: unauthenticated multibulk length/);

    // The reads a thread answers itself are refused before AUTH too.
    await authenticated(server.port); // the main thread
    const reader = await connect(server.port); // the network thread
    expect((await reader.call('MGET', 'k')).raw).toBe(NOAUTH);
    expect((await reader.call('EXISTS', 'k')).raw).toBe(NOAUTH);
  });

  it('keep ioredis clients that authenticate on their thread', async () => {
    const server = await serve({ networkThreads: 2, requirepass: 'secret' });
    const clients: Redis[] = [];
    closers.push(() => {
      for (const c of clients) c.disconnect();
    });
    for (let i = 0; i < 4; i++) {
      const client = new Redis({ port: server.port, host: '127.0.0.1', password: 'secret' });
      clients.push(client);
      await client.ping();
    }
    await clients[0]!.set('k', 'v');
    for (const client of clients.slice(1, 4)) await client.get('k');
    // ioredis sent AUTH, CLIENT SETINFO, INFO and PING: none of them moved a client.
    const main = await authenticated(server.port);
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(2);
    const list = await main.call('CLIENT', 'LIST');
    expect(list.raw.match(/lib-name=ioredis/g)?.length).toBe(4);
  });
});

describe('network threads with other settings', () => {
  it('refuse a request over the bulk limit at once, without its data, as the main thread does', async () => {
    const server = await serve({ networkThreads: 2, limits: { maxBulkBytes: 1000 } });
    await connect(server.port); // the main thread
    const client = await connect(server.port); // the network thread
    expect((await client.call('GET', 'k')).raw).toBe('$-1\r\n');
    client.send('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1001\r\n');
    expect(await client.rest()).toBe('-ERR Protocol error: invalid bulk length\r\n');
  });

  it('count their GETs and MGETs in the metrics endpoint’s counters and latency histograms', async () => {
    const server = await serve({ networkThreads: 2, metrics: { port: 0, host: '127.0.0.1' } });
    const url = server.metrics!.url;
    const main = await connect(server.port);
    expect((await main.call('SET', 'k', 'v')).raw).toBe('+OK\r\n');
    const onThread = await connect(server.port);
    for (let i = 0; i < 5; i++) expect((await onThread.call('GET', 'k')).raw).toBe('$1\r\nv\r\n');
    expect((await onThread.call('MGET', 'k', 'x')).raw).toBe('*2\r\n$1\r\nv\r\n$-1\r\n');
    expect(await infoField(main, 'kvd_network_thread_gets')).toBe(6);
    expect((await main.call('GET', 'k')).raw).toBe('$1\r\nv\r\n');
    const scraped = await scrape(url);
    expect(scraped.value('kvd_commands_total', { cmd: 'mget' })).toBe(1);
    expect(scraped.histogram('kvd_command_duration_seconds', { cmd: 'mget' })?.count).toBe(1);
    expect(scraped.value('kvd_commands_total', { cmd: 'get' })).toBe(6);
    const histogram = scraped.histogram('kvd_command_duration_seconds', { cmd: 'get' });
    expect(histogram?.count).toBe(6);
    expect(histogram?.buckets.get('+Inf')).toBe(6);
    expect(histogram!.sum).toBeGreaterThan(0);
  });

  it('keep TLS clients on the main thread and share out plain ones', async () => {
    const dir = await makeTempDir('network-tls');
    const { cert, key } = await selfSignedCert(dir);
    const unixPath = join(dir, 'kvd.sock');
    const server = await serve({
      networkThreads: 2,
      tls: { cert, key },
      unixPath,
    });
    const secure: Redis[] = [];
    closers.push(() => {
      for (const c of secure) c.disconnect();
    });
    for (let i = 0; i < 3; i++) {
      const client = new Redis({
        port: server.port,
        host: '127.0.0.1',
        tls: { ca: cert, servername: 'localhost', rejectUnauthorized: false },
      });
      secure.push(client);
      expect(await client.set(`tls${i}`, 'yes')).toBe('OK');
      expect(await client.get(`tls${i}`)).toBe('yes');
    }
    // The three took turns 0, 1, 0: the next plain client is the network thread's.
    const onThread = await connect(unixPath);
    expect((await onThread.call('GET', 'tls2')).raw).toBe('$3\r\nyes\r\n');
    const main = await connect(unixPath);
    expect(await infoField(main, 'kvd_network_thread_clients')).toBe(1);
    expect(await infoField(main, 'kvd_network_thread_gets')).toBe(1);
    expect(await infoField(main, 'connected_clients')).toBe(5);
  });
});

describe('networkThreads: auto', () => {
  it('stands for one thread per core, at most 4, where a network thread can have clients', () => {
    const host = { cores: 2, addon: true, plainClients: true };
    expect(resolveNetworkThreads('auto', host)).toBe(2);
    expect(resolveNetworkThreads('auto', { ...host, cores: 1 })).toBe(1);
    expect(resolveNetworkThreads('auto', { ...host, cores: 3 })).toBe(3);
    expect(resolveNetworkThreads('auto', { ...host, cores: 64 })).toBe(4);
    expect(resolveNetworkThreads('auto', { ...host, cores: 0 })).toBe(1);
    // No addon: a socket cannot move between threads. Every listener TLS: no client would.
    expect(resolveNetworkThreads('auto', { ...host, cores: 8, addon: false })).toBe(1);
    expect(resolveNetworkThreads('auto', { ...host, cores: 8, plainClients: false })).toBe(1);
    // A number stands for itself, even where it cannot run (checkNetworkThreads refuses it).
    expect(resolveNetworkThreads(3, { ...host, addon: false })).toBe(3);
  });

  it('is what --network-threads parses from auto, any case, or takes a whole number from 1', () => {
    const parse = parseNetworkThreads(16);
    expect(parse('auto')).toBe('auto');
    expect(parse(' Auto ')).toBe('auto');
    expect(parse('1')).toBe(1);
    expect(parse('16')).toBe(16);
    for (const bad of ['0', '17', '2.5', '', 'automatic', '-1'])
      expect(() => parse(bad)).toThrow(
        new InvalidArgumentError('network-threads must be auto or an integer from 1 to 16'),
      );
  });

  it('is not the default in process: startServer serves on one thread unless told', async () => {
    // Straight through startServer: the test fixture would give it KVD_TEST_NETWORK_THREADS.
    const server = await startServer({ dir: await makeTempDir('network-default'), port: 0 });
    servers.push(server as TestServer);
    const client = await connect(server.port!);
    expect(await infoField(client, 'kvd_network_threads')).toBe(1);
  });

  it('keeps one thread when every listener speaks TLS, and shares out with a Unix socket', async () => {
    const dir = await makeTempDir('network-auto-tls');
    const { cert, key } = await selfSignedCert(dir);
    const tlsOnly = await serve({
      dir: join(dir, 'a'),
      networkThreads: 'auto',
      tls: { cert, key },
    });
    const secure = new Redis({
      port: tlsOnly.port,
      host: '127.0.0.1',
      tls: { ca: cert, servername: 'localhost', rejectUnauthorized: false },
    });
    closers.push(() => secure.disconnect());
    expect(await secure.info('clients')).toMatch(/kvd_network_threads:1\r\n/);
    const unixPath = join(dir, 'kvd.sock');
    const withUnix = await serve({
      dir: join(dir, 'b'),
      networkThreads: 'auto',
      tls: { cert, key },
      unixPath,
    });
    expect(withUnix.unixPath).toBe(unixPath);
    const plain = await connect(unixPath);
    expect(await infoField(plain, 'kvd_network_threads')).toBe(Math.min(availableParallelism(), 4));
  });
});
