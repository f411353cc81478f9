// Tests MULTI, EXEC, DISCARD and UNWATCH over a real socket, byte for byte in RESP2 and RESP3:
// queueing (+QUEUED), replies in order, runtime errors inside EXEC's array, queueing errors that
// fail the transaction (EXECABORT), nesting and misuse errors, commands that cannot be queued,
// pipelined transactions ordered with the connection's other requests, and redis-cli.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisCli, startTestServer } from '../fixtures/kvd-server.js';
import { RespClient } from '../fixtures/resp-client.js';
import { removeTempDirs } from '../fixtures/temp-dir.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

let server: TestServer;
const clients: RespClient[] = [];

async function connect(): Promise<RespClient> {
  const client = await RespClient.connect(server.port);
  clients.push(client);
  return client;
}

/** Sends each command in turn, waiting for its reply; returns the raw replies. */
async function raw(client: RespClient, ...commands: string[][]): Promise<string[]> {
  const out: string[] = [];
  for (const command of commands) out.push((await client.call(...command)).raw);
  return out;
}

const EXECABORT = '-EXECABORT Transaction discarded because of previous errors.\r\n';

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await server.close();
  await removeTempDirs();
});

describe('MULTI and EXEC', () => {
  it('queues each command and answers all their replies, in order, at EXEC', async () => {
    const c = await connect();
    expect(
      await raw(
        c,
        ['MULTI'],
        ['SET', 'q:a', '1'],
        ['INCRBY', 'q:a', '41'],
        ['GET', 'q:a'],
        ['APPEND', 'q:b', 'xy'],
        ['DEL', 'q:a', 'q:none'],
        ['EXISTS', 'q:a', 'q:b'],
      ),
    ).toEqual(['+OK\r\n', ...Array(6).fill('+QUEUED\r\n')]);
    // Nothing is applied before EXEC.
    const other = await connect();
    expect((await other.call('EXISTS', 'q:b')).raw).toBe(':0\r\n');
    expect((await c.call('EXEC')).raw).toBe('*6\r\n+OK\r\n:42\r\n$2\r\n42\r\n:2\r\n:1\r\n:1\r\n');
    expect(await raw(other, ['GET', 'q:a'], ['GET', 'q:b'])).toEqual(['$-1\r\n', '$2\r\nxy\r\n']);
    // The transaction is over: the next command runs at once.
    expect((await c.call('GET', 'q:b')).raw).toBe('$2\r\nxy\r\n');
  });

  it('keeps runtime errors inside the array while the other commands apply', async () => {
    const c = await connect();
    await c.call('SET', 'r:text', 'abc');
    const queued = await raw(
      c,
      ['MULTI'],
      ['INCR', 'r:text'],
      ['SET', 'r:ok', '1'],
      ['MSET', 'r:x', '1', 'r:y'], // arity -3 holds; the odd count is MSET's own error
      ['PING', 'a', 'b'], // likewise
      ['SET', 'r:bad', 'v', 'EX', 'soon'],
      ['INCR', 'r:ok'],
    );
    expect(queued.slice(1)).toEqual(Array(6).fill('+QUEUED\r\n'));
    expect((await c.call('EXEC')).raw).toBe(
      '*6\r\n' +
        '-ERR value is not an integer or out of range\r\n' +
        '+OK\r\n' +
        "-ERR wrong number of arguments for 'mset' command\r\n" +
        "-ERR wrong number of arguments for 'ping' command\r\n" +
        '-ERR value is not an integer or out of range\r\n' +
        ':2\r\n',
    );
    expect(await raw(c, ['GET', 'r:text'], ['GET', 'r:ok'], ['EXISTS', 'r:x', 'r:bad'])).toEqual([
      '$3\r\nabc\r\n',
      '$1\r\n2\r\n',
      ':0\r\n',
    ]);
  });

  it('answers an empty transaction with an empty array, in RESP2 and RESP3', async () => {
    const c = await connect();
    expect(await raw(c, ['MULTI'], ['EXEC'])).toEqual(['+OK\r\n', '*0\r\n']);
    await c.call('HELLO', '3');
    expect(await raw(c, ['MULTI'], ['SET', 'e:k', 'v'], ['GET', 'e:k'], ['EXEC'])).toEqual([
      '+OK\r\n',
      '+QUEUED\r\n',
      '+QUEUED\r\n',
      '*2\r\n+OK\r\n$1\r\nv\r\n',
    ]);
  });
});

describe('INFO commandstats', () => {
  it('counts the commands EXEC ran, not the queueing, nor an aborted transaction', async () => {
    const c = await connect();
    await c.call('SET', 'cs:text', 'abc');
    await c.call('CONFIG', 'RESETSTAT');
    await raw(c, ['MULTI'], ['INCR', 'cs:n'], ['INCR', 'cs:text'], ['EXEC']);
    await raw(c, ['MULTI'], ['INCR', 'cs:n'], ['NOSUCH'], ['EXEC']);
    const info = (await c.call('INFO', 'commandstats')) as { value: Buffer };
    const stat = (name: string): string | undefined =>
      new RegExp(`cmdstat_${name}:calls=(\\d+),.*failed_calls=(\\d+)`)
        .exec(info.value.toString())
        ?.slice(1)
        .join('/');
    expect(stat('incr')).toBe('2/1');
    expect(stat('multi')).toBe('2/0');
  });
});

describe('errors while queueing fail the transaction', () => {
  it('an unknown command or a wrong arity: EXECABORT, and nothing applies', async () => {
    const c = await connect();
    expect(
      await raw(c, ['MULTI'], ['SET', 'f:a', '1'], ['NOSUCH', 'x'], ['SET', 'f:b', '2'], ['EXEC']),
    ).toEqual([
      '+OK\r\n',
      '+QUEUED\r\n',
      "-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n",
      '+QUEUED\r\n',
      EXECABORT,
    ]);
    expect(await raw(c, ['MULTI'], ['GET'], ['SET', 'f:c', '3'], ['EXEC'])).toEqual([
      '+OK\r\n',
      "-ERR wrong number of arguments for 'get' command\r\n",
      '+QUEUED\r\n',
      EXECABORT,
    ]);
    // So does a container's unknown subcommand, or a subcommand's wrong arity, as in Redis.
    expect(
      await raw(c, ['MULTI'], ['SET', 'f:e', '5'], ['OBJECT', 'BAD', 'f:e'], ['EXEC']),
    ).toEqual([
      '+OK\r\n',
      '+QUEUED\r\n',
      "-ERR unknown subcommand 'BAD'. Try OBJECT HELP.\r\n",
      EXECABORT,
    ]);
    for (const [command, error] of [
      [['OBJECT', 'ENCODING'], "-ERR wrong number of arguments for 'object|encoding' command\r\n"],
      [['CLIENT', 'NOSUCH'], "-ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.\r\n"],
      [['CONFIG', 'GET'], "-ERR wrong number of arguments for 'config|get' command\r\n"],
      [['COMMAND', 'COUNT', 'x'], "-ERR wrong number of arguments for 'command|count' command\r\n"],
    ] as const) {
      expect(await raw(c, ['MULTI'], [...command], ['EXEC'])).toEqual([
        '+OK\r\n',
        error,
        EXECABORT,
      ]);
    }
    // EXEC with an argument is refused as Redis refuses it, and discards the transaction.
    expect(await raw(c, ['MULTI'], ['SET', 'f:d', '4'], ['EXEC', 'now'], ['EXEC'])).toEqual([
      '+OK\r\n',
      '+QUEUED\r\n',
      "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n",
      '-ERR EXEC without MULTI\r\n',
    ]);
    expect((await c.call('EXISTS', 'f:a', 'f:b', 'f:c', 'f:d', 'f:e')).raw).toBe(':0\r\n');
    // EXECABORT ended the transaction.
    expect((await c.call('EXEC')).raw).toBe('-ERR EXEC without MULTI\r\n');
  });

  it('a command kvd cannot run in a transaction is refused when queued, never run', async () => {
    const c = await connect();
    await c.call('SET', 'n:k', 'v');
    for (const command of [['KEYS', '*'], ['FLUSHALL'], ['DBSIZE'], ['INFO'], ['HELLO', '3']]) {
      const replies = await raw(c, ['MULTI'], command, ['DEL', 'n:k'], ['EXEC']);
      expect(replies[1]).toBe(
        `-ERR Command not allowed inside a transaction (kvd does not queue '${command[0]!.toLowerCase()}' yet)\r\n`,
      );
      expect(replies.slice(2)).toEqual(['+QUEUED\r\n', EXECABORT]);
    }
    // SHUTDOWN is Redis's own no-multi command: its words, and the server keeps running.
    expect(await raw(c, ['MULTI'], ['SHUTDOWN'], ['EXEC'])).toEqual([
      '+OK\r\n',
      '-ERR Command not allowed inside a transaction\r\n',
      EXECABORT,
    ]);
    expect((await c.call('GET', 'n:k')).raw).toBe('$1\r\nv\r\n');
    expect((await c.call('PROTOCOL?')).raw).toMatch(/^-ERR unknown command/);
  });
});

describe('nesting and misuse', () => {
  it('MULTI and WATCH inside MULTI are errors that leave the transaction running', async () => {
    const c = await connect();
    expect(
      await raw(
        c,
        ['MULTI'],
        ['SET', 'm:a', '1'],
        ['MULTI'],
        ['WATCH', 'm:a'],
        ['GET', 'm:a'],
        ['EXEC'],
      ),
    ).toEqual([
      '+OK\r\n',
      '+QUEUED\r\n',
      '-ERR MULTI calls can not be nested\r\n',
      '-ERR WATCH inside MULTI is not allowed\r\n',
      '+QUEUED\r\n',
      '*2\r\n+OK\r\n$1\r\n1\r\n',
    ]);
  });

  it('EXEC and DISCARD without MULTI; DISCARD drops the queued commands', async () => {
    const c = await connect();
    expect(await raw(c, ['EXEC'], ['DISCARD'])).toEqual([
      '-ERR EXEC without MULTI\r\n',
      '-ERR DISCARD without MULTI\r\n',
    ]);
    expect(
      await raw(c, ['MULTI'], ['SET', 'd:a', '1'], ['DISCARD'], ['GET', 'd:a'], ['EXEC']),
    ).toEqual(['+OK\r\n', '+QUEUED\r\n', '+OK\r\n', '$-1\r\n', '-ERR EXEC without MULTI\r\n']);
  });

  it('UNWATCH inside MULTI is queued and answers OK in the array', async () => {
    const c = await connect();
    expect(await raw(c, ['MULTI'], ['UNWATCH'], ['PING'], ['ECHO', 'hi'], ['EXEC'])).toEqual([
      '+OK\r\n',
      '+QUEUED\r\n',
      '+QUEUED\r\n',
      '+QUEUED\r\n',
      '*3\r\n+OK\r\n+PONG\r\n$2\r\nhi\r\n',
    ]);
  });

  it('CLIENT, SELECT and COMMAND are queued and act at EXEC', async () => {
    const c = await connect();
    expect(
      await raw(
        c,
        ['MULTI'],
        ['CLIENT', 'SETNAME', 'in-tx'],
        ['CLIENT', 'GETNAME'],
        ['SELECT', '0'],
        ['SELECT', '1'],
        ['COMMAND', 'INFO', 'multi'],
      ),
    ).toEqual(['+OK\r\n', ...Array(5).fill('+QUEUED\r\n')]);
    const exec = await c.call('EXEC');
    expect(exec.type === 'array' && exec.value!.map((r) => r.raw).slice(0, 4)).toEqual([
      '+OK\r\n',
      '$5\r\nin-tx\r\n',
      '+OK\r\n',
      '-ERR DB index is out of range\r\n',
    ]);
    expect((await c.call('CLIENT', 'GETNAME')).raw).toBe('$5\r\nin-tx\r\n');
  });

  it('QUIT inside MULTI closes the connection and runs nothing', async () => {
    const c = await connect();
    c.command('MULTI');
    c.command('SET', 'quit:k', 'v');
    c.command('QUIT');
    expect(await c.rest()).toBe('+OK\r\n+QUEUED\r\n+OK\r\n');
    const other = await connect();
    expect((await other.call('EXISTS', 'quit:k')).raw).toBe(':0\r\n');
  });
});

describe('pipelined transactions', () => {
  it('see every earlier write of the connection, and later requests see theirs', async () => {
    const c = await connect();
    const script = [
      ['SET', 'p:n', '1'],
      ['MULTI'],
      ['INCR', 'p:n'],
      ['GET', 'p:n'],
      ['EXEC'],
      ['GET', 'p:n'],
      ['MULTI'],
      ['INCRBY', 'p:n', '10'],
      ['EXEC'],
      ['MULTI'],
      ['GET', 'p:n'],
      ['EXEC'],
      ['INCR', 'p:n'],
      ['GET', 'p:n'],
    ];
    for (const command of script) c.command(...command);
    const replies: string[] = [];
    for (let i = 0; i < script.length; i++) replies.push((await c.reply()).raw);
    expect(replies).toEqual([
      '+OK\r\n',
      '+OK\r\n',
      '+QUEUED\r\n',
      '+QUEUED\r\n',
      '*2\r\n:2\r\n$1\r\n2\r\n',
      '$1\r\n2\r\n',
      '+OK\r\n',
      '+QUEUED\r\n',
      '*1\r\n:12\r\n',
      '+OK\r\n',
      '+QUEUED\r\n',
      '*1\r\n$2\r\n12\r\n',
      ':13\r\n',
      '$2\r\n13\r\n',
    ]);
  });
});

describe('redis-cli', () => {
  it('runs a transaction, a refused one and an aborted one', async () => {
    const out = await redisCli(
      server.port,
      [],
      [
        'MULTI',
        'SET cli:a 1',
        'INCR cli:a',
        'EXEC',
        'MULTI',
        'SET cli:b 1',
        'NOSUCH',
        'EXEC',
        'WATCH cli:a',
        'SET cli:a 5',
        'MULTI',
        'GET cli:a',
        'EXEC',
        'GET cli:b',
      ].join('\n'),
    );
    expect(out.split('\n')).toEqual([
      'OK',
      'QUEUED',
      'QUEUED',
      'OK',
      '2',
      'OK',
      'QUEUED',
      "ERR unknown command 'NOSUCH', with args beginning with: ",
      '',
      'EXECABORT Transaction discarded because of previous errors.',
      '',
      'OK',
      'OK',
      'OK',
      'QUEUED',
      '', // the aborted EXEC: nil
      '', // cli:b was never set
      '',
    ]);
  });
});
