// Hot backup (Store.backup): a backup taken while a loop keeps writing opens as a normal store
// and equals, key by key, the source's state at one point of its write order, no earlier than
// the call (a model of the loop's writes in order finds that point); sealed files are
// hard-linked on one file system and copied across file systems or with `link: false`, even
// while a merge retires them; errors (destination taken, closed store, bad arguments); `replace`;
// concurrent backups; leftover staging directories, told live or dead by the lock inside them
// (staging-lock.ts) or by their pid; a close during a backup.

import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BackupResult, Store, type StoreOptions } from '../../dist/main/index.js';
import {
  claimLeftover,
  lockStaging,
  STAGING_LOCK_FILE,
  type StagingLock,
} from '../../dist/main/staging-lock.js';
import { fileLocks } from '../../dist/shared/file-map.js';
import { expectRejectsWith } from '../fixtures/kv-errors.js';
import { pollUntil } from '../fixtures/poll.js';
import { contentsAt, contentsOf, describeDiff } from '../fixtures/store-contents.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const OPTIONS: StoreOptions = { readers: 1, segmentBytes: 4096, compaction: { auto: false } };
const BASE_KEYS = 300;
const pad = (i: number) => String(i).padStart(4, '0');
const baseKey = (i: number) => `k:${pad(i)}`;

/** What `load` wrote: the model of the store after it, and the expiring keys' expiries. */
interface Loaded {
  readonly model: Map<string, string>;
  readonly expiries: Map<string, number>;
}

/**
 * Writes sets, overwrites, deletes, expiring keys and a batch, merges every sealed segment
 * (`compact`), then overwrites and deletes some merged keys, so the store has a merged
 * segment, sealed log segments and an active one. Writes of one group are issued together.
 */
async function load(store: Store): Promise<Loaded> {
  const model = new Map<string, string>();
  const expiries = new Map<string, number>();
  const later = Date.now() + 3_600_000;
  const writes: Promise<unknown>[] = [];
  const set = (key: string, value: string, expiresAt?: number) => {
    model.set(key, value);
    if (expiresAt !== undefined) expiries.set(key, expiresAt);
    writes.push(store.set(key, value, expiresAt === undefined ? undefined : { expiresAt }));
  };
  const del = (key: string) => {
    model.delete(key);
    expiries.delete(key);
    writes.push(store.delete(key));
  };
  for (let i = 0; i < BASE_KEYS; i++) set(baseKey(i), `v${i}-${'x'.repeat(i % 60)}`);
  for (let i = 0; i < BASE_KEYS; i += 3) set(baseKey(i), `again${i}`);
  for (let i = 0; i < BASE_KEYS; i += 7) del(baseKey(i));
  for (let i = 0; i < 40; i++) set(`ttl:${pad(i)}`, `t${i}`, later + i);
  await Promise.all(writes.splice(0));
  const batch = [
    ...Array.from({ length: 10 }, (_, i) => ({
      type: 'set' as const,
      key: `batch:${i}`,
      value: `b${i}`,
    })),
    { type: 'delete' as const, key: baseKey(1) },
    { type: 'delete' as const, key: baseKey(2) },
  ];
  await store.batch(batch);
  for (const op of batch) {
    if (op.type === 'set') model.set(op.key, op.value);
    else model.delete(op.key);
  }
  await store.compact();
  for (let i = 0; i < 150; i++) set(baseKey(i * 2), `after${i}-${'y'.repeat(i % 40)}`);
  for (let i = 0; i < 20; i++) del(baseKey(i * 5 + 1));
  await Promise.all(writes);
  return { model, expiries };
}

/** A loop of atomic batches, one at a time, each acknowledged before the next is issued. */
function startLoop(store: Store) {
  let stopped = false;
  let acked = 0;
  const done = (async () => {
    for (let i = 1; !stopped; i++) {
      await store.batch([
        { type: 'set', key: 'loop:cursor', value: String(i) },
        { type: 'set', key: `loop:${pad(i)}`, value: `L${i}` },
        ...(i > 3 ? [{ type: 'delete' as const, key: `loop:${pad(i - 3)}` }] : []),
        { type: 'set', key: baseKey(i % BASE_KEYS), value: `loop${i}` },
      ]);
      acked = i;
    }
  })();
  return {
    get acked() {
      return acked;
    },
    async stop(): Promise<number> {
      stopped = true;
      await done;
      return acked;
    },
  };
}

/** The model after `load` and the loop's first `n` batches. */
function modelAfter(loaded: Loaded, n: number): Map<string, string> {
  const model = new Map(loaded.model);
  for (let i = 1; i <= n; i++) {
    model.set('loop:cursor', String(i));
    model.set(`loop:${pad(i)}`, `L${i}`);
    if (i > 3) model.delete(`loop:${pad(i - 3)}`);
    model.set(baseKey(i % BASE_KEYS), `loop${i}`);
  }
  return model;
}

/**
 * Backs up `store` (loaded) while the loop writes; checks the backup against the model at the
 * loop position it holds (no earlier than the call), its expiries and its last sequence number.
 */
async function backupDuringWrites(
  store: Store,
  loaded: Loaded,
  to: string,
  backup: (to: string) => Promise<BackupResult> = (t) => store.backup(t),
): Promise<BackupResult> {
  const loop = startLoop(store);
  await pollUntil('the loop has written', () => loop.acked >= 20, 30_000);
  const ackedAtCall = loop.acked;
  const sequenceAtCall = store.sequence();
  const result = await backup(to);
  const target = loop.acked + 10;
  await pollUntil('the loop wrote after the backup', () => loop.acked >= target, 30_000);
  const total = await loop.stop();

  expect(result.dir).toBe(to);
  expect(result.sequence).toBeGreaterThanOrEqual(sequenceAtCall);
  expect(
    readdirSync(to).filter((n) => !/^\d{6,}\.(log|sst|hint|keys)$/.test(n)),
    'nothing but segments, hints and key runs is copied',
  ).toEqual([]);
  const copy = await Store.open(to, OPTIONS);
  try {
    // First thing after open (a close ends the last segment with a sync mark, a new number).
    expect((await copy.stats()).lastSeq, 'the backup ends at the captured sequence').toBe(
      result.sequence,
    );
    const actual = contentsOf(copy);
    expect((await copy.stats()).keys).toBe(actual.size);
    const n = Number(actual.get('loop:cursor'));
    expect(n, 'every batch acknowledged before the call is in the backup').toBeGreaterThanOrEqual(
      ackedAtCall,
    );
    expect(n).toBeLessThanOrEqual(total);
    const expected = modelAfter(loaded, n);
    expect(
      actual.size === expected.size && [...expected].every(([k, v]) => actual.get(k) === v),
      `the backup is the store after the loop's batch ${n}: ${describeDiff(actual, expected)}`,
    ).toBe(true);
    for (const [k, at] of loaded.expiries) expect(copy.expirySync(k), k).toBe(at);
    await copy.set('written-to-the-copy', 'yes'); // it is a normal store
  } finally {
    await copy.close();
  }
  expect(store.getSync('written-to-the-copy')).toBeUndefined();
  return result;
}

/** Backup files sharing an inode with the store's file of the same name. */
function linkedFiles(source: string, backup: string): string[] {
  return readdirSync(backup).filter((name) => {
    const own = join(source, name);
    return existsSync(own) && statSync(own).ino === statSync(join(backup, name)).ino;
  });
}

describe('Store.backup', () => {
  it('a backup opened and compared key by key, while a loop writes: sealed files hard-linked', async () => {
    const dir = await makeTempDir('backup-src');
    const to = join(await makeTempDir('backup-dst'), 'copy');
    const store = await Store.open(dir, OPTIONS);
    try {
      const loaded = await load(store);
      const result = await backupDuringWrites(store, loaded, to);
      const linked = linkedFiles(dir, to);
      expect(linked.length, 'every linked file shares its inode').toBe(result.linked);
      expect(result.linked).toBeGreaterThan(2);
      expect(result.copied, 'only the active segment is copied').toBe(1);
      const dataFiles = readdirSync(to).filter((n) => /^\d{6,}\.(log|sst|hint|keys)$/.test(n));
      expect(result.files).toBe(dataFiles.length);
      for (const name of linked) expect(statSync(join(to, name)).nlink).toBeGreaterThanOrEqual(2);
      expect(readdirSync(to).filter((n) => n.endsWith('.sst')).length).toBeGreaterThan(0);
      expect(readdirSync(to).filter((n) => n.endsWith('.keys')).length).toBeGreaterThan(0);
      // The source keeps working, and a merge there leaves the backup intact.
      await store.compact();
      expect((await contentsAt(to)).size).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  it('copies every file with link: false, even while compact() retires the files it copies', async () => {
    const dir = await makeTempDir('backup-src');
    const to = join(await makeTempDir('backup-dst'), 'copy');
    const store = await Store.open(dir, OPTIONS);
    try {
      const loaded = await load(store);
      const before = readdirSync(dir).filter((n) => n.endsWith('.log'));
      const result = await backupDuringWrites(store, loaded, to, async (t) => {
        const [backup] = await Promise.all([store.backup(t, { link: false }), store.compact()]);
        return backup;
      });
      expect(result.linked).toBe(0);
      expect(result.copied).toBe(result.files);
      expect(result.copiedBytes).toBe(result.bytes);
      expect(linkedFiles(dir, to)).toEqual([]);
      const after = readdirSync(dir).filter((n) => n.endsWith('.log'));
      expect(
        before.filter((n) => after.includes(n)),
        'the merge retired the old segments',
      ).toEqual([]);
    } finally {
      await store.close();
    }
  });

  const shm = '/dev/shm';
  const otherFileSystem =
    existsSync(shm) && statSync(shm).dev !== statSync(dirname(process.cwd())).dev;
  it.skipIf(!otherFileSystem)(
    'copies across file systems (/dev/shm): links fail with EXDEV',
    async () => {
      const dir = await makeTempDir('backup-src');
      const parent = await mkdtemp(join(shm, 'kvd-backup-'));
      try {
        const store = await Store.open(dir, OPTIONS);
        try {
          const loaded = await load(store);
          const result = await backupDuringWrites(store, loaded, join(parent, 'copy'));
          expect(result.linked).toBe(0);
          expect(result.copied).toBe(result.files);
        } finally {
          await store.close();
        }
      } finally {
        await rm(parent, { recursive: true, force: true });
      }
    },
  );

  it('refuses a destination that is taken, a closed store and bad arguments', async () => {
    const dir = await makeTempDir('backup-src');
    const parent = await makeTempDir('backup-dst');
    const store = await Store.open(dir, OPTIONS);
    await store.set('a', '1');
    const taken = join(parent, 'taken');
    mkdirSync(taken);
    writeFileSync(join(taken, 'something'), 'x');
    await expectRejectsWith(store.backup(taken), 'KV_EXISTS', 'a non-empty directory: ');
    await expectRejectsWith(store.backup(taken, { replace: true }), 'KV_EXISTS', 'not a store: ');
    writeFileSync(join(parent, 'file'), 'x');
    await expectRejectsWith(store.backup(join(parent, 'file')), 'KV_EXISTS', 'a file: ');
    await expectRejectsWith(store.backup(join(dir, 'inside')), 'KV_INVALID_ARGUMENT', 'inside: ');
    await expectRejectsWith(store.backup(dir), 'KV_INVALID_ARGUMENT', 'the store itself: ');
    await expectRejectsWith(store.backup(dirname(dir)), 'KV_INVALID_ARGUMENT', 'holding it: ');
    await expectRejectsWith(
      store.backup(join(parent, 'x'), { hardLinks: true } as never),
      'KV_INVALID_ARGUMENT',
      'unknown option: ',
    );
    await expectRejectsWith(store.backup(''), 'KV_INVALID_ARGUMENT', 'empty path: ');
    for (const bytesPerSecond of [-1, Number.NaN, Number.POSITIVE_INFINITY, '1M']) {
      await expectRejectsWith(
        store.backup(join(parent, 'x'), { bytesPerSecond } as never),
        'KV_INVALID_ARGUMENT',
        `bytesPerSecond ${String(bytesPerSecond)}: `,
      );
    }
    expect(readdirSync(parent).sort(), 'a refused backup leaves nothing').toEqual([
      'file',
      'taken',
    ]);
    // An empty directory is taken over.
    const empty = join(parent, 'empty');
    mkdirSync(empty);
    await store.backup(empty);
    expect((await contentsAt(empty)).get('a')).toBe('1');
    await store.close();
    await expectRejectsWith(store.backup(join(parent, 'late')), 'KV_CLOSED');
    expect(existsSync(join(parent, 'late'))).toBe(false);
  });

  it('replace: moves an earlier backup to <dir>.old, replacing an older one', async () => {
    const dir = await makeTempDir('backup-src');
    const to = join(await makeTempDir('backup-dst'), 'copy');
    const store = await Store.open(dir, OPTIONS);
    try {
      for (const round of ['one', 'two', 'three']) {
        await store.set('round', round);
        await store.backup(to, { replace: true });
      }
      await expectRejectsWith(store.backup(to), 'KV_EXISTS', 'without replace: ');
    } finally {
      await store.close();
    }
    expect((await contentsAt(to)).get('round')).toBe('three');
    expect((await contentsAt(`${to}.old`)).get('round')).toBe('two');
    expect(readdirSync(dirname(to)).sort()).toEqual(['copy', 'copy.old']);
  });

  it('runs concurrent backups: to two places both complete; to one place one wins', async () => {
    const dir = await makeTempDir('backup-src');
    const parent = await makeTempDir('backup-dst');
    const store = await Store.open(dir, OPTIONS);
    try {
      const loaded = await load(store);
      const [a, b] = await Promise.all([
        store.backup(join(parent, 'a')),
        store.backup(join(parent, 'b'), { link: false }),
      ]);
      expect(await contentsAt(a.dir)).toEqual(loaded.model);
      expect(await contentsAt(b.dir)).toEqual(loaded.model);
      const same = await Promise.allSettled([
        store.backup(join(parent, 'same')),
        store.backup(join(parent, 'same')),
      ]);
      expect(same.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = same.find((s) => s.status === 'rejected');
      expect((refused as PromiseRejectedResult).reason.code).toBe('KV_EXISTS');
      expect(await contentsAt(join(parent, 'same'))).toEqual(loaded.model);
      expect(readdirSync(parent).sort(), 'no staging directory is left').toEqual([
        'a',
        'b',
        'same',
      ]);
    } finally {
      await store.close();
    }
  });

  it('removes leftover staging directories of dead backups, keeps live ones', async () => {
    const dir = await makeTempDir('backup-src');
    const parent = await makeTempDir('backup-dst');
    const to = join(parent, 'copy');
    const dead = `${to}.tmp-2147483646-1`; // no such pid (pid_max is at most 2^22)
    const live = `${to}.tmp-${process.ppid}-1`; // no lock file (an older kvd): the pid decides
    const ours = `${to}.tmp-${process.pid}-999999`; // this pid, but no backup in flight
    // A live backup in another pid namespace: its pid names no process here, its lock is held.
    const elsewhere = `${to}.tmp-2147483645-1`;
    // A dead backup whose pid a live process has taken since: its lock is free.
    const reused = `${to}.tmp-${process.ppid}-2`;
    for (const leftover of [dead, live, ours, elsewhere, reused]) {
      mkdirSync(leftover);
      writeFileSync(join(leftover, '000001.log'), 'partial');
    }
    writeFileSync(join(reused, STAGING_LOCK_FILE), '');
    // An open file description's lock conflicts with every other one, also in this process.
    const held = openSync(join(elsewhere, STAGING_LOCK_FILE), 'w');
    expect(fileLocks, 'kvd_native.node must be built (npm run build:native)').toBeDefined();
    expect(fileLocks!.lock(held)).toBe(0);
    const store = await Store.open(dir, OPTIONS);
    try {
      await store.set('a', '1');
      await store.backup(to);
      expect(readdirSync(parent).sort()).toEqual(
        ['copy', basename(live), basename(elsewhere)].sort(),
      );
      expect(readdirSync(to), 'the staging lock is not in the backup').not.toContain(
        STAGING_LOCK_FILE,
      );
      // Once its holder is gone, the next backup there removes it.
      closeSync(held);
      await store.backup(to, { replace: true });
      expect(readdirSync(parent).sort()).toEqual(['copy', 'copy.old', basename(live)].sort());
    } finally {
      await store.close();
    }
    expect((await contentsAt(to)).get('a')).toBe('1');
  });

  it('a backup whose new staging directory is claimed as a leftover fails, filling nothing', async () => {
    const parent = await makeTempDir('backup-dst');
    const staging = join(parent, 'copy.tmp-1-1');
    mkdirSync(staging);
    const claimed = claimLeftover(staging); // another cleanup, an instant after the mkdir
    expect(claimed).toMatchObject({ close: expect.any(Function) });
    try {
      expect(() => lockStaging(staging)).toThrow(expect.objectContaining({ code: 'KV_IO' }));
      expect(claimLeftover(staging)).toBe('live');
    } finally {
      (claimed as StagingLock).close();
    }
    const own = lockStaging(staging);
    expect(claimLeftover(staging)).toBe('live');
    own!.close();
    rmSync(staging, { recursive: true });
    expect(claimLeftover(staging)).toBe('gone');
  });

  it('bytesPerSecond paces the copying, and a close stops a paced backup at once', async () => {
    const dir = await makeTempDir('backup-src');
    const parent = await makeTempDir('backup-dst');
    const store = await Store.open(dir, { ...OPTIONS, segmentBytes: 64 * 1024 * 1024 });
    const value = 'v'.repeat(64 * 1024);
    await Promise.all(Array.from({ length: 48 }, (_, i) => store.set(`big:${i}`, value)));
    // ~3 MiB in the active segment at 4 MiB a second: at least ~0.75 s, however fast the disk.
    const started = performance.now();
    const paced = await store.backup(join(parent, 'paced'), { bytesPerSecond: 4 * 1024 * 1024 });
    const seconds = (performance.now() - started) / 1000;
    expect(paced.copiedBytes).toBeGreaterThan(3 * 1024 * 1024);
    expect(seconds).toBeGreaterThanOrEqual((0.9 * paced.copiedBytes) / (4 * 1024 * 1024));
    expect((await contentsAt(join(parent, 'paced'))).size).toBe(48);
    // At 64 KiB a second the copy would take ~48 s; the close stops it within a pause.
    const slow = store.backup(join(parent, 'slow'), { bytesPerSecond: 64 * 1024 });
    await pollUntil('the paced backup is staging', () => readdirSync(parent).length > 1, 10_000);
    const [outcome] = await Promise.allSettled([slow, store.close()]);
    expect(outcome!.status).toBe('rejected');
    expect((outcome as PromiseRejectedResult).reason.code).toBe('KV_CLOSED');
    expect(readdirSync(parent), 'no staging directory is left').toEqual(['paced']);
  });

  it('a close during a backup stops it cleanly: the backup either completes or leaves nothing', async () => {
    const dir = await makeTempDir('backup-src');
    const parent = await makeTempDir('backup-dst');
    const to = join(parent, 'copy');
    const store = await Store.open(dir, { ...OPTIONS, segmentBytes: 64 * 1024 * 1024 });
    const value = 'v'.repeat(64 * 1024);
    await Promise.all(Array.from({ length: 512 }, (_, i) => store.set(`big:${i}`, value)));
    // 32 MiB in the active segment: 32 chunks to copy. Close once the copy has begun.
    const backup = store.backup(to, { link: false });
    const copying = () =>
      readdirSync(parent).some((staging) => {
        const files = readdirSync(join(parent, staging));
        return files.some((f) => statSync(join(parent, staging, f)).size > 0);
      });
    await pollUntil('the backup is copying', copying, 30_000).catch(() => {});
    const [outcome] = await Promise.allSettled([backup, store.close()]);
    if (outcome!.status === 'fulfilled') {
      expect((await contentsAt(to)).size).toBe(512);
    } else {
      expect(outcome!.reason.code).toBe('KV_CLOSED');
      expect(readdirSync(parent), 'no backup and no staging directory').toEqual([]);
    }
  });
});
