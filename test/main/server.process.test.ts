// Tests `kvd serve` as a real child process: --help, environment fallbacks, a second instance on
// the same directory, a busy port, SHUTDOWN, and that every acknowledged write survives SIGTERM
// (any durability) and SIGKILL (durability always), checked by reopening the store.

import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { ChildLines } from '../fixtures/child-lines.js';
import { CLI, redisCli, spawnServer } from '../fixtures/kvd-server.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterAll(removeTempDirs);

/**
 * Sends SETs over one connection, 256 at a time, until `stop` is called or the connection
 * fails; resolves with the keys whose SET was acknowledged (+OK) and their values.
 */
function writeLoad(port: number, onAck: (acked: number) => void) {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  const acked = new Map<string, string>();
  let next = 0;
  let failed = false;
  const done = new Promise<Map<string, string>>((resolve) => {
    let inFlight = 0;
    const pump = (): void => {
      while (!failed && inFlight < 256) {
        const i = next++;
        const key = `load:${i}`;
        const value = `value-${i}-${'x'.repeat(i % 50)}`;
        inFlight++;
        redis.set(key, value).then(
          () => {
            acked.set(key, value);
            inFlight--;
            onAck(acked.size);
            pump();
          },
          () => {
            failed = true;
            inFlight--;
            if (inFlight === 0) resolve(acked);
          },
        );
      }
    };
    pump();
  });
  return { done, close: () => redis.disconnect() };
}

async function expectStoreHas(dir: string, expected: Map<string, string>): Promise<void> {
  const store = await Store.open(dir, { readers: 1 });
  try {
    const keys = [...expected.keys()];
    const values = await store.getMany(keys);
    const missing = keys.filter((k, i) => values[i]?.toString() !== expected.get(k));
    expect(missing).toEqual([]);
  } finally {
    await store.close();
  }
}

describe('kvd serve as a process', () => {
  it('lists its flags and their environment variables in --help', async () => {
    const child = new ChildLines(process.execPath, [CLI, 'serve', '--help']);
    const help = (await child.rest()).join(' ').replace(/\s+/g, ' ');
    expect((await child.exited).code).toBe(0);
    for (const flag of [
      '--dir',
      '--port',
      '--host',
      '--unix',
      '--durability',
      '--requirepass',
      '--readers',
      '--read-mode',
      '--max-clients',
      '--idle-timeout',
      '--tls-cert',
      '--tls-key',
    ]) {
      expect(help).toContain(flag);
    }
    for (const env of [
      'KVD_DIR',
      'KVD_PORT',
      'KVD_HOST',
      'KVD_DURABILITY',
      'KVD_REQUIREPASS',
      'KVD_READ_MODE',
    ]) {
      expect(help).toContain(`env: ${env}`);
    }
    const bad = new ChildLines(process.execPath, [CLI, 'serve', '--read-mode', 'mapped']);
    expect((await bad.exited).code).not.toBe(0);
    expect(bad.stderr).toContain('mmap, pread');
  });

  it('refuses a second instance on the same directory and a busy port; SHUTDOWN exits 0', async () => {
    const dir = await makeTempDir('serve-lock');
    // --dir from the environment (KVD_DIR).
    const first = await spawnServer([], { KVD_DIR: dir });
    expect(first.readyLine).toContain(dir);

    const second = new ChildLines(process.execPath, [CLI, 'serve', '--port', '0', '--dir', dir]);
    const secondExit = await second.exited;
    expect(secondExit.code).toBe(1);
    expect(second.stderr).toMatch(/^kvd serve: KV_LOCKED: cannot start on /);

    const otherDir = await makeTempDir('serve-port');
    const busy = new ChildLines(process.execPath, [CLI, 'serve', '--dir', otherDir], {
      KVD_PORT: String(first.port),
    });
    expect((await busy.exited).code).toBe(1);
    expect(busy.stderr).toContain('EADDRINUSE');

    expect(await redisCli(first.port, ['SET', 'k', 'v'])).toBe('OK\n');
    expect(await redisCli(first.port, ['SHUTDOWN'])).toBe('');
    expect(await first.child.exited).toEqual({ code: 0, signal: null });
    await expectStoreHas(dir, new Map([['k', 'v']]));
  });

  it('keeps every acknowledged write after SIGTERM (durability no, reads with pread)', async () => {
    const dir = await makeTempDir('serve-term');
    const server = await spawnServer(['--dir', dir, '--readers', '1'], {
      KVD_DURABILITY: 'no',
      KVD_READ_MODE: 'pread',
    });
    let signalled = false;
    const load = writeLoad(server.port, (acked) => {
      if (acked >= 1000 && !signalled) {
        signalled = true;
        server.child.kill('SIGTERM');
      }
    });
    const acked = await load.done;
    load.close();
    expect(await server.child.exited).toEqual({ code: 0, signal: null });
    expect(acked.size).toBeGreaterThanOrEqual(1000);
    await expectStoreHas(dir, acked);
  });

  it('keeps every acknowledged write after SIGKILL (durability always)', async () => {
    const dir = await makeTempDir('serve-kill');
    const server = await spawnServer(['--dir', dir, '--readers', '1', '--durability', 'always']);
    let signalled = false;
    const load = writeLoad(server.port, (acked) => {
      if (acked >= 500 && !signalled) {
        signalled = true;
        server.child.kill('SIGKILL');
      }
    });
    const acked = await load.done;
    load.close();
    expect((await server.child.exited).signal).toBe('SIGKILL');
    expect(acked.size).toBeGreaterThanOrEqual(500);
    await expectStoreHas(dir, acked);
  });
});
