// Tests `kvd serve --metrics-port` as a real child process: /metrics fetched over HTTP and read
// by a real Prometheus text parser moves by exactly the commands real clients (ioredis) sent;
// clients and keys match; fsyncs are timed; a busy metrics port is refused clearly; without the
// flag no HTTP listener exists.

import { createServer, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChildLines } from '../fixtures/child-lines.js';
import { CLI, type ServerProcess, spawnServer } from '../fixtures/kvd-server.js';
import { listeningPorts } from '../fixtures/listening-ports.js';
import { pollUntil } from '../fixtures/poll.js';
import { type Scrape, type ScrapedHistogram, scrape } from '../fixtures/prometheus.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterAll(removeTempDirs);

/** The metrics URL of a ready line (`…; metrics at http://host:port/metrics`). */
function metricsUrl(readyLine: string): string {
  const match = / metrics at (http:\/\/\S+)$/.exec(readyLine);
  if (!match) throw new Error(`no metrics address in the ready line: ${readyLine}`);
  return match[1]!;
}

/** Checks a histogram's shape: cumulative buckets, `+Inf` equal to its count. */
function expectWellFormed(h: ScrapedHistogram): void {
  const counts = [...h.buckets.values()];
  for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1]!);
  expect(h.buckets.get('+Inf')).toBe(h.count);
}

/** Per command: answered, errors, timed (the histogram's count) in `after` minus `before`. */
function commandDelta(before: Scrape, after: Scrape, cmd: string) {
  const timed = (s: Scrape) => s.histogram('kvd_command_duration_seconds', { cmd })?.count ?? 0;
  return {
    calls: after.value('kvd_commands_total', { cmd }) - before.value('kvd_commands_total', { cmd }),
    errors:
      after.value('kvd_command_errors_total', { cmd }) -
      before.value('kvd_command_errors_total', { cmd }),
    timed: timed(after) - timed(before),
  };
}

describe('kvd serve --metrics-port', () => {
  let server: ServerProcess;
  let url: string;
  const clients: Redis[] = [];
  const connect = async (): Promise<Redis> => {
    const client = new Redis({ port: server.port, host: '127.0.0.1' });
    clients.push(client);
    await client.ping(); // connected, and ioredis's own ready check done
    return client;
  };

  beforeAll(async () => {
    const dir = await makeTempDir('metrics');
    server = await spawnServer([
      '--dir',
      dir,
      '--readers',
      '1',
      '--durability',
      'always',
      '--metrics-port',
      '0',
    ]);
    url = metricsUrl(server.readyLine);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
  });
  afterAll(async () => {
    server.child.kill('SIGTERM');
    expect(await server.child.exited).toEqual({ code: 0, signal: null });
  });

  it('listens on the --host address by default, beside the RESP port', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const metricsPort = Number(new URL(url).port);
    expect(await listeningPorts(server.child.child.pid!)).toEqual(
      [server.port, metricsPort].sort((a, b) => a - b),
    );
  });

  it('counts answers, errors and latencies by command, exactly as sent', async () => {
    const redis = await connect();
    await redis.set('text', 'not a number');
    const before = await scrape(url);
    await redis.set('m:1', 'a');
    await redis.set('m:2', 'b');
    await redis.set('m:3', 'c');
    expect(await redis.get('m:1')).toBe('a');
    expect(await redis.get('m:missing')).toBeNull();
    await expect(redis.incr('text')).rejects.toThrow(/not an integer/);
    await expect(redis.call('GET')).rejects.toThrow(/wrong number of arguments/);
    await expect(redis.call('NOSUCHCMD')).rejects.toThrow(/unknown command/);
    const after = await scrape(url);

    expect(commandDelta(before, after, 'set')).toEqual({ calls: 3, errors: 0, timed: 3 });
    // The GET with no key is refused before running: answered with an error, not timed.
    expect(commandDelta(before, after, 'get')).toEqual({ calls: 3, errors: 1, timed: 2 });
    expect(commandDelta(before, after, 'incr')).toEqual({ calls: 1, errors: 1, timed: 1 });
    expect(
      after.value('kvd_unknown_commands_total') - before.value('kvd_unknown_commands_total'),
    ).toBe(1);
    for (const cmd of ['set', 'get', 'incr']) {
      const h = after.histogram('kvd_command_duration_seconds', { cmd })!;
      expectWellFormed(h);
      expect(h.sum).toBeGreaterThan(
        before.histogram('kvd_command_duration_seconds', { cmd })?.sum ?? 0,
      );
    }
    expect(after.family('kvd_commands_total').type).toBe('COUNTER');
    expect(after.family('kvd_command_duration_seconds').type).toBe('HISTOGRAM');
    expect(after.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('reports connected clients and keys as they are now', async () => {
    const first = await connect();
    await connect();
    await connect();
    // Earlier tests' clients may still be closing on the server's side.
    const clientsAre = (n: number) => async () =>
      (await scrape(url)).value('kvd_connected_clients') === n;
    await pollUntil('3 clients are connected', clientsAre(3), 5_000);
    first.disconnect();
    await pollUntil('2 clients are connected', clientsAre(2), 5_000);

    const redis = await connect();
    const keysBefore = (await scrape(url)).value('kvd_keys');
    await redis.mset('k:1', '1', 'k:2', '2', 'k:3', '3', 'k:4', '4', 'k:5', '5');
    await redis.del('k:1');
    const now = await scrape(url);
    expect(now.value('kvd_keys')).toBe(keysBefore + 4);
    expect(now.value('kvd_keys')).toBe(await redis.dbsize());
    expect(now.value('kvd_disk_bytes')).toBeGreaterThanOrEqual(now.value('kvd_live_bytes'));
    expect(now.value('kvd_live_bytes')).toBeGreaterThan(0);
    expect(now.value('kvd_reader_pool_threads')).toBe(1);
    expect(now.value('kvd_writer_queue_writes')).toBe(0);
  });

  it('times every fsync of the log under durability always', async () => {
    const redis = await connect();
    const before = (await scrape(url)).histogram('kvd_fsync_duration_seconds')!;
    for (let i = 0; i < 3; i++) await redis.set(`sync:${i}`, 'v');
    const after = (await scrape(url)).histogram('kvd_fsync_duration_seconds')!;
    expectWellFormed(after);
    // One group commit each, each synced before it is answered.
    expect(after.count - before.count).toBeGreaterThanOrEqual(3);
    expect(after.sum).toBeGreaterThan(before.sum);
  });

  it('answers /metrics only', async () => {
    const base = new URL(url);
    expect((await fetch(new URL('/', base))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${url}?name=x`)).status).toBe(200);
  });
});

describe('kvd serve without --metrics-port', () => {
  it('opens no HTTP listener', async () => {
    const dir = await makeTempDir('no-metrics');
    const server = await spawnServer(['--dir', dir, '--readers', '1']);
    try {
      expect(await listeningPorts(server.child.child.pid!)).toEqual([server.port]);
      expect(server.readyLine).not.toContain('metrics at');
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.child.exited).toEqual({ code: 0, signal: null });
    }
  });

  it('lists the metrics flags in --help', async () => {
    const child = new ChildLines(process.execPath, [CLI, 'serve', '--help']);
    const help = (await child.rest()).join(' ').replace(/\s+/g, ' ');
    expect((await child.exited).code).toBe(0);
    expect(help).toContain('--metrics-port <port>');
    expect(help).toContain('env: KVD_METRICS_PORT');
    expect(help).toContain('--metrics-host <address>');
    expect(help).toContain('env: KVD_METRICS_HOST');
  });
});

describe('a busy metrics port', () => {
  let taken: Server | undefined;
  afterAll(
    () => new Promise<void>((resolve) => (taken ? taken.close(() => resolve()) : resolve())),
  );

  it('stops kvd serve with EADDRINUSE naming the metrics address', async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken!.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const dir = await makeTempDir('metrics-busy');
    const child = serveChild(dir, '--metrics-port', String(port));
    expect((await child.exited).code).toBe(1);
    expect(child.stderr).toMatch(
      new RegExp(
        `^kvd serve: EADDRINUSE: cannot start on \\S+: cannot listen for metrics on 127\\.0\\.0\\.1:${port}: `,
      ),
    );
    expect(await child.rest()).toEqual([]); // never reported ready
  });

  it('refuses --metrics-host without --metrics-port', async () => {
    const dir = await makeTempDir('metrics-host');
    const child = serveChild(dir, '--metrics-host', '127.0.0.1');
    expect((await child.exited).code).toBe(1);
    expect(child.stderr).toContain('BAD_FLAGS: --metrics-host needs --metrics-port');
  });
});

/** `kvd serve` on a free port in `dir`, with `flags`, as a child process. */
function serveChild(dir: string, ...flags: string[]): ChildLines {
  return new ChildLines(process.execPath, [CLI, 'serve', '--port', '0', '--dir', dir, ...flags]);
}
