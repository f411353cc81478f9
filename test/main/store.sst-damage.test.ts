// Damage to a data segment (`NNNNNN.sst`, what compact() writes) in a real store: a flipped byte
// in each of its regions (data block entries and framing, index, filter, properties, footer)
// fails the open with the file and offset when recovery reads it; behind an index snapshot a
// get of the damaged entry is KV_CORRUPTION while every other key reads right;
// `repair: true` keeps every entry whose own checksum holds, names the lost key, and saves the
// damaged bytes aside; and a missing key run is rebuilt at open.

import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../dist/main/index.js';
import { BLOCK_TRAILER_BYTES, FOOTER_BYTES } from '../../dist/shared/sorted-format.js';
import {
  openSortedSegment,
  type SortedSegmentReader,
} from '../../dist/shared/sorted-segment-reader.js';
import { flipByte } from '../fixtures/file-bytes.js';
import { expectRejectsWith, expectThrowsWith } from '../fixtures/kv-errors.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const OPTIONS: StoreOptions = {
  readers: 1,
  durability: 'no',
  segmentBytes: 4096,
  compaction: { auto: false },
};
const SNAPSHOT = 'INDEX-SNAPSHOT';
const KEYS = 400;

/** The value key `i` holds in the built store (odd keys were overwritten; every 9th deleted). */
function expectedValue(i: number): string | undefined {
  if (i % 9 === 4) return undefined;
  return i % 2 ? `second-${i}` : `first-${i}-${'x'.repeat(40)}`;
}
const key = (i: number) => `key-${String(i).padStart(3, '0')}`;

let pristine: string;
let sstName: string;

/** A store merged into one data segment (plus an empty active log), built once and copied. */
beforeAll(async () => {
  // Not a makeTempDir: afterEach removes those, and every test copies this one.
  pristine = mkdtempSync(join(tmpdir(), 'kvd-sst-pristine-'));
  const store = await Store.open(pristine, OPTIONS);
  for (let i = 0; i < KEYS; i++) await store.set(key(i), `first-${i}-${'x'.repeat(40)}`);
  for (let i = 1; i < KEYS; i += 2) await store.set(key(i), `second-${i}`);
  for (let i = 4; i < KEYS; i += 9) await store.delete(key(i));
  await store.set('expiring', 'soon', { expiresAt: Date.now() + 3_600_000 });
  await store.compact();
  await store.close();
  const ssts = readdirSync(pristine).filter((n) => n.endsWith('.sst'));
  expect(ssts).toHaveLength(1);
  sstName = ssts[0]!;
});

afterEach(removeTempDirs);
afterAll(() => rmSync(pristine, { recursive: true, force: true }));

async function copyOfStore(label: string, withSnapshot: boolean): Promise<string> {
  const dir = join(await makeTempDir(label), 'db');
  mkdirSync(dir);
  for (const name of readdirSync(pristine)) {
    if (name === SNAPSHOT && !withSnapshot) continue;
    copyFileSync(join(pristine, name), join(dir, name));
  }
  return dir;
}

function reader(): SortedSegmentReader {
  const r = openSortedSegment(readFileSync(join(pristine, sstName)));
  if (!('blockCount' in r)) throw new Error('the pristine data segment does not open');
  return r;
}

/** Where `key(i)`'s entry lies in the data segment (its value's bytes follow its key). */
function entryOffsetOf(i: number): number {
  const bytes = readFileSync(join(pristine, sstName));
  const at = bytes.indexOf(Buffer.from(`${key(i)}first-`));
  const alt = bytes.indexOf(Buffer.from(`${key(i)}second-`));
  const found = at >= 0 ? at : alt;
  if (found < 0) throw new Error(`${key(i)} not in the data segment`);
  return found;
}

async function expectEveryValue(store: Store, except: readonly number[] = []): Promise<void> {
  for (let i = 0; i < KEYS; i++) {
    if (except.includes(i)) continue;
    expect(store.getSync(key(i))?.toString(), key(i)).toBe(expectedValue(i));
  }
  expect(store.getSync('expiring')?.toString()).toBe('soon');
}

describe('a damaged data segment', () => {
  it('the store is as the test needs it: one data segment of several blocks, and it reads back', async () => {
    expect(reader().blockCount).toBeGreaterThanOrEqual(3);
    const store = await Store.open(await copyOfStore('sst-intact', false), OPTIONS);
    try {
      await expectEveryValue(store);
    } finally {
      await store.close();
    }
  });

  it('a flip in each region fails an open that reads the file, naming the file and offset', async () => {
    const r = reader();
    const size = readFileSync(join(pristine, sstName)).length;
    const targets: [string, number][] = [];
    for (let i = 0; i < r.blockCount; i++) {
      const h = r.blockHandle(i);
      targets.push([`block ${i} first byte`, h.offset]);
      targets.push([`block ${i} middle`, h.offset + (h.size >> 1)]);
      targets.push([`block ${i} framing`, h.offset + h.size - 2]);
      targets.push([`block ${i} trailer`, h.offset + h.size + BLOCK_TRAILER_BYTES - 1]);
    }
    for (const region of ['index', 'filter', 'properties'] as const) {
      const h = r.footer[region];
      targets.push([`${region} first byte`, h.offset]);
      targets.push([`${region} last byte`, h.offset + h.size + BLOCK_TRAILER_BYTES - 1]);
    }
    targets.push(['footer first byte', size - FOOTER_BYTES]);
    targets.push(['footer last byte', size - 1]);
    for (const [where, at] of targets) {
      const dir = await copyOfStore('sst-flip', false);
      flipByte(join(dir, sstName), at, 0x20);
      const error = await expectRejectsWith(
        Store.open(dir, OPTIONS),
        'KV_CORRUPTION',
        `${where}: `,
      );
      expect(error.message, where).toMatch(new RegExp(`${sstName}.* at offset \\d+`));
    }
  });

  it('behind an index snapshot, a get of the damaged entry is KV_CORRUPTION and every other key reads right', async () => {
    const dir = await copyOfStore('sst-snapshot', true);
    const victim = 50;
    flipByte(join(dir, sstName), entryOffsetOf(victim) + key(victim).length + 3, 0x10);
    const store = await Store.open(dir, OPTIONS);
    try {
      expect((await store.stats()).recovery.restoredSegments).toBeGreaterThan(0);
      expectThrowsWith(() => store.getSync(key(victim)), 'KV_CORRUPTION');
      await expectRejectsWith(store.get(key(victim)), 'KV_CORRUPTION');
      await expectEveryValue(store, [victim]);
    } finally {
      await store.close();
    }
  });

  it.each(['mmap', 'pread'] as const)(
    'behind an index snapshot, a range scan that reaches the damaged block is KV_CORRUPTION naming the file and block; others read right; keys() leaves out only the damaged key (readMode %s)',
    async (readMode) => {
      const dir = await copyOfStore(`sst-range-${readMode}`, true);
      const victim = 50;
      flipByte(join(dir, sstName), entryOffsetOf(victim) + key(victim).length + 3, 0x10);
      const r = reader();
      const block = r.blockFor(Buffer.from(key(victim)));
      const blockOffset = r.blockHandle(block).offset;
      // The first key of a block after the next one: a scan from it never reads the damaged block.
      let later = victim;
      while (r.blockFor(Buffer.from(key(later))) <= block + 1) later++;
      const store = await Store.open(dir, { ...OPTIONS, readMode });
      try {
        expect((await store.stats()).recovery.restoredSegments).toBeGreaterThan(0);
        const reaching = [
          {},
          { gte: key(victim) },
          { lte: key(victim), reverse: true },
          { gte: key(victim), values: false },
        ];
        for (const options of reaching) {
          const error = expectThrowsWith(() => [...store.rangeSync(options)], 'KV_CORRUPTION');
          expect(error.message).toContain(sstName);
          expect(error.message).toContain(`offset ${blockOffset}`);
        }
        await expectRejectsWith(
          (async () => {
            for await (const _ of store.range({ gte: key(victim - 1) }));
          })(),
          'KV_CORRUPTION',
        );
        const got = [...store.rangeSync({ gte: key(later), lt: 'key-999' })].map(
          (e) => `${e.key}=${e.value}`,
        );
        const want: string[] = [];
        for (let i = later; i < KEYS; i++) {
          const v = expectedValue(i);
          if (v !== undefined) want.push(`${key(i)}=${v}`);
        }
        expect(got).toEqual(want);
        // keys() reads each key alone: only the damaged one is left out.
        const listed = (await store.keys()).map(String);
        expect(listed).not.toContain(key(victim));
        expect(listed).toContain(key(victim - 2)); // key(victim - 1) was deleted
        expect(listed).toContain(key(victim + 1));
      } finally {
        await store.close();
      }
    },
  );

  it('repair: true keeps every intact entry of a damaged block, names the lost key, saves the block aside', async () => {
    const dir = await copyOfStore('sst-repair-block', false);
    const victim = 120;
    const at = entryOffsetOf(victim) + key(victim).length + 3;
    const block = blockContaining(at);
    flipByte(join(dir, sstName), at, 0x10);
    const damaged = readFileSync(join(dir, sstName));
    const store = await Store.open(dir, { ...OPTIONS, repair: true });
    try {
      const report = (await store.stats()).recovery.repair!;
      expect(report.damaged.map((d) => [d.file, d.offset])).toEqual([[sstName, block]]);
      expect(report.lostKeys).toEqual([`${key(victim)} (as the damaged entry reads)`]);
      const saved = report.damaged[0]!.savedTo;
      const savedBytes = readFileSync(saved);
      expect(savedBytes).toEqual(damaged.subarray(block, block + savedBytes.length));
      expect(store.getSync(key(victim))).toBeUndefined();
      await expectEveryValue(store, [victim]);
    } finally {
      await store.close();
    }
    // The rewritten file opens without repair, its key run rebuilt.
    const again = await Store.open(dir, OPTIONS);
    try {
      await expectEveryValue(again, [victim]);
      expect((await again.keys()).length).toBe((await again.stats()).keys);
    } finally {
      await again.close();
    }
  });

  it.each([
    ['index', (r: SortedSegmentReader) => r.footer.index.offset + 1],
    ['properties', (r: SortedSegmentReader) => r.footer.properties.offset + 1],
    ['footer', (_: SortedSegmentReader, size: number) => size - FOOTER_BYTES + 12],
  ])(
    'repair: true rebuilds a data segment whose %s is damaged, losing nothing',
    async (_, where) => {
      const dir = await copyOfStore('sst-repair-meta', false);
      const path = join(dir, sstName);
      flipByte(path, where(reader(), readFileSync(path).length), 0x04);
      const store = await Store.open(dir, { ...OPTIONS, repair: true });
      try {
        const report = (await store.stats()).recovery.repair!;
        expect(report.damaged.map((d) => d.file)).toEqual([sstName]);
        expect(report.lostKeys).toEqual([]);
        expect(existsSync(report.damaged[0]!.savedTo)).toBe(true);
        await expectEveryValue(store);
      } finally {
        await store.close();
      }
    },
  );

  it('repair: true sets aside a data segment whose footer and key run are both unreadable, naming every key', async () => {
    const dir = await copyOfStore('sst-repair-aside', false);
    const path = join(dir, sstName);
    flipByte(path, readFileSync(path).length - FOOTER_BYTES + 12, 0x04);
    rmSync(join(dir, sstName.replace('.sst', '.keys')));
    const store = await Store.open(dir, { ...OPTIONS, repair: true });
    try {
      const report = (await store.stats()).recovery.repair!;
      expect(report.setAside).toHaveLength(1);
      expect(report.lostKeys).toContain(key(0));
      expect(report.lostKeys).toContain('expiring');
      expect(existsSync(path)).toBe(false);
      expect((await store.stats()).keys).toBe(0);
    } finally {
      await store.close();
    }
  });
});

describe('a data segment without its key run', () => {
  it.each([
    ['with', true],
    ['without', false],
  ])('open %s an index snapshot rebuilds it, and range scans list every key', async (_, snap) => {
    const dir = await copyOfStore('sst-no-key-run', snap);
    const keyRun = join(dir, sstName.replace('.sst', '.keys'));
    rmSync(keyRun);
    const store = await Store.open(dir, OPTIONS);
    try {
      expect(existsSync(keyRun)).toBe(true);
      const expected = [
        ...Array.from({ length: KEYS }, (_, i) => i)
          .filter((i) => expectedValue(i) !== undefined)
          .map(key),
        'expiring',
      ].sort();
      expect([...store.rangeSync({ values: false })].map((e) => e.key.toString())).toEqual(
        expected,
      );
      await expectEveryValue(store);
    } finally {
      await store.close();
    }
  });
});

/** The offset of the data block holding file offset `at`. */
function blockContaining(at: number): number {
  const r = reader();
  for (let i = 0; i < r.blockCount; i++) {
    const h = r.blockHandle(i);
    if (at < h.offset + h.size + BLOCK_TRAILER_BYTES) return h.offset;
  }
  throw new Error(`${at} is in no data block`);
}
