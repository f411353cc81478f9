// Tests WATCH: EXEC aborts (RESP2 *-1, RESP3 _) when a watched key changed since WATCH — written
// or deleted by another client or by the same one, flushed, or expired — and runs otherwise;
// UNWATCH, EXEC, DISCARD and EXECABORT unwatch; ioredis (exec() resolves null) and node-redis
// (exec() rejects with WatchError). Also the commit-time check: a write landing between EXEC's
// evaluation and its batch aborts a watched transaction and re-evaluates an unwatched one.

import { createClient, WatchError } from 'redis';
import { describe, expect, it } from 'vitest';
import { ClientSession } from '../../dist/main/server/client-session.js';
import type { CommandContext, ServerContext } from '../../dist/main/server/command-context.js';
import { CommandStats } from '../../dist/main/server/command-stats.js';
import { runTransaction } from '../../dist/main/server/commands/transactions/transaction-runner.js';
import { bulk } from '../../dist/main/server/resp-value.js';
import { pollUntil } from '../fixtures/poll.js';
import { RespClient } from '../fixtures/resp-client.js';
import { useSharedServer } from '../fixtures/shared-server.js';

const shared = useSharedServer();

async function connect(): Promise<RespClient> {
  const client = await RespClient.connect(shared.server.port);
  shared.afterTest(() => client.close());
  return client;
}

/** WATCH key on `c`, let `change` run, then MULTI / SET <key>:tx 1 / EXEC: the EXEC reply. */
async function watchedExec(
  c: RespClient,
  key: string,
  change: () => Promise<unknown>,
): Promise<string> {
  expect((await c.call('WATCH', key)).raw).toBe('+OK\r\n');
  await change();
  expect((await c.call('MULTI')).raw).toBe('+OK\r\n');
  expect((await c.call('SET', `${key}:tx`, '1')).raw).toBe('+QUEUED\r\n');
  return (await c.call('EXEC')).raw;
}

describe('WATCH aborts EXEC when a watched key changed', () => {
  it('by another client: a write, a delete, FLUSHALL; RESP2 *-1 and RESP3 _', async () => {
    const c = await connect();
    const other = await connect();
    await other.call('SET', 'w:a', '1');
    expect(await watchedExec(c, 'w:a', () => other.call('SET', 'w:a', '1'))).toBe('*-1\r\n');
    expect(await watchedExec(c, 'w:a', () => other.call('DEL', 'w:a'))).toBe('*-1\r\n');
    await other.call('SET', 'w:a', '1');
    expect(await watchedExec(c, 'w:a', () => other.call('FLUSHALL'))).toBe('*-1\r\n');
    await c.call('HELLO', '3');
    await other.call('SET', 'w:a', '2');
    expect(await watchedExec(c, 'w:a', () => other.call('INCR', 'w:a'))).toBe('_\r\n');
    // None of the aborted transactions wrote anything.
    expect((await other.call('EXISTS', 'w:a:tx')).raw).toBe(':0\r\n');
  });

  it('by the same client, before MULTI', async () => {
    const c = await connect();
    expect(await watchedExec(c, 's:a', () => c.call('SET', 's:a', 'mine'))).toBe('*-1\r\n');
    expect(await watchedExec(c, 's:a', () => c.call('APPEND', 's:a', '!'))).toBe('*-1\r\n');
    // Pipelined: the write after WATCH is seen even though nothing waits for its reply.
    c.command('WATCH', 's:a');
    c.command('EXPIRE', 's:a', '1000');
    c.command('MULTI');
    c.command('GET', 's:a');
    c.command('EXEC');
    const replies: string[] = [];
    for (let i = 0; i < 5; i++) replies.push((await c.reply()).raw);
    expect(replies).toEqual(['+OK\r\n', ':1\r\n', '+OK\r\n', '+QUEUED\r\n', '*-1\r\n']);
  });

  it('by expiring: a key live at WATCH and gone by EXEC', async () => {
    const c = await connect();
    const other = await connect();
    await other.call('SET', 'x:a', 'v', 'PX', '60');
    const reply = await watchedExec(c, 'x:a', () =>
      pollUntil(
        'x:a has expired',
        async () => (await other.call('PTTL', 'x:a')).raw === ':-2\r\n',
        5_000,
      ),
    );
    expect(reply).toBe('*-1\r\n');
    expect((await other.call('EXISTS', 'x:a:tx')).raw).toBe(':0\r\n');
  });

  it('by a key absent at WATCH that was created and deleted, or created and expired, since', async () => {
    const c = await connect();
    const other = await connect();
    const createdAndDeleted = () =>
      other.call('SET', 'n:a', '1').then(() => other.call('DEL', 'n:a'));
    expect(await watchedExec(c, 'n:a', createdAndDeleted)).toBe('*-1\r\n');
    const createdAndExpired = async () => {
      await other.call('SET', 'n:b', '1', 'PX', '20');
      await pollUntil(
        'n:b has expired',
        async () => (await other.call('PTTL', 'n:b')).raw === ':-2\r\n',
        5_000,
      );
    };
    expect(await watchedExec(c, 'n:b', createdAndExpired)).toBe('*-1\r\n');
    // A transaction that writes nothing aborts too.
    expect((await c.call('WATCH', 'n:c')).raw).toBe('+OK\r\n');
    await other.call('SET', 'n:c', '1');
    await other.call('DEL', 'n:c');
    await c.call('MULTI');
    await c.call('GET', 'n:c');
    expect((await c.call('EXEC')).raw).toBe('*-1\r\n');
    expect((await other.call('EXISTS', 'n:a:tx', 'n:b:tx')).raw).toBe(':0\r\n');
  });

  it('but not when the watched key is unchanged, absent throughout, or already expired at WATCH', async () => {
    const c = await connect();
    const other = await connect();
    await other.call('SET', 'u:a', '1');
    expect(await watchedExec(c, 'u:a', () => other.call('GET', 'u:a'))).toBe('*1\r\n+OK\r\n');
    expect(await watchedExec(c, 'u:absent', () => other.call('DEL', 'u:absent'))).toBe(
      '*1\r\n+OK\r\n',
    );
    // FLUSHALL changes only the keys that existed (as in Redis 7).
    expect(await watchedExec(c, 'u:absent', () => other.call('FLUSHALL'))).toBe('*1\r\n+OK\r\n');
    await other.call('SET', 'u:gone', 'v', 'PX', '1');
    await pollUntil(
      'u:gone has expired',
      async () => (await other.call('PTTL', 'u:gone')).raw === ':-2\r\n',
      5_000,
    );
    expect(await watchedExec(c, 'u:gone', async () => {})).toBe('*1\r\n+OK\r\n');
  });

  it('a key watched twice keeps its first version', async () => {
    const c = await connect();
    const other = await connect();
    await c.call('WATCH', 't:a');
    await other.call('SET', 't:a', '1');
    expect(await watchedExec(c, 't:a', async () => {})).toBe('*-1\r\n');
  });
});

describe('unwatching', () => {
  it('UNWATCH, EXEC, DISCARD and EXECABORT each forget the watched keys', async () => {
    const c = await connect();
    const other = await connect();
    const ran = '*1\r\n+OK\r\n';
    const unwatchThenChange = async (ending: string[][]): Promise<string> => {
      await c.call('WATCH', 'v:a');
      for (const command of ending) await c.call(...command);
      await other.call('SET', 'v:a', String(Math.random()));
      await c.call('MULTI');
      await c.call('SET', 'v:b', '1');
      return (await c.call('EXEC')).raw;
    };
    expect(await unwatchThenChange([['UNWATCH']])).toBe(ran);
    expect(await unwatchThenChange([['MULTI'], ['EXEC']])).toBe(ran);
    expect(await unwatchThenChange([['MULTI'], ['DISCARD']])).toBe(ran);
    expect(await unwatchThenChange([['MULTI'], ['NOSUCH'], ['EXEC']])).toBe(ran);
    // An aborted EXEC unwatches too.
    await c.call('WATCH', 'v:a');
    await other.call('SET', 'v:a', 'x');
    expect(await unwatchThenChange([['MULTI'], ['EXEC']])).toBe(ran);
  });
});

describe('client libraries', () => {
  it('ioredis: exec() resolves null when a watched key changed', async () => {
    const redis = shared.connect();
    const other = shared.connect();
    await redis.watch('io:a');
    await other.set('io:a', 'changed');
    expect(await redis.multi().set('io:b', '1').exec()).toBeNull();
    await redis.watch('io:a');
    expect(await redis.multi().set('io:b', '1').get('io:a').exec()).toEqual([
      [null, 'OK'],
      [null, 'changed'],
    ]);
  });

  it('node-redis: exec() rejects with WatchError, in RESP2 and RESP3', async () => {
    for (const RESP of [2, 3] as const) {
      const client = createClient({ url: `redis://127.0.0.1:${shared.server.port}`, RESP });
      const other = createClient({ url: `redis://127.0.0.1:${shared.server.port}` });
      await client.connect();
      await other.connect();
      shared.afterTest(() => client.destroy());
      shared.afterTest(() => other.destroy());
      await client.watch(`nr${RESP}:a`);
      await other.set(`nr${RESP}:a`, 'changed');
      await expect(client.multi().set(`nr${RESP}:b`, '1').exec()).rejects.toBeInstanceOf(
        WatchError,
      );
      await client.watch(`nr${RESP}:a`);
      expect(await client.multi().set(`nr${RESP}:b`, '1').get(`nr${RESP}:a`).exec()).toEqual([
        'OK',
        'changed',
      ]);
    }
  });
});

describe('the commit-time check', () => {
  /** A context for runTransaction on the test server's store (the forms below use no more). */
  function context(): CommandContext {
    return {
      store: shared.server.store,
      client: new ClientSession(0, 'test', false),
      server: { commandStats: new CommandStats([]) } as unknown as ServerContext,
    };
  }
  const limits = { maxKeyBytes: 1024, maxValueBytes: 1024 };

  it('a write between evaluation and commit aborts a watched transaction', async () => {
    await shared.server.store.set('cc:a', '1');
    const version = shared.server.store.version('cc:a');
    const reply = await runTransaction(
      context(),
      {
        failed: false,
        watched: [{ key: Buffer.from('cc:a'), version, since: shared.server.store.sequence() }],
        commands: [
          {
            name: 'sneak',
            args: [],
            afterCommit: false,
            // Reads the key in the transaction, then another writer changes it in the store.
            form: async (ctx) => {
              const seen = await ctx.store.get('cc:a');
              await shared.server.store.set('cc:a', '2');
              await ctx.store.set('cc:b', 'written');
              return bulk(seen ?? '');
            },
          },
        ],
      },
      limits,
    );
    expect(reply).toEqual({ kind: 'null-array' });
    expect(await shared.server.store.get('cc:b')).toBeUndefined();
  });

  it('a watched key absent at WATCH, created and deleted before the commit, aborts it', async () => {
    const since = shared.server.store.sequence();
    const reply = await runTransaction(
      context(),
      {
        failed: false,
        watched: [{ key: Buffer.from('cd:a'), version: undefined, since }],
        commands: [
          {
            name: 'sneak',
            args: [],
            afterCommit: false,
            form: async (ctx) => {
              const seen = await ctx.store.get('cd:a'); // absent, as at WATCH
              await shared.server.store.set('cd:a', 'briefly');
              await shared.server.store.delete('cd:a');
              await ctx.store.set('cd:b', 'written');
              return bulk(seen ?? 'absent');
            },
          },
        ],
      },
      limits,
    );
    expect(reply).toEqual({ kind: 'null-array' });
    expect(await shared.server.store.get('cd:b')).toBeUndefined();
  });

  it('and re-evaluates an unwatched one against the new value', async () => {
    await shared.server.store.set('cr:a', '1');
    let evaluations = 0;
    const reply = await runTransaction(
      context(),
      {
        failed: false,
        watched: [],
        commands: [
          {
            name: 'sneak',
            args: [],
            afterCommit: false,
            form: async (ctx) => {
              evaluations++;
              const seen = (await ctx.store.get('cr:a'))!.toString();
              if (evaluations === 1) await shared.server.store.set('cr:a', '5');
              await ctx.store.set('cr:b', `${seen}+1`);
              return bulk(seen);
            },
          },
        ],
      },
      limits,
    );
    expect(evaluations).toBe(2);
    expect(reply).toEqual({ kind: 'array', items: [bulk('5')] });
    expect((await shared.server.store.get('cr:b'))?.toString()).toBe('5+1');
  });
});
