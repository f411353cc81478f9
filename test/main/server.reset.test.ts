// Tests RESET with a raw RESP client over a real socket: it ends the transaction and the watch,
// leaves every channel and pattern, returns to RESP2, drops the name, makes the client
// authenticate again when a password is required (with the pre-AUTH request limits), and acts at
// once inside MULTI, answering `+RESET` as Redis 6.2+ does.

import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../fixtures/kvd-server.js';
import { RespClient } from '../fixtures/resp-client.js';
import { removeTempDirs } from '../fixtures/temp-dir.js';

afterAll(removeTempDirs);

/** The raw replies to `commands`, sent one at a time. */
async function raw(client: RespClient, ...commands: string[][]): Promise<string[]> {
  const out: string[] = [];
  for (const command of commands) out.push((await client.call(...command)).raw);
  return out;
}

describe('RESET', () => {
  it('puts the connection back as it connected: no transaction, watch, channel, name or RESP3', async () => {
    const server = await startTestServer();
    const c = await RespClient.connect(server.port);
    const other = await RespClient.connect(server.port);
    try {
      expect(
        await raw(c, ['CLIENT', 'SETNAME', 'before'], ['WATCH', 'w'], ['MULTI'], ['SET', 'q', '1']),
      ).toEqual(['+OK\r\n', '+OK\r\n', '+OK\r\n', '+QUEUED\r\n']);
      // Inside MULTI it acts at once: the queued SET never runs.
      expect(await raw(c, ['RESET'], ['EXEC'], ['GET', 'q'], ['CLIENT', 'GETNAME'])).toEqual([
        '+RESET\r\n',
        '-ERR EXEC without MULTI\r\n',
        '$-1\r\n',
        '$-1\r\n',
      ]);
      // The watch on w is gone: a change to w no longer aborts the next transaction.
      expect(await raw(c, ['WATCH', 'w'], ['RESET'])).toEqual(['+OK\r\n', '+RESET\r\n']);
      await other.call('SET', 'w', 'changed');
      expect(await raw(c, ['MULTI'], ['SET', 'q', '2'], ['EXEC'])).toEqual([
        '+OK\r\n',
        '+QUEUED\r\n',
        '*1\r\n+OK\r\n',
      ]);
      // RESP3 and subscriptions: back to RESP2, listening to nothing, every command allowed.
      expect((await c.call('HELLO', '3')).type).toBe('map');
      await c.call('SUBSCRIBE', 'ch');
      await c.call('PSUBSCRIBE', 'p*');
      expect((await other.call('PUBLISH', 'ch', 'm')).raw).toBe(':1\r\n');
      await c.reply(); // the message
      expect(await raw(c, ['RESET'], ['GET', 'missing'])).toEqual(['+RESET\r\n', '$-1\r\n']);
      expect(await raw(other, ['PUBLISH', 'ch', 'm'], ['PUBLISH', 'px', 'm'])).toEqual([
        ':0\r\n',
        ':0\r\n',
      ]);
      expect((await c.call('RESET', 'x')).raw).toBe(
        "-ERR wrong number of arguments for 'reset' command\r\n",
      );
    } finally {
      c.close();
      other.close();
      await server.close();
    }
  });

  it('makes the client authenticate again when a password is required', async () => {
    const server = await startTestServer({ requirepass: 's3cret' });
    try {
      const c = await RespClient.connect(server.port);
      expect(await raw(c, ['AUTH', 's3cret'], ['SET', 'k', 'v'], ['RESET'], ['GET', 'k'])).toEqual([
        '+OK\r\n',
        '+OK\r\n',
        '+RESET\r\n',
        '-NOAUTH Authentication required.\r\n',
      ]);
      // And only tiny requests are parsed again until AUTH, as for a new client.
      c.send('*11\r\n');
      expect(await c.rest()).toBe('-ERR Protocol error: unauthenticated multibulk length\r\n');
    } finally {
      await server.close();
    }
  });
});
