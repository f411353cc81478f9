// The directory lock against real processes and real mounts: a holder seen through a bind
// mount, from another network namespace and from another mount namespace is refused with
// KV_LOCKED naming its pid; kill -9 frees it; the native lock call itself; the socket fallback.

import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, type TestContext } from 'vitest';
import { lockDirectoryByFile, lockDirectoryBySocket } from '../../dist/main/dir-lock.js';
import { type KvError, Store, type StoreOptions } from '../../dist/main/index.js';
import { fileLocks } from '../../dist/shared/file-map.js';
import { ChildLines, fixturePath } from '../fixtures/child-lines.js';
import { expectRejectsWith } from '../fixtures/kv-errors.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const BASE: StoreOptions = { readers: 1, durability: 'no' };
const SCRIPT = fixturePath('open-store.mjs');

/** Runs a command to completion; undefined if it succeeded, else why not. */
function failureOf(command: string, args: readonly string[]): string | undefined {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  if (run.error) return `${command}: ${run.error.message}`;
  if (run.status !== 0) {
    return `\`${command} ${args.join(' ')}\` exited ${run.status}: ${run.stderr.trim()}`;
  }
  return undefined;
}

/** Why bind mounts, `unshare --net` or a bind mount in a new mount namespace cannot be tested here. */
const cannot = ((): { bind?: string; net?: string; mountNs?: string } => {
  if (process.platform !== 'linux') {
    const why = `Linux only (this is ${process.platform})`;
    return { bind: why, net: why, mountNs: why };
  }
  const probe = mkdtempSync(join(tmpdir(), 'kvd-mount-probe-'));
  const [a, b] = [join(probe, 'a'), join(probe, 'b')];
  for (const dir of [a, b]) mkdirSync(dir);
  try {
    const bind = failureOf('mount', ['--bind', a, b]);
    if (bind === undefined) failureOf('umount', [b]);
    return {
      bind,
      net: failureOf('unshare', ['--net', 'true']),
      mountNs: failureOf('unshare', ['--mount', 'mount', '--bind', a, b]),
    };
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

/** Skips the test (printing why) when `why` is set: no permission to mount or unshare here. */
function skipIfCannot(ctx: TestContext, why: string | undefined): void {
  if (why === undefined) return;
  console.warn(`skipped "${ctx.task.name}": ${why}`);
  ctx.skip();
}

const children: ChildLines[] = [];
const mounts: string[] = [];

/** Starts `command args…` and waits for its "opened" line: it now holds the store. */
async function startHolder(command: string, args: readonly string[]): Promise<ChildLines> {
  const child = new ChildLines(command, args);
  children.push(child);
  expect(await child.expectLine()).toBe('opened');
  return child;
}

/** Expects `Store.open(dir)` to be refused with KV_LOCKED (closing the store if it was not). */
async function expectLocked(dir: string): Promise<KvError> {
  const result = await Store.open(dir, BASE).then(
    (store) => ({ store }),
    (error: unknown) => ({ error }),
  );
  if ('store' in result) {
    await result.store.close();
    expect.fail(`${dir} opened while another live store held it`);
  }
  return expectRejectsWith(Promise.reject(result.error), 'KV_LOCKED');
}

/** Opens `dir` (which must be free again), checks the holder's write and our LOCK record. */
async function expectOpensWithHeldKey(dir: string): Promise<void> {
  const store = await Store.open(dir, BASE);
  try {
    expect(store.getSync('held')?.toString()).toMatch(/^by \d+$/);
    expect(JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8')).pid).toBe(process.pid);
  } finally {
    await store.close();
  }
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.exited;
  }
  for (const mount of mounts.splice(0)) {
    const why = failureOf('umount', [mount]);
    if (why !== undefined) throw new Error(why);
  }
  await removeTempDirs();
});

describe('directory lock', () => {
  it('the native lock call: one open file description at a time, even within a process', async () => {
    // Like the read-mode test in store.errors.test.ts: CI notices if the addon stops building.
    expect(fileLocks, 'kvd_native.node must be built (npm run build:native)').toBeDefined();
    const locks = fileLocks!;
    const path = join(await makeTempDir('lock-call'), 'LOCK');
    const first = openSync(path, 'a+');
    const second = openSync(path, 'r+');
    const readOnly = openSync(path, 'r');
    try {
      expect(locks.lock(first)).toBe(0);
      expect(locks.lock(first)).toBe(0); // the holder may take it again
      expect(['EAGAIN', 'EACCES']).toContain(locks.lock(second));
      expect(locks.lock(readOnly)).toBe('EBADF'); // a write lock needs a writable fd
      closeSync(first);
      expect(locks.lock(second)).toBe(0); // closing the holder's fd released it
    } finally {
      closeSync(second);
      closeSync(readOnly);
    }
    expect(locks.lock(2_000_000)).toBe('EBADF');
  });

  it('a second Store.open of one directory in this process gets KV_LOCKED naming this process', async () => {
    const dir = await makeTempDir('lock-same');
    const first = await Store.open(dir, BASE);
    try {
      const error = await expectLocked(dir);
      expect(error.message).toContain(dir);
      expect(error.message).toContain(`this process (pid ${process.pid})`);
      await first.set('k', 'v');
    } finally {
      await first.close();
    }
    // Released, not unlinked: the file stays, with no holder recorded.
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).toBe('');
    const next = await Store.open(dir, BASE);
    try {
      expect(next.getSync('k')?.toString()).toBe('v');
    } finally {
      await next.close();
    }
  });

  it('kill -9 of the holder frees the lock; the dead holder record is replaced', async () => {
    const dir = await makeTempDir('lock-kill');
    const holder = await startHolder(process.execPath, [SCRIPT, 'hold', dir]);
    const error = await expectLocked(dir);
    expect(error.message).toContain(`pid ${holder.child.pid} since `);
    holder.kill('SIGKILL');
    expect((await holder.exited).signal).toBe('SIGKILL');
    // The dead holder's record is still there; the lock is not.
    expect(JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8')).pid).toBe(holder.child.pid);
    await expectOpensWithHeldKey(dir);
  });

  it('holds across a bind mount: a holder through one path refuses an opener through the other', async (ctx) => {
    skipIfCannot(ctx, cannot.bind);
    const [a, b] = [await makeTempDir('lock-bind-a'), await makeTempDir('lock-bind-b')];
    expect(failureOf('mount', ['--bind', a, b])).toBeUndefined();
    mounts.push(b);

    const holder = await startHolder(process.execPath, [SCRIPT, 'hold', a]);
    const error = await expectLocked(b);
    expect(error.message).toContain(b);
    expect(error.message).toContain(`pid ${holder.child.pid} since `);
    holder.kill('SIGKILL');
    await holder.exited;

    // And the other way round: this process holds it through b, a child is refused through a.
    const store = await Store.open(b, BASE);
    try {
      const child = new ChildLines(process.execPath, [SCRIPT, 'try', a]);
      children.push(child);
      expect(await child.expectLine()).toBe('error KV_LOCKED');
      expect(store.getSync('held')?.toString()).toBe(`by ${holder.child.pid}`);
    } finally {
      await store.close();
    }
  });

  it('holds across network namespaces (where the abstract-socket lock does not)', async (ctx) => {
    skipIfCannot(ctx, cannot.net);
    const dir = await makeTempDir('lock-netns');
    // unshare execs node in the new namespace: the child's pid is node's.
    const holder = await startHolder('unshare', ['--net', process.execPath, SCRIPT, 'hold', dir]);
    const error = await expectLocked(dir);
    expect(error.message).toContain(`pid ${holder.child.pid} since `);
    holder.kill('SIGKILL');
    expect((await holder.exited).signal).toBe('SIGKILL');

    const store = await Store.open(dir, BASE);
    try {
      const child = new ChildLines('unshare', ['--net', process.execPath, SCRIPT, 'try', dir]);
      children.push(child);
      expect(await child.expectLine()).toBe('error KV_LOCKED');
    } finally {
      await store.close();
    }
  });

  it('holds across mount namespaces, through a bind mount only the holder sees', async (ctx) => {
    skipIfCannot(ctx, cannot.mountNs);
    const [a, b] = [await makeTempDir('lock-mntns-a'), await makeTempDir('lock-mntns-b')];
    // As a container would: its own mount namespace, the volume bound at a path of its own.
    const inside = 'mount --bind "$1" "$2" && exec "$3" "$4" hold "$2"';
    const holder = await startHolder('unshare', [
      '--mount',
      'sh',
      '-c',
      inside,
      'sh',
      a,
      b,
      process.execPath,
      SCRIPT,
    ]);
    expect(existsSync(join(b, 'LOCK')), 'the bind mount must not be seen here').toBe(false);
    const error = await expectLocked(a);
    expect(error.message).toContain(`pid ${holder.child.pid} since `);
    holder.kill('SIGKILL');
    await holder.exited;
    await expectOpensWithHeldKey(a);
  });

  it('falls back to a file system without locks (lockDirectoryByFile returns why), and fails other errors with KV_IO', async () => {
    const dir = await makeTempDir('lock-unsupported');
    expect(lockDirectoryByFile(dir, { lock: () => 'ENOLCK' })).toMatch(
      /cannot be locked here: ENOLCK/,
    );
    expect(() => lockDirectoryByFile(dir, { lock: () => 'EIO' })).toThrow(
      expect.objectContaining({ code: 'KV_IO' }),
    );
  });

  it('the socket fallback (no addon) refuses a second holder, and says what it cannot see', async () => {
    const dir = await makeTempDir('lock-socket');
    const lock = await lockDirectoryBySocket(dir);
    try {
      const error = await expectRejectsWith(lockDirectoryBySocket(dir), 'KV_LOCKED');
      expect(error.message).toContain(`this process (pid ${process.pid})`);
      expect(error.message).toContain('does not hold across bind mounts or network namespaces');
    } finally {
      await lock.release();
    }
    await (await lockDirectoryBySocket(dir)).release();
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).toBe('');
  });
});
