// Tests the daemon's server commands of issue 11 with ioredis, node-redis and redis-cli: TIME,
// SAVE and LASTSAVE, CONFIG SET / RESETSTAT / REWRITE / HELP (Redis's errors), INFO commandstats
// and its counting, the scripting commands kvd refuses (FLUSH a no-op), COMMAND INFO and DOCS as
// clients parse them, and CONFIG SET appendfsync always surviving a SIGKILL of a real child.

import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { redisCli, spawnServer, startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

let server: TestServer;
/** When the server was being started (ms), for LASTSAVE before any save. */
let startedBetween: [number, number];
const clients: Redis[] = [];
function connect(port = server.port, readyCheck = true): Redis {
  const client = new Redis({ port, host: '127.0.0.1', enableReadyCheck: readyCheck });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  const before = Date.now();
  server = await startTestServer();
  startedBetween = [before, Date.now()];
});
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});
afterAll(async () => {
  await server.close();
  await removeTempDirs();
});

/** The groups COMMAND DOCS may report (Redis's). */
const REDIS_GROUPS = [
  'bitmap',
  'cluster',
  'connection',
  'generic',
  'geo',
  'hash',
  'hyperloglog',
  'list',
  'module',
  'pubsub',
  'scripting',
  'sentinel',
  'server',
  'set',
  'sorted-set',
  'stream',
  'string',
  'transactions',
];

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)\r$`, 'm').exec(info)?.[1];
}

describe('TIME, SAVE and LASTSAVE', () => {
  it('TIME answers seconds and microseconds as bulk strings', async () => {
    const redis = connect();
    const before = Date.now();
    const [seconds, micros] = (await redis.time()) as unknown as [string, string];
    const after = Date.now();
    const ms = Number(seconds) * 1000 + Number(micros) / 1000;
    expect(ms).toBeGreaterThanOrEqual(before - 1);
    expect(ms).toBeLessThanOrEqual(after + 1);
    expect(Number(micros)).toBeLessThan(1_000_000);
    await expect(redis.call('TIME', 'x')).rejects.toThrow(
      "ERR wrong number of arguments for 'time' command",
    );
  });

  it('SAVE writes the index snapshot now; LASTSAVE and INFO report its time', async () => {
    const redis = connect();
    // Until the first save: the time the server started, as Redis counts the data saved then.
    const first = await redis.lastsave();
    expect(first).toBeGreaterThanOrEqual(Math.floor(startedBetween[0] / 1000));
    expect(first).toBeLessThanOrEqual(Math.floor(startedBetween[1] / 1000));
    await redis.set('saved', 'v');
    const before = Date.now();
    expect(await redis.save()).toBe('OK');
    const stats = await server.store.stats();
    expect(stats.lastSnapshotAt).toBeGreaterThanOrEqual(before);
    const lastsave = await redis.lastsave();
    expect(lastsave).toBe(Math.floor(stats.lastSnapshotAt / 1000));
    expect(infoField(await redis.info('persistence'), 'rdb_last_save_time')).toBe(String(lastsave));
    await expect(redis.call('SAVE', 'now')).rejects.toThrow(
      "ERR wrong number of arguments for 'save' command",
    );
  });
});

describe('CONFIG', () => {
  it('SET appendfsync changes the durability mode; other settings are refused as Redis does', async () => {
    const redis = connect();
    expect(await redis.config('SET', 'appendfsync', 'always')).toBe('OK');
    expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
    expect((await server.store.stats()).durability).toBe('always');
    expect(infoField(await redis.info('persistence'), 'kvd_durability')).toBe('always');
    expect(await redis.call('CONFIG', 'SET', 'APPENDFSYNC', 'EverySec')).toBe('OK');
    expect((await server.store.stats()).durability).toBe('everysec');

    const refusals: [string[], string][] = [
      [['nosuch', '1'], "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"],
      [
        ['port', '7000', 'nosuch', '1'],
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'",
      ],
      [
        ['maxclients', '5'],
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - can't set immutable config",
      ],
      [
        ['appendfsync', 'sometimes'],
        "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no",
      ],
      [
        ['appendfsync', 'no', 'appendfsync', 'always'],
        "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - duplicate parameter",
      ],
      [['appendfsync', 'no', 'port'], 'ERR syntax error'],
      [['appendfsync'], "ERR wrong number of arguments for 'config|set' command"],
    ];
    for (const [args, message] of refusals) {
      await expect(redis.call('CONFIG', 'SET', ...args)).rejects.toThrow(message);
    }
    expect((await server.store.stats()).durability).toBe('everysec'); // nothing changed
    expect(await redisCli(server.port, ['CONFIG', 'SET', 'save', ''])).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'save') - can't set immutable config\n\n",
    );
  });

  it('REWRITE, HELP, unknown subcommands and arity as Redis words them', async () => {
    const redis = connect();
    await expect(redis.config('REWRITE')).rejects.toThrow(
      'ERR The server is running without a config file',
    );
    const help = (await redis.call('CONFIG', 'HELP')) as string[];
    expect(help.some((line) => line.startsWith('RESETSTAT'))).toBe(true);
    await expect(redis.call('CONFIG', 'FLY')).rejects.toThrow(
      "ERR unknown subcommand 'FLY'. Try CONFIG HELP.",
    );
    await expect(redis.call('CONFIG', 'toString')).rejects.toThrow(
      "ERR unknown subcommand 'toString'. Try CONFIG HELP.",
    );
    await expect(redis.call('CONFIG', 'RESETSTAT', 'x')).rejects.toThrow(
      "ERR wrong number of arguments for 'config|resetstat' command",
    );
    await expect(redis.call('CONFIG', 'GET')).rejects.toThrow(
      "ERR wrong number of arguments for 'config|get' command",
    );
  });
});

describe('INFO commandstats', () => {
  it('counts calls, failures and rejections per command from the last RESETSTAT', async () => {
    const redis = connect();
    await redis.set('text', 'abc');
    expect(await redis.config('RESETSTAT')).toBe('OK');
    await redis.get('text');
    await redis.get('absent');
    await redis.set('n', '1');
    await expect(redis.incr('text')).rejects.toThrow('ERR value is not an integer');
    await expect(redis.call('GET')).rejects.toThrow('wrong number of arguments');
    await expect(redis.call('NOSUCH')).rejects.toThrow('unknown command');
    const info = await redis.info('commandstats');
    const lines = new Map(
      info
        .split('\r\n')
        .filter((line) => line.startsWith('cmdstat_'))
        .map((line) => line.split(':') as [string, string]),
    );
    const pattern = (calls: number, rejected: number, failed: number) =>
      new RegExp(
        `^calls=${calls},usec=\\d+,usec_per_call=\\d+\\.\\d\\d,` +
          `rejected_calls=${rejected},failed_calls=${failed}$`,
      );
    expect(info.startsWith('# Commandstats\r\n')).toBe(true);
    expect(lines.get('cmdstat_get')).toMatch(pattern(2, 1, 0));
    expect(lines.get('cmdstat_set')).toMatch(pattern(1, 0, 0));
    expect(lines.get('cmdstat_incr')).toMatch(pattern(1, 0, 1));
    expect(lines.get('cmdstat_config')).toMatch(pattern(1, 0, 0)); // the RESETSTAT itself
    // A GET or plain SET is timed from the pump that started it to the store batch that
    // answered it, a later turn (BurstClock): never zero.
    const usec = (name: string) => Number(/usec=(\d+)/.exec(lines.get(name) ?? '')?.[1]);
    expect(usec('cmdstat_get')).toBeGreaterThan(0);
    expect(usec('cmdstat_set')).toBeGreaterThan(0);
    expect([...lines.keys()].sort()).toEqual([
      'cmdstat_config',
      'cmdstat_get',
      'cmdstat_incr',
      'cmdstat_set',
    ]);
    const stats = await redis.info('stats');
    // The seven requests above after RESETSTAT, and this INFO (counted as it arrives).
    expect(infoField(stats, 'total_commands_processed')).toBe('8');
    // GET 'text' found its key, GET 'absent' did not (the GET refused for its arity looked nothing up).
    expect(infoField(stats, 'keyspace_hits')).toBe('1');
    expect(infoField(stats, 'keyspace_misses')).toBe('1');
  });

  it('is left out of INFO and INFO default, and included by INFO all and everything', async () => {
    const redis = connect();
    expect(await redis.info()).not.toContain('# Commandstats');
    expect(await redis.info('default')).not.toContain('# Commandstats');
    const all = await redis.info('all');
    expect(all).toContain('# Commandstats\r\ncmdstat_');
    expect(all.indexOf('# Commandstats')).toBeLessThan(all.indexOf('# Keyspace'));
    expect(await redis.info('everything')).toContain('# Commandstats');
  });

  it('counts a command refused before AUTH as rejected', async () => {
    const guarded = await startTestServer({ requirepass: 'secret' });
    try {
      const raw = connect(guarded.port, false);
      await expect(raw.get('k')).rejects.toThrow('NOAUTH Authentication required.');
      await raw.call('AUTH', 'secret');
      expect(await raw.info('commandstats')).toMatch(
        /cmdstat_get:calls=0,usec=0,usec_per_call=0\.00,rejected_calls=1,failed_calls=0/,
      );
    } finally {
      await guarded.close();
    }
  });
});

describe('scripting commands kvd does not run', () => {
  it('FUNCTION FLUSH and SCRIPT FLUSH answer OK; the rest are refused clearly', async () => {
    const redis = connect();
    expect(await redis.call('FUNCTION', 'FLUSH')).toBe('OK');
    expect(await redis.call('FUNCTION', 'FLUSH', 'async')).toBe('OK');
    expect(await redis.script('FLUSH')).toBe('OK');
    expect(await redis.call('SCRIPT', 'FLUSH', 'SYNC')).toBe('OK');
    await expect(redis.call('SCRIPT', 'FLUSH', 'later')).rejects.toThrow(
      'ERR SCRIPT FLUSH only support SYNC|ASYNC option',
    );
    await expect(redis.call('FUNCTION', 'FLUSH', 'later')).rejects.toThrow(
      'ERR FUNCTION FLUSH only supports SYNC|ASYNC option',
    );
    await expect(redis.eval('return 1', 0)).rejects.toThrow(
      'ERR EVAL is not supported: kvd runs no scripts or functions',
    );
    for (const name of ['EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL', 'FCALL_RO']) {
      await expect(redis.call(name, 'x', '0')).rejects.toThrow(`ERR ${name} is not supported`);
    }
    await expect(redis.call('EVAL', 'return 1')).rejects.toThrow(
      "ERR wrong number of arguments for 'eval' command",
    );
    await expect(redis.script('LOAD', 'return 1')).rejects.toThrow(
      'ERR SCRIPT LOAD is not supported',
    );
    await expect(redis.call('FUNCTION', 'LIST')).rejects.toThrow(
      'ERR FUNCTION LIST is not supported',
    );
    await expect(redis.call('SCRIPT', 'JUGGLE')).rejects.toThrow(
      "ERR unknown subcommand 'JUGGLE'. Try SCRIPT HELP.",
    );
  });
});

describe('COMMAND INFO and COMMAND DOCS', () => {
  it('describe every command of the table, as node-redis parses them', async () => {
    const client = createClient({ socket: { port: server.port, host: '127.0.0.1' } });
    await client.connect();
    try {
      const names = (await client.sendCommand(['COMMAND', 'LIST'])) as string[];
      const infos = await client.commandInfo(names);
      expect(infos.map((info) => info?.name)).toEqual(names);
      const get = infos[names.indexOf('get')]!;
      expect([...get.categories].sort()).toEqual(['@fast', '@read', '@string']);
      expect(get.keySpecs).toEqual([
        {
          beginSearch: { type: 'index', index: 1 },
          findKeys: { type: 'range', lastKey: 0, keyStep: 1, limit: 0 },
        },
      ]);
      const del = infos[names.indexOf('del')]!;
      expect(del.keySpecs[0]!.findKeys).toEqual({
        type: 'range',
        lastKey: -1,
        keyStep: 1,
        limit: 0,
      });
      expect(infos[names.indexOf('ping')]!.isKeyless).toBe(true);

      const docs = (await client.commandDocs()) as Record<string, Record<string, unknown>>;
      expect(Object.keys(docs).sort()).toEqual([...names].sort());
      expect(docs.rename).toEqual({
        summary: 'Renames a key, overwriting the destination and keeping the expiry.',
        since: '0.1.0',
        group: 'generic',
      });
      for (const doc of Object.values(docs)) {
        expect(typeof doc.summary).toBe('string');
        expect(REDIS_GROUPS).toContain(doc.group);
      }
    } finally {
      client.destroy();
    }
  });

  it('answers RESP3 maps, leaves unknown names out, and clients still connect', async () => {
    const resp3 = createClient({ socket: { port: server.port, host: '127.0.0.1' }, RESP: 3 });
    await resp3.connect();
    try {
      const docs = (await resp3.sendCommand(['COMMAND', 'DOCS', 'copy', 'nosuch'])) as Record<
        string,
        Record<string, string>
      >;
      expect(Object.keys(docs)).toEqual(['copy']);
      expect(docs.copy!.group).toBe('generic');
    } finally {
      resp3.destroy();
    }
    const redis = connect();
    const [info] = (await redis.command('INFO', 'copy')) as unknown[][];
    expect(info!.slice(0, 6)).toEqual(['copy', -3, ['write'], 1, 2, 1]);
    expect(await redis.call('COMMAND', 'DOCS', 'nosuch')).toEqual([]);
    expect(await redisCli(server.port, ['COMMAND', 'DOCS', 'time'])).toContain('since\n0.1.0\n');
  });
});

describe('the kvd binary', () => {
  it("starts Node with the daemon's young-generation cap and its idle collection, its network threads' too (README, Memory)", async () => {
    const dir = await makeTempDir('admin-binary');
    const child = await spawnServer(
      ['--dir', dir, '--readers', '1'],
      { KVD_LOG_LEVEL: 'debug' },
      true,
    );
    const redis = connect(child.port);
    try {
      const flags = infoField(await redis.info('server'), 'kvd_node_flags');
      expect(flags?.split(' ')).toContain('--max-semi-space-size=4');
      expect(flags?.split(' ')).toContain('--expose-gc');
      const collections = async () =>
        Number(infoField(await redis.info('memory'), 'kvd_idle_collections'));
      expect(await collections()).toBe(0);
      // Idle of commands for COLLECT_AFTER_IDLE_MS (10 s), the daemon runs its one full collection
      // through the gc() that --expose-gc gives it, and says so at debug level.
      for (let i = 0; i < 100; i++) await redis.set(`k${i}`, 'v');
      await pollUntil(
        'the idle daemon logs its collection',
        () => child.child.stderr.includes('"msg":"idle: collected"'),
        30_000,
      );
      expect(await collections()).toBe(1);
      // Its network threads (one per core, at most 4, by default) collect their heaps then too.
      const threads = Number(infoField(await redis.info('clients'), 'kvd_network_threads'));
      await pollUntil(
        'each network thread logs its collection',
        () =>
          child.child.stderr.split('"msg":"idle: network thread collected"').length - 1 ===
          threads - 1,
        10_000,
      );
    } finally {
      redis.disconnect();
      child.child.kill('SIGTERM');
      await child.child.exited;
    }
  });
});

describe('CONFIG SET appendfsync in a kvd serve process', () => {
  it('makes every acknowledged write fsynced, and keeps it through a SIGKILL', async () => {
    const dir = await makeTempDir('admin-kill');
    const child = await spawnServer(['--dir', dir, '--readers', '1', '--durability', 'no']);
    const redis = connect(child.port);
    expect(await redis.config('SET', 'appendfsync', 'always')).toBe('OK');
    const syncsBefore = Number(infoField(await redis.info('stats'), 'kvd_writer_syncs'));
    for (let i = 0; i < 100; i++) await redis.set(`durable:${i}`, `v${i}`);
    const syncsAfter = Number(infoField(await redis.info('stats'), 'kvd_writer_syncs'));
    // One group commit per awaited SET, each synced before its +OK.
    expect(syncsAfter - syncsBefore).toBeGreaterThanOrEqual(100);
    redis.disconnect();
    child.child.kill('SIGKILL');
    expect((await child.child.exited).signal).toBe('SIGKILL');
    const store = await Store.open(dir, { readers: 1 });
    try {
      const keys = Array.from({ length: 100 }, (_, i) => `durable:${i}`);
      const values = await store.getMany(keys);
      expect(values.map((v) => v?.toString())).toEqual(keys.map((_, i) => `v${i}`));
    } finally {
      await store.close();
    }
  });
});
