// Tests the daemon with real clients over real sockets: redis-cli for the everyday commands and
// Redis's exact error texts, ioredis for pipelining, binary values, limits, AUTH, SELECT and
// CLIENT, plus RESP3, TLS, the Unix socket, and the client-count and idle limits; and the
// daemon started in-process from the `kvd/server` subpath.

import { spawnSync } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../dist/main/server/index.js';
import { redisCli, startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { RespClient } from '../fixtures/resp-client.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';
import { selfSignedCert } from '../fixtures/tls-cert.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

const clients: Redis[] = [];
function ioredis(port: number, options: RedisOptions = {}): Redis {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, ...options });
  clients.push(client);
  return client;
}

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

describe('kvd serve with redis-cli', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
    await removeTempDirs();
  });

  it('answers PING, SET, GET, DEL, EXISTS, MGET and MSET like Redis', async () => {
    const cli = (...args: string[]) => redisCli(server.port, args);
    expect(await cli('PING')).toBe('PONG\n');
    expect(await cli('SET', 'greeting', 'hello world')).toBe('OK\n');
    expect(await cli('GET', 'greeting')).toBe('hello world\n');
    expect(await cli('MSET', 'a', '1', 'b', '2', 'c', '3')).toBe('OK\n');
    expect(await cli('MGET', 'a', 'missing', 'c')).toBe('1\n\n3\n');
    expect(await cli('EXISTS', 'a', 'a', 'missing', 'b')).toBe('3\n');
    expect(await cli('DEL', 'a', 'b', 'missing', 'a')).toBe('2\n');
    expect(await cli('EXISTS', 'a', 'b')).toBe('0\n');
    expect(await cli('GET', 'a')).toBe('\n');
    expect(await cli('STRLEN', 'greeting')).toBe('11\n');
    expect(await cli('TYPE', 'greeting')).toBe('string\n');
    expect(await cli('TYPE', 'a')).toBe('none\n');
    expect(await cli('ECHO', 'x y')).toBe('x y\n');
  });

  it('answers INFO with Redis-style sections, and DBSIZE', async () => {
    await redisCli(server.port, ['MSET', 'info:1', 'x', 'info:2', 'y']);
    const keys = Number((await redisCli(server.port, ['DBSIZE'])).trim());
    expect(keys).toBeGreaterThanOrEqual(2);
    const info = await redisCli(server.port, ['INFO']);
    for (const section of ['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Keyspace']) {
      expect(info).toContain(`# ${section}\r\n`);
    }
    expect(info).toMatch(/redis_version:\d+\.\d+\.\d+\r\n/);
    expect(info).toContain('loading:0\r\n');
    expect(info).toContain(`tcp_port:${server.port}\r\n`);
    expect(info).toContain(`db0:keys=${keys},expires=0,avg_ttl=0\r\n`);
    const keyspace = await redisCli(server.port, ['INFO', 'keyspace']);
    expect(keyspace).toBe(`# Keyspace\r\ndb0:keys=${keys},expires=0,avg_ttl=0\r\n`);
  });

  it("gives Redis's exact errors for unknown commands and wrong arity, and stays usable", async () => {
    // One redis-cli session, one connection: the commands after the errors still work. (In
    // raw mode redis-cli prints an empty line after each error, with Redis too.)
    const out = await redisCli(
      server.port,
      [],
      'SET k v\nfoo a b\nget\nGET k a\nGET k\nNOSUCH\nPING\n',
    );
    expect(out).toBe(
      [
        'OK',
        "ERR unknown command 'foo', with args beginning with: 'a' 'b' ",
        '',
        "ERR wrong number of arguments for 'get' command",
        '',
        "ERR wrong number of arguments for 'get' command",
        '',
        'v',
        "ERR unknown command 'NOSUCH', with args beginning with: ",
        '',
        'PONG',
        '',
      ].join('\n'),
    );
    // The client's bytes are echoed as they came, as Redis does, even where they are not UTF-8,
    // and the 128-byte limits count bytes.
    const raw = await RespClient.connect(server.port);
    const name = Buffer.from([0xbf, 0x41]);
    const reply = await raw.call(name, Buffer.from([0xc3, 0x28]), 'é'.repeat(100));
    expect(Buffer.from(reply.raw, 'latin1')).toEqual(
      Buffer.concat([
        Buffer.from("-ERR unknown command '"),
        name,
        Buffer.from("', with args beginning with: '"),
        Buffer.from([0xc3, 0x28]),
        Buffer.from("' '"),
        // 123 bytes, 128 with the first argument's quotes: 61 é and the first byte of the next.
        Buffer.from('é'.repeat(61)),
        Buffer.from([0xc3]),
        Buffer.from("' \r\n"),
      ]),
    );
    expect((await raw.call('CLIENT', Buffer.from([0xff]))).raw).toBe(
      "-ERR unknown subcommand '\u00ff'. Try CLIENT HELP.\r\n",
    );
    raw.close();
  });

  it('answers COMMAND (GETKEYS too), CONFIG GET, SELECT and STATS', async () => {
    const count = Number((await redisCli(server.port, ['COMMAND', 'COUNT'])).trim());
    expect(count).toBeGreaterThan(15);
    expect(await redisCli(server.port, ['COMMAND', 'DOCS', 'nosuch'])).toBe('\n');
    const info = await redisCli(server.port, ['COMMAND', 'INFO', 'get', 'nosuch']);
    expect(info.split('\n').slice(0, 3)).toEqual(['get', '2', 'readonly']);
    expect(await redisCli(server.port, ['FLUSHALL', 'BOGUS'])).toBe('ERR syntax error\n\n');
    expect(await redisCli(server.port, ['CONFIG', 'GET', 'append*'])).toBe(
      'appendonly\nyes\nappendfsync\neverysec\n',
    );
    expect(await redisCli(server.port, ['CONFIG', 'SET', 'x', 'y'])).toBe(
      "ERR Unknown option or number of arguments for CONFIG SET - 'x'\n\n",
    );
    // kvd evicts nothing: what job queues (BullMQ) check before they trust a server.
    expect(await redisCli(server.port, ['CONFIG', 'GET', 'maxmemory*'])).toBe(
      'maxmemory\n0\nmaxmemory-policy\nnoeviction\n',
    );
    expect(await redisCli(server.port, ['INFO', 'memory'])).toMatch(
      /\r\nmaxmemory_policy:noeviction\r\n/,
    );
    // COMMAND GETKEYS: the key positions, as cluster clients route by them.
    expect(await redisCli(server.port, ['COMMAND', 'GETKEYS', 'MSET', 'a', '1', 'b', '2'])).toBe(
      'a\nb\n',
    );
    expect(await redisCli(server.port, ['COMMAND', 'GETKEYS', 'OBJECT', 'ENCODING', 'k'])).toBe(
      'k\n',
    );
    for (const [request, error] of [
      [['NOSUCH', 'a'], 'Invalid command specified'],
      [['PING', 'a'], 'The command has no key arguments'],
      [['GET', 'a', 'b'], 'Invalid number of arguments specified for command'],
    ] as const) {
      expect(await redisCli(server.port, ['COMMAND', 'GETKEYS', ...request])).toBe(
        `ERR ${error}\n\n`,
      );
    }
    expect(await redisCli(server.port, ['SELECT', '0'])).toBe('OK\n');
    expect(await redisCli(server.port, ['SELECT', '1'])).toBe('ERR DB index is out of range\n\n');
    const stats = JSON.parse(await redisCli(server.port, ['STATS'])) as { keys: number };
    expect(stats.keys).toBeGreaterThan(0);
  });

  it('speaks RESP3 with redis-cli -3', async () => {
    await redisCli(server.port, ['SET', 'r3', 'v']);
    const out = await redisCli(server.port, ['-3', 'HELLO', '3']);
    expect(out).toContain('proto 3\n');
    expect(await redisCli(server.port, ['-3', 'GET', 'r3'])).toBe('v\n');
  });
});

describe('kvd serve with ioredis', () => {
  let server: TestServer;
  beforeAll(async () => {
    // maxPendingReplies below the pipeline's length: parsing must stop and resume.
    server = await startTestServer({
      store: { maxValueBytes: 1024 * 1024 },
      maxPendingReplies: 64,
    });
  });
  afterAll(async () => {
    await server.close();
    await removeTempDirs();
  });

  it('answers a pipeline of 1,000 commands in order', async () => {
    const redis = ioredis(server.port);
    const pipeline = redis.pipeline();
    const expected: unknown[] = [];
    const model = new Map<string, string>();
    for (let i = 0; i < 1000; i++) {
      const key = `p:${i % 37}`;
      switch (i % 5) {
        case 0:
        case 1:
          pipeline.set(key, `v${i}`);
          model.set(key, `v${i}`);
          expected.push('OK');
          break;
        case 2:
          pipeline.get(key);
          expected.push(model.get(key) ?? null);
          break;
        case 3:
          pipeline.exists(key);
          expected.push(model.has(key) ? 1 : 0);
          break;
        default:
          pipeline.del(key);
          expected.push(model.delete(key) ? 1 : 0);
      }
    }
    const results = await pipeline.exec();
    expect(results).not.toBeNull();
    expect(results!.map(([error]) => error)).toEqual(expected.map(() => null));
    expect(results!.map(([, value]) => value)).toEqual(expected);

    // All of one kind: they settle together, and parsing must resume after the limit.
    const sets = redis.pipeline();
    for (let i = 0; i < 300; i++) sets.set(`same:${i}`, String(i));
    expect((await sets.exec())!.every(([e, v]) => e === null && v === 'OK')).toBe(true);
  });

  it('never lets a pipelined GET see a later SET, nor miss an earlier one', async () => {
    const redis = ioredis(server.port);
    await redis.set('order', 'old');
    const results = await redis
      .pipeline()
      .get('order')
      .set('order', 'new')
      .get('order')
      .del('order')
      .get('order')
      .exec();
    expect(results!.map(([, v]) => v)).toEqual(['old', 'OK', 'new', 1, null]);
  });

  it('stores binary keys and values with CR, LF and NUL bytes exactly', async () => {
    const redis = ioredis(server.port);
    const key = Buffer.from([0, 13, 10, 36, 42, 255, 0]);
    const value = Buffer.from('\r\n$5\r\nhello\0\r\n*1\r\n\0\xff', 'latin1');
    expect(await redis.set(key, value)).toBe('OK');
    expect(await redis.getBuffer(key)).toEqual(value);
    expect(await redis.strlen(key)).toBe(value.length);
    const [a, b] = await redis.mgetBuffer(key, 'nothing');
    expect(a).toEqual(value);
    expect(b).toBeNull();
    expect(await redis.set('empty', '')).toBe('OK');
    expect(await redis.getBuffer('empty')).toEqual(Buffer.alloc(0));
  });

  it('accepts values up to maxValueBytes and refuses larger ones with KV_VALUE_TOO_LARGE', async () => {
    const redis = ioredis(server.port);
    const limit = 1024 * 1024;
    const atLimit = Buffer.alloc(limit, 7);
    atLimit[0] = 13;
    atLimit[limit - 1] = 0;
    expect(await redis.set('big', atLimit)).toBe('OK');
    // Buffer.equals: vitest's deep equality walks a 1 MiB buffer slowly.
    expect((await redis.getBuffer('big'))!.equals(atLimit)).toBe(true);
    await expect(redis.set('big', Buffer.alloc(limit + 1, 1))).rejects.toThrow(
      /^KV_VALUE_TOO_LARGE /,
    );
    await expect(redis.mset('ok', '1', 'big', Buffer.alloc(limit + 1))).rejects.toThrow(
      /^KV_VALUE_TOO_LARGE /,
    );
    expect(await redis.exists('ok')).toBe(0); // MSET is all or nothing
    expect((await redis.getBuffer('big'))!.length).toBe(limit);
  });

  it('names the connection (CLIENT SETNAME/GETNAME/ID/INFO) and selects db 0 only', async () => {
    const redis = ioredis(server.port, { connectionName: 'worker-1' });
    expect(await redis.client('GETNAME')).toBe('worker-1');
    expect(await redis.client('SETNAME', 'worker-2')).toBe('OK');
    expect(await redis.client('GETNAME')).toBe('worker-2');
    const id = Number(await redis.client('ID'));
    expect(id).toBeGreaterThan(0);
    const other = ioredis(server.port);
    expect(Number(await other.client('ID'))).not.toBe(id);
    expect(await other.client('GETNAME')).toBeNull();
    await expect(redis.client('SETNAME', 'two words')).rejects.toThrow(/cannot contain spaces/);
    await expect(redis.call('CLIENT', 'NOPE')).rejects.toThrow(
      "ERR unknown subcommand 'NOPE'. Try CLIENT HELP.",
    );
    // CLIENT INFO: this client's CLIENT LIST line.
    const line = String(await redis.call('CLIENT', 'INFO'));
    expect(line).toMatch(new RegExp(`^id=${id} addr=127\\.0\\.0\\.1:\\d+ .* name=worker-2 .*\\n$`));
    expect(await redis.call('CLIENT', 'NO-EVICT', 'on')).toBe('OK'); // kvd evicts no client
    await expect(redis.call('CLIENT', 'NO-EVICT', 'maybe')).rejects.toThrow('ERR syntax error');
    expect(await redis.select(0)).toBe('OK');
    await expect(redis.select(3)).rejects.toThrow('ERR DB index is out of range');
    await expect(redis.call('SELECT', 'x')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
  });

  it('stores SET expiries: EX/PX in the future, EXAT/PXAT in the past delete', async () => {
    const redis = ioredis(server.port);
    expect(await redis.set('ttl:ex', 'v', 'EX', 100)).toBe('OK');
    expect(await redis.get('ttl:ex')).toBe('v');
    await redis.set('ttl:past', 'v');
    expect(await redis.call('SET', 'ttl:past', 'w', 'PXAT', '1')).toBe('OK');
    expect(await redis.get('ttl:past')).toBeNull();
    expect(await redis.call('SET', 'ttl:exat', 'v', 'EXAT', String(2 ** 31))).toBe('OK');
    expect(await redis.get('ttl:exat')).toBe('v');
    expect(await redis.set('ttl:px', 'v', 'PX', 1)).toBe('OK');
    // The key expires 1 ms later; poll (bounded) rather than sleep.
    await pollUntil('ttl:px has expired', async () => (await redis.get('ttl:px')) === null, 10_000);
    expect(await redis.get('ttl:px')).toBeNull();
    await expect(redis.call('SET', 'k', 'v', 'EX', '0')).rejects.toThrow(
      "ERR invalid expire time in 'set' command",
    );
    await expect(redis.call('SET', 'k', 'v', 'EX', 'soon')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    await expect(redis.call('SET', 'k', 'v', 'EX', '1', 'PX', '1')).rejects.toThrow(
      'ERR syntax error',
    );
  });
});

describe('kvd serve security and limits', () => {
  afterAll(removeTempDirs);

  it('requires AUTH with --requirepass: NOAUTH before, WRONGPASS for a bad password', async () => {
    const server = await startTestServer({ requirepass: 's3cret' });
    try {
      const anonymous = ioredis(server.port, { enableReadyCheck: false });
      await expect(anonymous.get('k')).rejects.toThrow('NOAUTH Authentication required.');
      await expect(anonymous.set('k', 'v')).rejects.toThrow('NOAUTH Authentication required.');
      expect(await anonymous.ping().catch((e: Error) => e.message)).toBe(
        'NOAUTH Authentication required.',
      );
      await expect(anonymous.auth('wrong')).rejects.toThrow(
        'WRONGPASS invalid username-password pair or user is disabled.',
      );
      await expect(anonymous.auth('nobody', 's3cret')).rejects.toThrow(/^WRONGPASS/);
      expect(await anonymous.auth('s3cret')).toBe('OK');
      expect(await anonymous.set('k', 'v')).toBe('OK');

      const good = ioredis(server.port, { password: 's3cret' });
      expect(await good.get('k')).toBe('v');
      const user = ioredis(server.port, { username: 'default', password: 's3cret' });
      expect(await user.get('k')).toBe('v');

      const raw = await RespClient.connect(server.port);
      expect((await raw.call('HELLO', '3')).raw).toMatch(/^-NOAUTH HELLO must be called/);
      const hello = await raw.call('HELLO', '3', 'AUTH', 'default', 's3cret', 'SETNAME', 'h');
      expect(hello.type).toBe('map');
      expect((await raw.call('CLIENT', 'GETNAME')).raw).toBe('$1\r\nh\r\n');
      raw.close();

      // Before AUTH only tiny requests are parsed, as in Redis.
      const big = await RespClient.connect(server.port);
      big.send(`*11\r\n`);
      expect(await big.rest()).toBe('-ERR Protocol error: unauthenticated multibulk length\r\n');
    } finally {
      await server.close();
    }
  });

  it('answers AUTH without a configured password like Redis', async () => {
    const server = await startTestServer();
    try {
      const raw = await RespClient.connect(server.port);
      expect((await raw.call('AUTH', 'x')).raw).toMatch(
        /^-ERR AUTH <password> called without any password configured/,
      );
      expect((await raw.call('AUTH', 'default', 'x')).raw).toBe('+OK\r\n');
      raw.close();
    } finally {
      await server.close();
    }
  });

  it('speaks RESP3 after HELLO 3: maps, sets, nulls, and back to RESP2 with HELLO 2', async () => {
    const server = await startTestServer();
    try {
      const raw = await RespClient.connect(server.port);
      expect((await raw.call('GET', 'none')).raw).toBe('$-1\r\n');
      const hello = await raw.call('HELLO', '3');
      expect(hello.type).toBe('map');
      const fields = new Map(
        (hello.type === 'map' ? hello.value : []).map(([k, v]) => [
          k.type === 'bulk' ? k.value.toString() : '?',
          v,
        ]),
      );
      expect(fields.get('proto')).toMatchObject({ type: 'integer', value: 3 });
      expect(fields.get('server')).toMatchObject({ type: 'bulk' });
      expect([...fields.keys()]).toEqual([
        'server',
        'version',
        'proto',
        'id',
        'mode',
        'role',
        'modules',
      ]);
      expect((await raw.call('GET', 'none')).raw).toBe('_\r\n');
      expect((await raw.call('MGET', 'none', 'none')).raw).toBe('*2\r\n_\r\n_\r\n');
      expect((await raw.call('COMMAND', 'DOCS', 'nosuch')).raw).toBe('%0\r\n');
      // COMMAND INFO's lists are sets, as Redis 7 sends them (byte for byte for GET).
      expect((await raw.call('COMMAND', 'INFO', 'get')).raw).toBe(
        '*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n' +
          '~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n' +
          '+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n' +
          '%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n' +
          '$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n' +
          ':0\r\n~0\r\n',
      );
      expect((await raw.call('HELLO', '4')).raw).toBe('-NOPROTO unsupported protocol version\r\n');
      expect((await raw.call('HELLO', 'x')).raw).toBe(
        '-ERR Protocol version is not an integer or out of range\r\n',
      );
      expect((await raw.call('HELLO', '3', 'BOGUS')).raw).toBe(
        "-ERR Syntax error in HELLO option 'BOGUS'\r\n",
      );
      expect((await raw.call('HELLO', '2')).raw.startsWith('*14\r\n')).toBe(true);
      expect((await raw.call('GET', 'none')).raw).toBe('$-1\r\n');
      raw.close();
    } finally {
      await server.close();
    }
  });

  it('refuses clients past --max-clients with a clear error', async () => {
    const server = await startTestServer({ maxClients: 1 });
    try {
      const first = await RespClient.connect(server.port);
      expect((await first.call('PING')).raw).toBe('+PONG\r\n');
      const second = await RespClient.connect(server.port);
      expect(await second.rest()).toBe('-ERR max number of clients reached\r\n');
      expect((await first.call('PING')).raw).toBe('+PONG\r\n');
      first.close();
    } finally {
      await server.close();
    }
  });

  it('closes a client idle past --idle-timeout', async () => {
    const server = await startTestServer({ idleTimeoutSeconds: 1 });
    try {
      const idle = await RespClient.connect(server.port);
      expect((await idle.call('PING')).raw).toBe('+PONG\r\n');
      expect(await idle.rest()).toBe(''); // the server closes it; no reply
    } finally {
      await server.close();
    }
  });

  it('serves TLS on TCP with --tls-cert/--tls-key, and plain RESP on a Unix socket', async () => {
    const dir = await makeTempDir('tls');
    const { cert, key } = await selfSignedCert(dir);
    const unixPath = join(dir, 'kvd.sock');
    const server = await startTestServer({
      tls: { cert, key },
      unixPath,
    });
    try {
      const secure = ioredis(server.port, {
        tls: { ca: cert, servername: 'localhost', rejectUnauthorized: false },
      });
      expect(await secure.set('tls', 'yes')).toBe('OK');
      expect(await secure.get('tls')).toBe('yes');
      const local = ioredis(0, { path: unixPath });
      expect(await local.get('tls')).toBe('yes');
      const plain = await RespClient.connect(server.port);
      plain.send('PING\r\n');
      expect(await plain.rest()).not.toContain('PONG'); // not TLS: refused
    } finally {
      await server.close();
    }
  });
});

describe('the kvd/server subpath', () => {
  it('starts the daemon in-process from the package exports, silent, and lists every client', async () => {
    const dir = await makeTempDir('server-subpath');
    // A protocol error and a closed client would each log a line if the server logged unasked.
    const script = `
      import { connect } from 'node:net';
      import { startServer } from 'kvd/server';
      const server = await startServer({
        dir: process.argv[1], port: 0, networkThreads: 2, store: { readers: 1 },
      });
      const sockets = [];
      for (let i = 0; i < 2; i++) {
        const socket = connect(server.port, '127.0.0.1');
        sockets.push(socket);
        await new Promise((answered) => {
          socket.once('data', answered);
          socket.write('*2\\r\\n$3\\r\\nGET\\r\\n$1\\r\\nx\\r\\n');
        });
      }
      const threads = (await server.allClients()).map((c) => c.thread).sort();
      console.log(threads.join(','), server.clients().length);
      const bad = connect(server.port, '127.0.0.1');
      await new Promise((closed) => {
        bad.on('data', () => {}).once('close', closed);
        bad.write('*1\\r\\n$x\\r\\n');
      });
      for (const socket of sockets) socket.destroy();
      await server.close();`;
    const run = spawnSync(
      process.execPath,
      ['--input-type=module', '--eval', script, join(dir, 'db')],
      {
        cwd: join(import.meta.dirname, '../..'),
        encoding: 'utf8',
        env: { ...process.env, KVD_LOG_LEVEL: 'debug' }, // kvd's own lines, were any written
      },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('0,1 1');
    expect(run.status).toBe(0);
  });

  it("logs to the logger it is given, the store's lines with its own", async () => {
    const lines: { level: string; component: unknown; message: string | undefined }[] = [];
    const record =
      (level: string) =>
      (fields: object | string, message?: string): void => {
        const object = typeof fields === 'string' ? {} : fields;
        const text = typeof fields === 'string' ? fields : message;
        lines.push({
          level,
          component: (object as { component?: unknown }).component,
          message: text,
        });
      };
    const logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    const server = await startTestServer({ logger });
    try {
      const client = await RespClient.connect(server.port);
      client.send('*1\r\n$x\r\n');
      expect(await client.rest()).toMatch(/^-ERR Protocol error/);
      await pollUntil(
        'the protocol error is logged',
        () => lines.some((l) => l.message === 'protocol error; closing the connection'),
        5_000,
      );
    } finally {
      await server.close();
    }
    const said = lines.map((l) => `${l.component}: ${l.message}`);
    expect(said).toContain('server: kvd serving');
    expect(said).toContain('store: store opened');
    expect(said).toContain('server: kvd stopped');
  });

  it('leaves nothing open after a start that failed to listen', async () => {
    const dir = await makeTempDir('server-busy-port');
    const taken = createServer();
    await new Promise<void>((listening) => taken.listen(0, '127.0.0.1', listening));
    const port = (taken.address() as AddressInfo).port;
    try {
      await expect(startServer({ dir, port, networkThreads: 2 })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
      await expect(startServer({ dir, port: 0, metrics: { port } })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      taken.close();
    }
    const server = await startServer({ dir, port: 0 }); // not KV_LOCKED: the store was closed
    await server.close();
  });

  it('refuses an option it does not know, or a bad value, naming it, with nothing opened', async () => {
    const dir = await makeTempDir('server-options');
    const refused: [object, string][] = [
      [{ bogus: 1 }, 'unknown option bogus (the options are dir, host, port,'],
      [{ tls: { cert: 'c', key: 'k', passphrase: 'p' } }, 'unknown option tls.passphrase'],
      [{ replication: { backlogSize: 1 } }, 'unknown option replication.backlogSize'],
      [{ metrics: { port: 0, path: '/m' } }, 'unknown option metrics.path'],
      [{ maxClients: 0 }, 'maxClients must be an integer from 1 to 1000000 (got 0)'],
      [{ maxClients: 'x' }, 'maxClients must be an integer'],
      [{ idleTimeoutSeconds: -5 }, 'idleTimeoutSeconds must be an integer from 0'],
      [{ maxPendingReplies: 1.5 }, 'maxPendingReplies must be an integer'],
      [{ port: 70_000 }, 'port must be an integer from 0 to 65535'],
      [{ host: 5 }, 'host must be a string'],
      [{ requirepass: 5 }, 'requirepass must be a string'],
      [{ limits: { maxBulkBytes: -1 } }, 'limits.maxBulkBytes must be an integer from 1'],
      [{ backupBytesPerSecond: -1 }, 'backupBytesPerSecond must be an integer from 0'],
      [
        { replication: { backlogBytes: 10 } },
        'replication.backlogBytes must be an integer from 16384',
      ],
      [
        { replication: { replicaBufferLimit: { hardBytes: 1 } } },
        'replication.replicaBufferLimit.softBytes is required',
      ],
      [{ metrics: { port: -3 } }, 'metrics.port must be an integer from 0 to 65535'],
      [{ replicaOf: { host: 'h', port: 'p' } }, 'replicaOf.port must be an integer from 1'],
      [{ tls: { cert: 1, key: 'k' } }, 'tls.cert must be a string or a Buffer'],
      [{ logger: {} }, 'logger must be true, false or an object with debug, info, warn and error'],
      [{ loneClients: 'never' }, "loneClients must be 'when-cores-busy' or 'always'"],
      [{ store: { bogus: 1 } }, 'unknown option bogus'], // the Store's own check, after this one
    ];
    for (const [options, message] of refused) {
      await expect(
        startServer({ dir, port: 0, ...options } as Parameters<typeof startServer>[0]),
      ).rejects.toMatchObject({
        code: 'KV_INVALID_ARGUMENT',
        message: expect.stringContaining(message),
      });
    }
    // Nothing was left open: the directory is free for the next server.
    const server = await startServer({ dir, port: 0 });
    await server.close();
  });
});
