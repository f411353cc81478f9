// Crash safety of the two steps that rewrite a data segment's files at open: recovery rebuilding
// a missing key run (fault point `key-run-rebuilt`) and `repair: true` rewriting a damaged data
// segment (`repair-written`). A child process opens the store and is killed with SIGKILL at the
// step (its new file written and synced, not yet renamed into place). Reopening must then give
// back every value (or, for the damaged segment, refuse until repaired, and repair it as an
// uninterrupted repair would, the damaged bytes kept), with range scans agreeing and no
// temporary file left.

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../dist/main/index.js';
import { ChildLines, fixturePath } from '../fixtures/child-lines.js';
import { flipByte } from '../fixtures/file-bytes.js';
import { expectRejectsWith } from '../fixtures/kv-errors.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const OPTIONS: StoreOptions = {
  readers: 1,
  durability: 'no',
  segmentBytes: 4096,
  compaction: { auto: false },
};
const KEYS = 300;
const key = (i: number) => `key-${String(i).padStart(3, '0')}`;
const value = (i: number) => `value-${i}-${'y'.repeat(30)}`;

afterEach(removeTempDirs);

/** A closed store whose keys all live in one data segment; returns its dir and the file's name. */
async function mergedStore(label: string): Promise<{ dir: string; sst: string }> {
  const dir = join(await makeTempDir(label), 'db');
  mkdirSync(dir);
  const store = await Store.open(dir, OPTIONS);
  for (let i = 0; i < KEYS; i++) await store.set(key(i), value(i));
  await store.compact();
  await store.close();
  const ssts = readdirSync(dir).filter((n) => n.endsWith('.sst'));
  expect(ssts).toHaveLength(1);
  rmSync(join(dir, 'INDEX-SNAPSHOT'), { force: true });
  return { dir, sst: ssts[0]! };
}

/** Opens `dir` in a child with `options` and KVD_FAULT=`point`; expects it killed there. */
async function openKilledAt(dir: string, options: StoreOptions, point: string): Promise<void> {
  const child = new ChildLines(
    process.execPath,
    [fixturePath('open-store-once.mjs'), dir, JSON.stringify(options)],
    { KVD_FAULT: point },
  );
  const lines: string[] = [];
  for (let line = await child.next(); line !== undefined; line = await child.next()) {
    lines.push(line);
  }
  expect({ lines, exit: await child.exited }).toEqual({
    lines: [],
    exit: { code: null, signal: 'SIGKILL' },
  });
}

/** Every value and a full range scan of `store`, except keys in `lost`. */
function expectContents(store: Store, lost: ReadonlySet<number> = new Set()): void {
  const want: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const got = store.getSync(key(i))?.toString();
    expect(got, key(i)).toBe(lost.has(i) ? undefined : value(i));
    if (!lost.has(i)) want.push(`${key(i)}=${value(i)}`);
  }
  expect([...store.rangeSync()].map((e) => `${e.key}=${e.value}`)).toEqual(want);
  expect([...store.rangeSync({ values: false })].map((e) => String(e.key))).toEqual(
    want.map((w) => w.split('=')[0]),
  );
}

function temporaryFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.tmp'));
}

describe('SIGKILL while a data segment is rewritten at open', () => {
  it('key-run-rebuilt: a reopen rebuilds the missing key run again and loses nothing', async () => {
    const { dir, sst } = await mergedStore('crash-key-run');
    const keysFile = sst.replace('.sst', '.keys');
    rmSync(join(dir, keysFile));
    await openKilledAt(dir, OPTIONS, 'key-run-rebuilt');
    // Killed between the synced temporary file and its rename: the run is still missing.
    expect(existsSync(join(dir, keysFile))).toBe(false);
    expect(temporaryFiles(dir)).not.toEqual([]);
    const store = await Store.open(dir, OPTIONS);
    try {
      expect(existsSync(join(dir, keysFile))).toBe(true);
      expect(temporaryFiles(dir)).toEqual([]);
      expectContents(store);
    } finally {
      await store.close();
    }
  });

  it('repair-written: the damage is still refused without repair, and a second repair ends as one uninterrupted repair does', async () => {
    const { dir, sst } = await mergedStore('crash-sst-repair');
    const victim = 123;
    const bytes = readFileSync(join(dir, sst));
    const at = bytes.indexOf(Buffer.from(`${key(victim)}${value(victim)}`));
    expect(at).toBeGreaterThan(0);
    flipByte(join(dir, sst), at + key(victim).length + 2, 0x01);
    // The same damage, repaired without a crash, for comparison.
    const reference = join(await makeTempDir('crash-sst-reference'), 'db');
    mkdirSync(reference);
    for (const name of readdirSync(dir)) copyFileSync(join(dir, name), join(reference, name));

    await openKilledAt(dir, { ...OPTIONS, repair: true }, 'repair-written');
    expect(readFileSync(join(dir, sst)).equals(readFileSync(join(reference, sst)))).toBe(true);
    await expectRejectsWith(Store.open(dir, OPTIONS), 'KV_CORRUPTION');

    const lost = new Set<number>();
    for (const target of [dir, reference]) {
      const store = await Store.open(target, { ...OPTIONS, repair: true });
      try {
        const report = (await store.stats()).recovery.repair;
        expect(report?.lostKeys, target).toEqual([`${key(victim)} (as the damaged entry reads)`]);
        lost.add(victim);
        expectContents(store, lost);
        expect(temporaryFiles(target)).toEqual([]);
      } finally {
        await store.close();
      }
    }
    // The killed repair had already saved the damaged block; the second saves it again under a
    // new name (a saved copy is never overwritten). Every copy holds the reference's bytes.
    const aside = (d: string) =>
      readdirSync(d)
        .filter((n) => n.includes('.damaged'))
        .sort();
    expect(aside(reference)).toHaveLength(1);
    const saved = readFileSync(join(reference, aside(reference)[0]!));
    expect(aside(dir)).toEqual([aside(reference)[0], `${aside(reference)[0]}.1`]);
    for (const name of aside(dir)) expect(readFileSync(join(dir, name)).equals(saved)).toBe(true);
  });
});
