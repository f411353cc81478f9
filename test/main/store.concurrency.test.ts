// Concurrency of the read paths with the writer: reader-pool getMany loops and getSync calls on
// random keys while the writer overwrites them and inserts many more (so the shared index grows
// and rehashes under the readers). Every value read must be one written for that key, never
// older than what was acknowledged before the read began, never torn. Plus read-your-writes.

import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { pollUntil } from '../fixtures/poll.js';
import { prng } from '../fixtures/prng.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const INITIAL_KEYS = 50;
const FINAL_KEYS = 5_000;
/** Independent runs on fresh stores: the early, small rehashes are the likeliest to race a read. */
const GROWTH_RUNS = 3;

function keyName(n: number): string {
  return `k${n}`;
}

/** The value of version `v` of key `n`: names both, padded to a length only they determine. */
function versionValue(n: number, v: number): string {
  return `${keyName(n)}:${v}:${'x'.repeat((n * 7 + v * 13) % 97)}`;
}

/** Splits a value read back into key number and version, or throws if it is not a valid one. */
function parseValue(text: string): { n: number; v: number } {
  const m = /^k(\d+):(\d+):(x*)$/.exec(text);
  if (!m) throw new Error(`malformed value ${JSON.stringify(text.slice(0, 80))}`);
  const n = Number(m[1]);
  const v = Number(m[2]);
  if (m[3]!.length !== (n * 7 + v * 13) % 97) throw new Error(`torn value ${text}`);
  return { n, v };
}

describe('Store under concurrent reads and writes (readers: 2)', () => {
  afterEach(removeTempDirs);

  it.each(Array.from({ length: GROWTH_RUNS }, (_, n) => n + 1))(
    'serves only written, acknowledged-or-newer, untorn values while the index grows (run %i; odd runs read through the reader pool)',
    async (run) => {
      const seed = Date.now() >>> 0;
      const random = prng(seed);
      const dir = await makeTempDir('concurrency');
      const store = await Store.open(dir, {
        readers: 2,
        durability: 'no',
        segmentBytes: 1 << 20,
        // inlineReadKeys 0: every get and getMany goes to the reader threads.
        ...(run % 2 === 1 ? { inlineReadKeys: 0 } : {}),
      });
      /** Highest version issued (set called) per key, and highest acknowledged (set resolved). */
      const issued: number[] = [];
      const acked: number[] = [];
      let keyCount = 0;
      let done = false;
      let capacity = (await store.stats()).indexCapacity;
      const initialCapacity = capacity;
      const capacitiesSeenByReaders = new Set<number>();
      let valuesChecked = 0;

      const check = (n: number, ackedBefore: number | undefined, value: Buffer | undefined) => {
        const what = `seed ${seed}: ${keyName(n)}`;
        if (value === undefined) {
          expect(ackedBefore, `${what}: absent after its write was acknowledged`).toBeUndefined();
          return;
        }
        const { n: readKey, v } = parseValue(value.toString('utf8'));
        expect(readKey, `${what}: value of another key`).toBe(n);
        expect(v, `${what}: older than acknowledged`).toBeGreaterThanOrEqual(ackedBefore ?? 0);
        // A write that is published but whose promise has not resolved yet may be seen: the bound
        // is the newest version issued so far, checked after the read completes.
        expect(v, `${what}: a version never written`).toBeLessThanOrEqual(issued[n] ?? -1);
        valuesChecked++;
      };

      const writer = async () => {
        const writeTick = (batch: number[]) => {
          for (const n of batch) issued[n] = (issued[n] ?? -1) + 1;
          return Promise.all(
            batch.map((n) => store.set(keyName(n), versionValue(n, issued[n]!))),
          ).then(() => {
            for (const n of batch) acked[n] = Math.max(acked[n] ?? -1, issued[n]!);
          });
        };
        // Start small, then grow to FINAL_KEYS while overwriting existing keys.
        await writeTick(Array.from({ length: INITIAL_KEYS }, (_, n) => n));
        keyCount = INITIAL_KEYS;
        while (keyCount < FINAL_KEYS) {
          const tick: number[] = [];
          for (let i = 0; i < 40 && keyCount < FINAL_KEYS; i++) tick.push(keyCount++);
          for (let i = 0; i < 30; i++) tick.push(Math.floor(random() * keyCount));
          await writeTick([...new Set(tick)]);
          const grown = (await store.stats()).indexCapacity;
          if (grown !== capacity) {
            capacity = grown;
            // Let the readers complete reads at this size before the table grows again, so the
            // test does not depend on how the threads happen to be scheduled: a poll bounded
            // in time, not in turns, since a loaded 2-core machine can take many turns.
            const size = grown;
            await pollUntil(
              `the readers have completed a read at index capacity ${size}`,
              () => capacitiesSeenByReaders.has(size),
              15_000,
            );
          }
        }
        // A last stretch of pure overwrites, so readers also race plain slot updates.
        for (let round = 0; round < 40; round++) {
          await writeTick([
            ...new Set(Array.from({ length: 60 }, () => Math.floor(random() * keyCount))),
          ]);
        }
      };

      const pooledReader = async () => {
        while (!done) {
          // Some keys beyond those written yet: they must read as absent.
          const ids = Array.from({ length: 100 }, () => Math.floor(random() * (keyCount + 50)));
          const before = ids.map((n) => (acked[n] === undefined ? undefined : acked[n]));
          const values = await store.getMany(ids.map(keyName));
          capacitiesSeenByReaders.add(capacity);
          ids.forEach((n, i) => {
            check(n, before[i], values[i]);
          });
        }
      };

      const mixedReader = async () => {
        while (!done) {
          const n = Math.floor(random() * (keyCount + 10));
          const before = acked[n];
          check(n, before, store.getSync(keyName(n)));
          const m = Math.floor(random() * (keyCount + 10));
          const beforeM = acked[m];
          check(m, beforeM, await store.get(keyName(m)));
        }
      };

      try {
        const writing = writer().finally(() => {
          done = true;
        });
        await Promise.all([writing, pooledReader(), pooledReader(), pooledReader(), mixedReader()]);
        const stats = await store.stats();
        expect(stats.keys).toBe(FINAL_KEYS);
        expect(stats.indexCapacity).toBeGreaterThan(initialCapacity);
        // Reads completed while the table had several different sizes: they raced the rehashes.
        expect(capacitiesSeenByReaders.size).toBeGreaterThanOrEqual(3);
        expect(valuesChecked).toBeGreaterThan(2_000);
        // Finally every key holds exactly its last acknowledged version.
        const all = Array.from({ length: FINAL_KEYS }, (_, n) => n);
        const values = await store.getMany(all.map(keyName));
        all.forEach((n) => {
          expect(values[n]?.toString()).toBe(versionValue(n, acked[n]!));
        });
      } finally {
        done = true;
        await store.close();
      }
    },
    90_000,
  );

  it.each([1024, 0])(
    'a loop of awaited reads yields to the event loop, so writes issued meanwhile complete (inlineReadKeys %i)',
    async (inlineReadKeys) => {
      const dir = await makeTempDir('yield');
      const store = await Store.open(dir, { readers: 1, durability: 'no', inlineReadKeys });
      try {
        await store.set('k', 'v');
        let written = false;
        const write = store.set('other', 'value').then(() => {
          written = true;
        });
        // Inline reads resolved by microtasks alone would spin here forever: the write's answer
        // comes from the writer thread as an event-loop message.
        let loops = 0;
        while (!written) {
          expect(++loops, 'reads never let the write complete').toBeLessThan(1_000_000);
          expect((await store.get('k'))?.toString()).toBe('v');
          expect(await store.getMany(['k'])).toHaveLength(1);
          expect(await store.has('k')).toBe(true);
        }
        await write;
        expect(store.getSync('other')?.toString()).toBe('value');
      } finally {
        await store.close();
      }
    },
  );

  it('read-your-writes: after await set/delete/batch, get, getSync, getMany and has agree', async () => {
    const dir = await makeTempDir('ryw');
    const store = await Store.open(dir, { readers: 2, durability: 'no', segmentBytes: 64 * 1024 });
    try {
      for (let i = 0; i < 1500; i++) {
        // New keys (the index grows past 1024 slots) interleaved with overwrites of old ones.
        const key = i % 3 === 2 ? `ryw-${Math.floor(i / 3)}` : `ryw-${i}`;
        const value = `value-${i}`;
        await store.set(key, value);
        expect(store.getSync(key)?.toString(), `getSync after set #${i}`).toBe(value);
        expect((await store.get(key))?.toString(), `get after set #${i}`).toBe(value);
        expect((await store.getMany([key]))[0]?.toString(), `getMany after set #${i}`).toBe(value);
        if (i % 10 === 0) {
          expect(await store.delete(key)).toBe(true);
          expect(store.getSync(key), `getSync after delete #${i}`).toBeUndefined();
          expect(await store.get(key), `get after delete #${i}`).toBeUndefined();
          expect(await store.has(key), `has after delete #${i}`).toBe(false);
          await store.batch([{ type: 'set', key, value: `${value}-batch` }]);
          expect(store.getSync(key)?.toString(), `getSync after batch #${i}`).toBe(
            `${value}-batch`,
          );
          expect(await store.has(key), `has after batch #${i}`).toBe(true);
        }
      }
      expect((await store.stats()).indexCapacity).toBeGreaterThan(1024);
    } finally {
      await store.close();
    }
  }, 60_000);
});
