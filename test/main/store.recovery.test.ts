// Recovery and corruption, driven through the files on disk: a torn final record cut at every
// byte offset, a batch cut in the middle, a flipped byte in a sealed segment (open refuses) and
// a flipped byte in a record being read while the store is open (reads refuse).

import {
  closeSync,
  cpSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../dist/main/index.js';
import { expectRejectsWith, expectThrowsWith } from '../fixtures/kv-errors.js';
import {
  allZero,
  FIELD,
  FLAG_IN_BATCH,
  RECORD_HEADER,
  type RecordSpan,
  readSegment,
  SYNC_MARK_BYTES,
  segmentFiles,
  TYPE_BATCH_COMMIT,
  tornFiles,
} from '../fixtures/segment-file.js';
import { makeTempDir, removeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const OPTIONS: StoreOptions = { readers: 1, durability: 'no', segmentBytes: 4096 };

/** Copies store directory `from` to a fresh temp dir (each damaged variant gets its own). */
async function copyStore(from: string, label: string): Promise<string> {
  const to = await makeTempDir(label);
  cpSync(from, to, { recursive: true });
  return to;
}

/** Writes byte `b` at `offset` of `path` in place. */
function pokeByte(path: string, offset: number, b: number): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Uint8Array.of(b), 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

function lastSegment(dir: string): string {
  const names = segmentFiles(dir);
  return names[names.length - 1]!;
}

async function readAll(store: Store, keys: readonly string[]): Promise<(string | undefined)[]> {
  return (await store.getMany(keys)).map((v) => v?.toString());
}

describe('recovery of a torn tail', () => {
  afterEach(removeTempDirs);

  it('cut at every byte offset of the final record: earlier records kept, final one gone, cut bytes saved', async () => {
    const source = await makeTempDir('torn-src');
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    const store = await Store.open(source, OPTIONS);
    for (const k of keys) await store.set(k, `value-of-${k}`);
    await store.set('final', 'the-final-value');
    await store.close();

    const name = lastSegment(source);
    const { bytes, records, marks } = readSegment(source, name);
    const final = records[records.length - 1]!;
    expect(final.key.toString()).toBe('final');
    // Close ended the segment with a sync mark right after the final record; a cut inside the
    // record takes the mark too, so nothing says the record was synced: a torn tail.
    expect(marks.at(-1)!.offset).toBe(final.offset + final.length);
    expect(final.offset + final.length + SYNC_MARK_BYTES).toBe(bytes.length);

    for (let cut = final.offset; cut < final.offset + final.length; cut++) {
      const dir = await copyStore(source, 'torn');
      const path = join(dir, name);
      truncateSync(path, cut);
      const reopened = await Store.open(dir, OPTIONS);
      try {
        const at = `cut at ${cut} (record at ${final.offset})`;
        expect(await readAll(reopened, keys), at).toEqual(keys.map((k) => `value-of-${k}`));
        expect(await reopened.get('final'), at).toBeUndefined();
        expect(reopened.getSync('final'), at).toBeUndefined();
        const stats = await reopened.stats();
        expect(stats.keys, at).toBe(keys.length);
        // Only zeros left of the record (its CRC's first byte, say) read as preallocated space:
        // trimmed, but neither counted nor saved.
        const onlyZeros = allZero(bytes, final.offset, cut);
        expect(stats.recovery.truncatedBytes, at).toBe(onlyZeros ? 0 : cut - final.offset);
        expect(readFileSync(path).length, `${at}: segment cut back to the record start`).toBe(
          final.offset,
        );
        if (!onlyZeros) {
          expect(tornFiles(dir, name), at).toEqual([`${name}.torn-${final.offset}`]);
          const saved = readFileSync(join(dir, `${name}.torn-${final.offset}`));
          expect(saved.equals(bytes.subarray(final.offset, cut)), `${at}: saved bytes`).toBe(true);
        } else {
          expect(tornFiles(dir, name), at).toEqual([]);
        }
        // The log is appendable again where the torn record was.
        await reopened.set('after', 'appended-after-recovery');
      } finally {
        await reopened.close();
      }
      if (cut % 8 === 0) {
        const again = await Store.open(dir, OPTIONS);
        try {
          expect((await again.get('after'))?.toString()).toBe('appended-after-recovery');
          expect((await again.stats()).recovery.truncatedBytes).toBe(0);
        } finally {
          await again.close();
        }
      }
      await removeTempDir(dir);
    }
  }, 120_000);

  it('a torn overwrite or delete brings the previous value back', async () => {
    const source = await makeTempDir('torn-prev');
    const store = await Store.open(source, OPTIONS);
    await store.set('overwritten', 'old');
    await store.set('deleted', 'still-here');
    await store.set('overwritten', 'new-but-torn');
    await store.delete('deleted');
    await store.close();
    const name = lastSegment(source);
    const { records } = readSegment(source, name);
    const [overwrite, tombstone] = records.slice(-2) as [RecordSpan, RecordSpan];

    for (const [cut, expected] of [
      // Tombstone torn: the overwrite stands, the deleted key is back.
      [tombstone.offset + 3, { overwritten: 'new-but-torn', deleted: 'still-here' }],
      [tombstone.offset + RECORD_HEADER, { overwritten: 'new-but-torn', deleted: 'still-here' }],
      // Overwrite torn too: the old value is back.
      [overwrite.offset + RECORD_HEADER + 2, { overwritten: 'old', deleted: 'still-here' }],
      [overwrite.offset + overwrite.length - 1, { overwritten: 'old', deleted: 'still-here' }],
    ] as const) {
      const dir = await copyStore(source, 'torn-prev');
      truncateSync(join(dir, name), cut);
      const reopened = await Store.open(dir, OPTIONS);
      try {
        expect({
          overwritten: reopened.getSync('overwritten')?.toString(),
          deleted: (await reopened.get('deleted'))?.toString(),
        }).toEqual(expected);
        expect((await reopened.stats()).keys).toBe(2);
      } finally {
        await reopened.close();
      }
    }
  }, 60_000);

  it('a batch cut anywhere before its commit record is dropped whole', async () => {
    const source = await makeTempDir('torn-batch');
    const store = await Store.open(source, OPTIONS);
    await store.set('a', 'a0');
    await store.set('b', 'b0');
    await store.set('c', 'c0');
    await store.batch([
      { type: 'set', key: 'a', value: 'a1' },
      { type: 'delete', key: 'b' },
      { type: 'set', key: 'n1', value: 'new-1' },
      { type: 'set', key: 'n2', value: 'new-2' },
    ]);
    await store.close();
    const name = lastSegment(source);
    const { bytes, records } = readSegment(source, name);
    const batch = records.filter((r) => r.flags & FLAG_IN_BATCH);
    const commit = records[records.length - 1]!;
    expect(batch).toHaveLength(4);
    expect(commit.type).toBe(TYPE_BATCH_COMMIT);
    const start = batch[0]!.offset;
    const keys = ['a', 'b', 'c', 'n1', 'n2'];

    // Untouched, the batch is applied.
    const whole = await Store.open(await copyStore(source, 'batch-whole'), OPTIONS);
    try {
      expect(await readAll(whole, keys)).toEqual(['a1', undefined, 'c0', 'new-1', 'new-2']);
    } finally {
      await whole.close();
    }

    // Cut points: every record boundary inside the batch, mid-header, mid-key, mid-value, and
    // every byte of the commit record.
    const cuts = new Set<number>();
    for (const r of batch) {
      cuts.add(r.offset);
      cuts.add(r.offset + 1);
      cuts.add(r.offset + RECORD_HEADER - 1);
      cuts.add(r.offset + RECORD_HEADER + 1);
      cuts.add(r.offset + r.length - 1);
    }
    for (let at = commit.offset; at < commit.offset + commit.length; at++) cuts.add(at);
    cuts.delete(start); // a cut exactly before the batch loses nothing to recover

    for (const cut of cuts) {
      const dir = await copyStore(source, 'batch-cut');
      truncateSync(join(dir, name), cut);
      const reopened = await Store.open(dir, OPTIONS);
      try {
        const at = `batch cut at ${cut} (batch starts at ${start})`;
        expect(await readAll(reopened, keys), at).toEqual(['a0', 'b0', 'c0', undefined, undefined]);
        const stats = await reopened.stats();
        expect(stats.keys, at).toBe(3);
        const onlyZeros = allZero(bytes, start, cut);
        expect(stats.recovery.truncatedBytes, at).toBe(onlyZeros ? 0 : cut - start);
        expect(tornFiles(dir, name), at).toEqual(onlyZeros ? [] : [`${name}.torn-${start}`]);
        expect(readFileSync(join(dir, name)).length, at).toBe(start);
      } finally {
        await reopened.close();
      }
      await removeTempDir(dir);
    }
    // Close's sync mark follows the commit.
    expect(bytes.length).toBe(commit.offset + commit.length + SYNC_MARK_BYTES);
  }, 120_000);
});

describe('corruption', () => {
  afterEach(removeTempDirs);

  it('a flipped byte in the middle of the last segment after a clean close is damage, not a torn tail', async () => {
    // The case a hostile test found: the old recovery cut 225 KB as a "torn tail" and opened
    // without 1,503 acknowledged, flushed keys.
    const dir = await makeTempDir('last-damage');
    const options: StoreOptions = { readers: 1, durability: 'no', segmentBytes: 512 * 1024 };
    const store = await Store.open(dir, options);
    for (let i = 0; i < 10_000; i += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, j) =>
          store.set(`key-${i + j}`, `value-${i + j}-${'x'.repeat(100)}`),
        ),
      );
    }
    await store.close();
    rmSync(join(dir, 'INDEX-SNAPSHOT'));
    const name = lastSegment(dir);
    const { bytes, records } = readSegment(dir, name);
    expect(segmentFiles(dir).length).toBeGreaterThan(1);
    const victim = records[Math.floor(records.length / 2)]!;
    pokeByte(
      join(dir, name),
      victim.offset + RECORD_HEADER + 3,
      bytes[victim.offset + RECORD_HEADER + 3]! ^ 0x04,
    );
    const error = await expectRejectsWith(Store.open(dir, options), 'KV_CORRUPTION');
    expect(error.message).toContain(`${name} at offset ${victim.offset}`);
    const after = records.filter((r) => r.offset > victim.offset).length + 1; // + the close mark
    expect(error.message).toContain(`${after} valid records follow`);
    // Nothing was cut: every acknowledged byte is still in the file, and no .torn file exists.
    expect(readFileSync(join(dir, name)).length).toBe(bytes.length);
    expect(tornFiles(dir, name)).toEqual([]);
    // Repair keeps every other record, and names the one it lost.
    const repaired = await Store.open(dir, { ...options, repair: true });
    try {
      const report = (await repaired.stats()).recovery.repair!;
      const victimKey = victim.key.toString();
      // The flipped byte is the key's fourth: the damaged header names the key with it flipped.
      const asRead = Buffer.from(victim.key);
      asRead[3]! ^= 0x04;
      expect(report.lostKeys).toEqual([`${asRead.toString()} (as the damaged header reads)`]);
      expect((await repaired.stats()).keys).toBe(10_000 - 1);
      expect(await repaired.get(victimKey)).toBeUndefined();
      expect((await repaired.get('key-9999'))?.toString()).toMatch(/^value-9999-/);
    } finally {
      await repaired.close();
    }
  }, 60_000);

  /** A store with several sealed 4 KiB segments; returns its dir. */
  async function sealedStore(label: string): Promise<string> {
    const dir = await makeTempDir(label);
    const store = await Store.open(dir, OPTIONS);
    for (let i = 0; i < 120; i++) await store.set(`key-${i}`, `value-${i}-${'v'.repeat(60)}`);
    await store.close();
    expect(segmentFiles(dir).length).toBeGreaterThanOrEqual(3);
    // Without the index snapshot and hint files, open scans every segment, so it finds damage
    // (store.restart.test.ts covers damage that a snapshot lets open skip).
    for (const name of readdirSync(dir)) {
      if (name === 'INDEX-SNAPSHOT' || name.endsWith('.hint')) rmSync(join(dir, name));
    }
    return dir;
  }

  it('a flipped byte in a sealed segment makes open fail with KV_CORRUPTION naming file and offset', async () => {
    const source = await sealedStore('sealed');
    const name = segmentFiles(source)[0]!;
    const { records } = readSegment(source, name);
    const victim = records[Math.floor(records.length / 2)]!;
    const positions = [
      ['crc', victim.offset + FIELD.crc + 1],
      ['type', victim.offset + FIELD.type],
      ['seq', victim.offset + FIELD.seq],
      ['expiresAt', victim.offset + FIELD.expiresAt + 2],
      ['keyLen', victim.offset + FIELD.keyLen],
      ['valueLen', victim.offset + FIELD.valueLen],
      ['key', victim.offset + RECORD_HEADER + 1],
      ['value', victim.offset + victim.length - 1],
    ] as const;
    for (const [field, position] of positions) {
      const dir = await copyStore(source, 'sealed-flip');
      const path = join(dir, name);
      const original = readFileSync(path)[position]!;
      pokeByte(path, position, original ^ 0x40);
      const error = await expectRejectsWith(Store.open(dir, OPTIONS), 'KV_CORRUPTION');
      expect(error.message, `flip in ${field}`).toContain(name);
      expect(error.message, `flip in ${field}`).toContain(`offset ${victim.offset}`);
      // Nothing was cut off the damaged sealed segment, and the directory is not left locked.
      expect(tornFiles(dir, name)).toEqual([]);
      pokeByte(path, position, original);
      const repaired = await Store.open(dir, OPTIONS);
      try {
        expect((await repaired.stats()).keys).toBe(120);
      } finally {
        await repaired.close();
      }
      await removeTempDir(dir);
    }
  }, 60_000);

  it('a damaged sealed segment header makes open fail with KV_CORRUPTION at offset 0', async () => {
    const dir = await sealedStore('sealed-header');
    const name = segmentFiles(dir)[1]!;
    pokeByte(join(dir, name), 0, 0);
    const error = await expectRejectsWith(Store.open(dir, OPTIONS), 'KV_CORRUPTION');
    expect(error.message).toContain(name);
    expect(error.message).toContain('offset 0');
  });

  // inlineReadKeys 0: get and getMany go to the reader threads; 1024 (the default): this thread.
  describe.each([1024, 0])(
    'a flipped byte in a record being read, while the store is open (inlineReadKeys %i)',
    (inlineReadKeys) => {
      /**
       * Opens a store with a sealed and an active segment and calls `probe` for one record of
       * each, with a function that flips a byte of the record on disk (and restores it).
       */
      async function withOpenStore(
        probe: (
          store: Store,
          key: string,
          record: RecordSpan,
          flip: (at: number) => () => void,
        ) => Promise<void>,
      ): Promise<void> {
        const dir = await makeTempDir('flip-open');
        const store = await Store.open(dir, { ...OPTIONS, inlineReadKeys });
        try {
          for (let i = 0; i < 100; i++) await store.set(`key-${i}`, `value-${i}-${'v'.repeat(60)}`);
          const names = segmentFiles(dir);
          expect(names.length).toBeGreaterThanOrEqual(2);
          for (const name of [names[0]!, names[names.length - 1]!]) {
            const { records } = readSegment(dir, name);
            const record = records[records.length - 1]!;
            const key = record.key.toString();
            const path = join(dir, name);
            const flip = (at: number) => {
              const original = readFileSync(path)[record.offset + at]!;
              pokeByte(path, record.offset + at, original ^ 0x01);
              return () => pokeByte(path, record.offset + at, original);
            };
            expect(store.getSync(key)?.toString()).toBe(record.value.toString());
            await probe(store, key, record, flip);
            // Restored: served again.
            expect(store.getSync(key)?.toString()).toBe(record.value.toString());
            expect((await store.get(key))?.toString()).toBe(record.value.toString());
          }
        } finally {
          await store.close();
        }
      }

      async function expectCorruptionEverywhere(store: Store, key: string, what: string) {
        const sync = expectThrowsWith(
          () => store.getSync(key),
          'KV_CORRUPTION',
          `${what}: getSync: `,
        );
        expect(sync.message, what).toMatch(/\d{6}\.log/);
        await expectRejectsWith(store.get(key), 'KV_CORRUPTION', `${what}: get: `);
        await expectRejectsWith(
          store.getMany(['key-0', key]),
          'KV_CORRUPTION',
          `${what}: getMany: `,
        );
      }

      /** Flips each record byte in `positions` in turn: every read path must raise KV_CORRUPTION. */
      async function expectCorruptionAtEach(
        store: Store,
        key: string,
        positions: readonly number[],
        flip: (at: number) => () => void,
      ) {
        for (const at of positions) {
          const restore = flip(at);
          try {
            await expectCorruptionEverywhere(store, key, `${key}: flip at record byte ${at}`);
          } finally {
            restore();
          }
        }
      }

      it('in the header (after the CRC field too) or the value: get, getSync and getMany raise KV_CORRUPTION', async () => {
        await withOpenStore(async (store, key, record, flip) => {
          const keyStart = RECORD_HEADER;
          const valueStart = RECORD_HEADER + record.key.length;
          const positions: number[] = [];
          for (let at = 0; at < keyStart; at++) {
            if (at >= FIELD.keyLen && at < FIELD.keyLen + 4) continue; // covered by the next test
            positions.push(at);
          }
          for (let at = valueStart; at < record.length; at++) positions.push(at);
          await expectCorruptionAtEach(store, key, positions, flip);
        });
      }, 60_000);

      it('gets issued together: the damaged key rejects, the others still resolve', async () => {
        await withOpenStore(async (store, key, record, flip) => {
          const others = ['key-3', 'key-97'].filter((k) => k !== key);
          const restore = flip(RECORD_HEADER + record.key.length); // the value's first byte
          try {
            const results = await Promise.allSettled([key, ...others].map((k) => store.get(k)));
            const [damaged, ...rest] = results;
            expect(damaged?.status).toBe('rejected');
            if (damaged?.status === 'rejected') expect(damaged.reason.code).toBe('KV_CORRUPTION');
            // Pooled, one reader task carried the tick's gets and failed; each is then read
            // again alone, so only the damaged one rejects.
            for (const [i, result] of rest.entries()) {
              expect(result.status === 'fulfilled' && result.value?.toString()).toMatch(
                new RegExp(`^value-${others[i]!.slice(4)}-`),
              );
            }
          } finally {
            restore();
          }
        });
      });

      // The key bytes and key length are covered by the CRC like everything else: a record whose
      // key no longer matches because it was damaged must be reported, not read as "absent".
      it('in the key bytes or key length: reads raise KV_CORRUPTION rather than report the key absent', async () => {
        await withOpenStore(async (store, key, record, flip) => {
          const positions: number[] = [];
          for (let at = FIELD.keyLen; at < FIELD.keyLen + 4; at++) positions.push(at);
          for (let at = RECORD_HEADER; at < RECORD_HEADER + record.key.length; at++)
            positions.push(at);
          await expectCorruptionAtEach(store, key, positions, flip);
        });
      }, 60_000);
    },
  );
});
