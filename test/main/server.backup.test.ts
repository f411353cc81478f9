// Backups outside the library: the daemon's BGSAVE (ioredis and redis-cli against real servers:
// the backup directory, Redis's replies and errors, INFO persistence and LASTSAVE, the previous
// backup kept as <backup-dir>.old, the <dir>.backup default) and `kvd backup` (the built CLI:
// text and JSON, a taken destination, --copy, --replace, and KV_LOCKED while a daemon serves the
// store).

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { CLI, redisCli, spawnServer, startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { contentsAt } from '../fixtures/store-contents.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await removeTempDirs();
});

function connect(port: number): Redis {
  const client = new Redis({ port, host: '127.0.0.1' });
  closers.push(() => client.disconnect());
  return client;
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)\r$`, 'm').exec(info)?.[1];
}

/** Waits until INFO says no BGSAVE is running; returns the persistence section. */
async function bgsaveFinished(redis: Redis): Promise<string> {
  let info = '';
  await pollUntil(
    'the background save has finished',
    async () => {
      info = await redis.info('persistence');
      return infoField(info, 'rdb_bgsave_in_progress') === '0';
    },
    30_000,
  );
  return info;
}

/** Runs the built CLI with `args`; resolves with its exit code and output. */
function runCli(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Writes `count` keys `key:<i>` = `<round>-<i>` to `dir` and closes the store. */
async function fill(dir: string, count: number, round: string): Promise<Map<string, string>> {
  const store = await Store.open(dir, { readers: 1, segmentBytes: 4096 });
  const model = new Map<string, string>();
  try {
    await Promise.all(
      Array.from({ length: count }, (_, i) => {
        model.set(`key:${i}`, `${round}-${i}`);
        return store.set(`key:${i}`, `${round}-${i}`);
      }),
    );
  } finally {
    await store.close();
  }
  return model;
}

describe('BGSAVE', () => {
  it('backs up to the backup directory in the background; INFO persistence and LASTSAVE report it', async () => {
    const backupDir = join(await makeTempDir('bgsave'), 'backup');
    const server = await startTestServer({ backupDir, store: { segmentBytes: 4096 } });
    closers.push(() => server.close());
    const redis = connect(server.port);
    for (let i = 0; i < 200; i++) await redis.set(`key:${i}`, `value-${i}`);
    let info = await redis.info('persistence');
    expect(infoField(info, 'rdb_bgsave_in_progress')).toBe('0');
    expect(infoField(info, 'rdb_last_bgsave_status')).toBe('ok');
    expect(infoField(info, 'rdb_last_bgsave_time_sec')).toBe('-1');
    expect(infoField(info, 'kvd_backup_dir')).toBe(backupDir);
    const before = Date.now();
    // Pipelined: the SET before BGSAVE is in the backup; the second BGSAVE finds one running.
    const replies = await redis
      .pipeline()
      .set('last', 'before-bgsave')
      .bgsave()
      .bgsave()
      .set('after', 'not-in-the-backup')
      .exec();
    expect(replies!.map(([error, reply]) => error?.message ?? reply)).toEqual([
      'OK',
      'Background saving started',
      'ERR Background save already in progress',
      'OK',
    ]);
    info = await bgsaveFinished(redis);
    expect(infoField(info, 'rdb_last_bgsave_status')).toBe('ok');
    expect(Number(infoField(info, 'rdb_last_bgsave_time_sec'))).toBeGreaterThanOrEqual(0);
    expect(infoField(info, 'rdb_current_bgsave_time_sec')).toBe('-1');
    const lastsave = await redis.lastsave();
    expect(lastsave).toBeGreaterThanOrEqual(Math.floor(before / 1000));
    expect(infoField(info, 'rdb_last_save_time')).toBe(String(lastsave));

    const backup = await contentsAt(backupDir);
    expect(backup.get('last')).toBe('before-bgsave');
    for (let i = 0; i < 200; i++) expect(backup.get(`key:${i}`)).toBe(`value-${i}`);
    expect(backup.size === 201 || (backup.size === 202 && backup.has('after'))).toBe(true);

    // The next one replaces it, keeping it as <backup-dir>.old.
    await redis.set('last', 'second');
    expect(await redis.call('BGSAVE', 'SCHEDULE')).toBe('Background saving started');
    await bgsaveFinished(redis);
    expect((await contentsAt(backupDir)).get('last')).toBe('second');
    expect((await contentsAt(`${backupDir}.old`)).get('last')).toBe('before-bgsave');
    await expect(redis.call('BGSAVE', 'NOW')).rejects.toThrow('ERR syntax error');
    await expect(redis.call('BGSAVE', 'SCHEDULE', 'x')).rejects.toThrow('ERR syntax error');
  });

  it('reports a failed save as rdb_last_bgsave_status:err, and keeps serving', async () => {
    const parent = await makeTempDir('bgsave-err');
    const backupDir = join(parent, 'taken');
    mkdirSync(join(backupDir, 'not-a-store'), { recursive: true });
    const server = await startTestServer({ backupDir });
    closers.push(() => server.close());
    const redis = connect(server.port);
    await redis.set('a', '1');
    expect(await redis.bgsave()).toBe('Background saving started');
    const info = await bgsaveFinished(redis);
    expect(infoField(info, 'rdb_last_bgsave_status')).toBe('err');
    expect(readdirSync(backupDir)).toEqual(['not-a-store']);
    expect(await redis.get('a')).toBe('1');
  });

  it('queued in MULTI, runs after EXEC has committed: the backup holds the whole transaction', async () => {
    const backupDir = join(await makeTempDir('bgsave-multi'), 'backup');
    const server = await startTestServer({ backupDir });
    closers.push(() => server.close());
    const redis = connect(server.port);
    const replies = await redis.multi().set('before', '1').bgsave().set('after', '2').exec();
    expect(replies).toEqual([
      [null, 'OK'],
      [null, 'Background saving started'],
      [null, 'OK'],
    ]);
    await bgsaveFinished(redis);
    const backup = await contentsAt(backupDir);
    expect(backup.get('before')).toBe('1');
    expect(backup.get('after')).toBe('2');
    // A transaction a watched key aborts saves nothing.
    await redis.watch('before');
    await connect(server.port).set('before', 'changed');
    expect(await redis.multi().bgsave().exec()).toBeNull();
    expect(infoField(await redis.info('persistence'), 'rdb_bgsave_in_progress')).toBe('0');
  });

  it('paces its copying to --backup-bytes-per-second', async () => {
    const backupDir = join(await makeTempDir('bgsave-paced'), 'backup');
    const rate = 512 * 1024;
    const server = await startTestServer({ backupDir, backupBytesPerSecond: rate });
    closers.push(() => server.close());
    const redis = connect(server.port);
    const value = 'v'.repeat(64 * 1024);
    for (let i = 0; i < 16; i++) await redis.set(`big:${i}`, value);
    const started = performance.now();
    expect(await redis.bgsave()).toBe('Background saving started');
    await bgsaveFinished(redis);
    const seconds = (performance.now() - started) / 1000;
    const copied = readdirSync(backupDir)
      .filter((name) => name.endsWith('.log'))
      .reduce((n, name) => n + statSync(join(backupDir, name)).size, 0);
    expect(copied).toBeGreaterThan(1024 * 1024);
    expect(seconds).toBeGreaterThanOrEqual((0.9 * copied) / rate);
    expect((await contentsAt(backupDir)).size).toBe(16);
  });

  it('defaults to <dir>.backup beside the data directory', async () => {
    const server = await startTestServer();
    const backupDir = `${server.dir}.backup`;
    closers.push(() => rm(`${backupDir}.old`, { recursive: true, force: true }));
    closers.push(() => rm(backupDir, { recursive: true, force: true }));
    closers.push(() => server.close());
    const redis = connect(server.port);
    expect(infoField(await redis.info('persistence'), 'kvd_backup_dir')).toBe(backupDir);
    await redis.set('k', 'v');
    expect(await redis.bgsave()).toBe('Background saving started');
    await bgsaveFinished(redis);
    expect((await contentsAt(backupDir)).get('k')).toBe('v');
  });
});

describe('kvd backup', () => {
  it('backs up a store nothing holds: text or JSON, --copy, --replace; refuses a taken destination', async () => {
    const dir = await makeTempDir('cli-backup-src');
    const parent = await makeTempDir('cli-backup-dst');
    const model = await fill(dir, 300, 'one');
    const to = join(parent, 'copy');

    const text = await runCli(['backup', '--dir', dir, '--to', to]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^kvd backup .* -> .*copy: \d+ files \(\d+ linked, \d+ copied\)/);
    expect(await contentsAt(to)).toEqual(model);

    const taken = await runCli(['backup', '--dir', dir, '--to', to]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^\(error\) KV_EXISTS: /);

    // --bytes-per-second paces the copy (here far above what it copies); a bad value is refused.
    const paced = join(parent, 'paced');
    const fast = await runCli([
      'backup',
      '--dir',
      dir,
      '--to',
      paced,
      '--bytes-per-second',
      '1000000000',
    ]);
    expect(fast.code, fast.stderr).toBe(0);
    expect(await contentsAt(paced)).toEqual(model);
    const bad = await runCli([
      'backup',
      '--dir',
      dir,
      '--to',
      join(parent, 'x'),
      '--bytes-per-second',
      'fast',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--bytes-per-second');

    const next = await fill(dir, 300, 'two');
    const json = await runCli([
      'backup',
      '--dir',
      dir,
      '--to',
      to,
      '--replace',
      '--copy',
      '--json',
    ]);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout) as Record<string, number | string>;
    expect(result).toMatchObject({ dir: to, linked: 0 });
    expect(result.copied).toBe(result.files);
    expect(typeof result.sequence).toBe('number');
    expect(await contentsAt(to)).toEqual(next);
    expect(await contentsAt(`${to}.old`)).toEqual(model);

    const missing = await runCli(['backup', '--dir', dir]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('--to');
  });

  it('is refused with KV_LOCKED while a daemon serves the store; its BGSAVE backs it up', async () => {
    const dir = await makeTempDir('cli-backup-locked');
    const backupDir = join(await makeTempDir('cli-backup-bgsave'), 'backup');
    const daemon = await spawnServer([
      '--dir',
      dir,
      '--readers',
      '1',
      '--backup-dir',
      backupDir,
      '--backup-bytes-per-second',
      '100000000',
    ]);
    closers.push(async () => {
      daemon.child.kill('SIGTERM');
      await daemon.child.exited;
    });
    await redisCli(daemon.port, ['set', 'served', 'yes']);
    const refused = await runCli(['backup', '--dir', dir, '--to', join(backupDir, '..', 'cli')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^\(error\) KV_LOCKED: /);
    expect(existsSync(join(backupDir, '..', 'cli'))).toBe(false);

    expect((await redisCli(daemon.port, ['bgsave'])).trim()).toBe('Background saving started');
    await pollUntil(
      'the daemon has finished its background save',
      async () =>
        /rdb_bgsave_in_progress:0/.test(await redisCli(daemon.port, ['info', 'persistence'])),
      30_000,
    );
    expect((await contentsAt(backupDir)).get('served')).toBe('yes');
  });
});
