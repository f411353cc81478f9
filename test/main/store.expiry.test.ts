// Expiry: expired bytes are dead bytes (stats() counts a live record whose expiry has passed as
// dead, and the automatic merge reclaims sealed segments whose keys have all expired), a read
// that finds a key expired has it deleted, and the active expiry cycle deletes expired keys
// nobody reads (issues "Reliability", item 3, and "Redis compatibility").

import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

describe('expiry and the merge triggers', () => {
  it('counts expired records as dead and merges away ten sealed segments whose keys all expired', async () => {
    const dir = await makeTempDir('expiry-merge');
    const store = await Store.open(dir, {
      readers: 1,
      durability: 'no',
      segmentBytes: 4096,
      compaction: { intervalMs: 50, bytesPerSecond: 0 },
    });
    try {
      const expiresAt = Date.now() + 400;
      // About 30 records a segment: 400 keys fill more than ten segments.
      for (let i = 0; i < 400; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            store.set(`session:${i + j}`, 'x'.repeat(100), { expiresAt }),
          ),
        );
      }
      await store.set('keep', 'forever');
      const before = await store.stats();
      const sealed = before.segments.filter((s) => !s.active);
      expect(sealed.length).toBeGreaterThanOrEqual(10);
      // Nothing has expired yet: every record is live.
      expect(before.segments.reduce((n, s) => n + s.expiredKeys, 0)).toBe(0);
      await pollUntil(
        'the expired segments are merged away',
        async () => {
          const s = await store.stats();
          return (
            s.segments.every((g) => g.active || g.merged) && s.diskBytes < before.diskBytes / 4
          );
        },
        20_000,
      );
      // The expired keys left the index too (the merge drops them, the expiry cycle deletes
      // those it samples, in the active segment as well).
      await pollUntil(
        'only the key without expiry is left',
        async () => (await store.stats()).keys === 1,
        20_000,
      );
      expect((await store.get('keep'))?.toString()).toBe('forever');
      expect(await store.get('session:7')).toBeUndefined();
    } finally {
      await store.close();
    }
  }, 30_000);

  it('reports expired bytes as dead in stats() once their second has passed', async () => {
    const dir = await makeTempDir('expiry-stats');
    const store = await Store.open(dir, {
      readers: 1,
      durability: 'no',
      compaction: { auto: false },
      expiryCycleMs: 0, // the cycle would delete the key before stats() sees it expired
    });
    try {
      await store.set('short', 'v'.repeat(50), { expiresAt: Date.now() + 100 });
      await store.set('long', 'v'.repeat(50));
      const live = (await store.stats()).liveBytes;
      await pollUntil(
        'the short key counts as expired',
        async () => (await store.stats()).segments[0]!.expiredKeys === 1,
        5_000,
      );
      const s = await store.stats();
      const recordBytes = 32 + 'short'.length + 50;
      expect(s.segments[0]).toMatchObject({
        expiredKeys: 1,
        expiredBytes: recordBytes,
        liveKeys: 1,
      });
      expect(s.liveBytes).toBe(live - recordBytes);
      // Overwriting the expired key moves nothing twice: its old bytes stay dead, once.
      await store.set('short', 'again');
      const t = await store.stats();
      expect(t.segments[0]!.expiredKeys).toBe(0);
      expect(t.deadBytes).toBe(s.deadBytes);
    } finally {
      await store.close();
    }
  });
});

describe('stats().withExpiry', () => {
  it('counts the keys with an expiry and their mean time left, across a merge and a reopen', async () => {
    const dir = await makeTempDir('expiry-with');
    const options = { readers: 1, durability: 'no', compaction: { auto: false } } as const;
    let store = await Store.open(dir, options);
    try {
      const now = Date.now();
      await store.set('plain', 'v');
      for (let i = 0; i < 100; i++) {
        await store.set(`t:${i}`, 'v', { expiresAt: now + 60_000 + i * 1_000 });
      }
      await store.set('t:0', 'new value, no expiry'); // an overwrite takes its expiry away
      await store.delete('t:1');
      const expectLive = async () => {
        const { keys, avgTtlMs } = (await store.stats()).withExpiry;
        expect(keys).toBe(98);
        // t:2 … t:99 expire 62 … 159 s from `now`: 110.5 s on average, to the end of each second.
        const mean = 110_500 - (Date.now() - now);
        expect(avgTtlMs).toBeGreaterThan(mean - 1);
        expect(avgTtlMs).toBeLessThan(mean + 1_001);
      };
      await expectLive();
      await store.compact();
      await expectLive();
      await store.close();
      store = await Store.open(dir, options);
      await expectLive();
    } finally {
      await store.close();
    }
  });
});

/** A store in a fresh directory whose expired keys only a read (or a write) deletes. */
function openWithoutExpiryCycle(label: string): Promise<Store> {
  return makeTempDir(label).then((dir) =>
    Store.open(dir, {
      readers: 1,
      durability: 'no',
      compaction: { auto: false },
      expiryCycleMs: 0,
    }),
  );
}

describe('expired keys leave the index', () => {
  it("a read on the caller's thread that finds a key expired has it deleted, and keys() too", async () => {
    // No active expiry cycle here: the reads must do it on their own.
    const store = await openWithoutExpiryCycle('expiry-lazy');
    try {
      const soon = Date.now() + 50;
      await store.set('read-me', 'v', { expiresAt: soon });
      await store.set('list-me', 'v', { expiresAt: soon });
      await store.set('stays', 'v');
      await pollUntil('both expire', () => Date.now() > soon + 5, 5_000);
      expect(store.getSync('read-me')).toBeUndefined();
      expect((await store.keys()).map(String)).toEqual(['stays']);
      await pollUntil('both are deleted', async () => (await store.stats()).keys === 1, 5_000);
      expect((await store.stats()).writer.expiredKeys).toBeGreaterThanOrEqual(2);
    } finally {
      await store.close();
    }
  });

  it('deleting a key whose expiry has passed, not yet deleted, resolves false: it did not exist', async () => {
    const store = await openWithoutExpiryCycle('expiry-delete');
    try {
      const soon = Date.now() + 50;
      await store.set('gone', 'v', { expiresAt: soon });
      await store.set('stays', 'v');
      await pollUntil('the key expires', () => Date.now() > soon + 5, 5_000);
      expect((await store.stats()).keys).toBe(2); // still in the index: nothing read it
      // As Redis's DEL of such a key answers 0.
      expect(await store.delete('gone')).toBe(false);
      expect(await store.delete('stays')).toBe(true);
      expect((await store.stats()).keys).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('the active expiry cycle deletes 100,000 expired keys nobody reads within seconds; a merge gives back their disk', async () => {
    const dir = await makeTempDir('expiry-active');
    const store = await Store.open(dir, {
      readers: 1,
      durability: 'no',
      compaction: { auto: false },
    });
    try {
      const expiresAt = Date.now() + 500;
      for (let i = 0; i < 100_000; i += 10_000) {
        await Promise.all(
          Array.from({ length: 10_000 }, (_, j) =>
            store.set(`ttl:${i + j}`, 'x'.repeat(20), { expiresAt }),
          ),
        );
      }
      await store.set('stays', 'v');
      await pollUntil(
        'every expired key is gone',
        async () => (await store.stats()).keys === 1,
        30_000,
      );
      const seconds = (Date.now() - expiresAt) / 1000;
      expect((await store.stats()).writer.expiredKeys).toBe(100_000);
      expect((await store.get('stays'))?.toString()).toBe('v');
      console.log(`active expiry: 100,000 keys gone ${seconds.toFixed(1)} s after they expired`);

      // Refill with as many keys that never expire.
      for (let i = 0; i < 100_000; i += 10_000) {
        await Promise.all(
          Array.from({ length: 10_000 }, (_, j) => store.set(`new:${i + j}`, 'y'.repeat(20))),
        );
      }
      const refilled = await store.stats();
      expect(refilled.keys).toBe(100_001);

      // And the disk: a merge keeps only the live keys' records (the expired ones and their
      // deletes are dead), so the files shrink to about what the live keys need.
      const expiredDisk = refilled.diskBytes;
      await store.compact();
      const merged = await store.stats();
      expect(merged.keys).toBe(100_001);
      expect(merged.deadBytes).toBeLessThan(merged.liveBytes / 10);
      expect(merged.diskBytes).toBeLessThan(expiredDisk * 0.6);
      expect((await store.get('new:99999'))?.toString()).toBe('y'.repeat(20));
    } finally {
      await store.close();
    }
  }, 60_000);

  it('keys that expire round after round reuse their index slots: the table stops growing', async () => {
    const dir = await makeTempDir('expiry-churn');
    const store = await Store.open(dir, { readers: 1, durability: 'no' });
    try {
      const perRound = 20_000;
      const rounds = 6;
      const capacities: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const expiresAt = Date.now() + 300;
        await Promise.all(
          Array.from({ length: perRound }, (_, j) =>
            store.set(`r${round}:${j}`, 'x', { expiresAt }),
          ),
        );
        await pollUntil(
          `round ${round}'s keys expired and deleted`,
          async () => {
            return (await store.stats()).keys === 0;
          },
          30_000,
        );
        capacities.push((await store.stats()).indexCapacity);
      }
      // Were deleted slots never reused, 120,000 keys' slots would be in use by now: a table at
      // most 75% full would hold 160,000 slots or more, after a growth nearly every round.
      // Reused, it settles at what a round needs (with the growth step's slack) and stays there.
      // Which round takes the last growth step depends on when the expiry cycle's deletes land
      // between a round's inserts (rounds 1 to 4 seen), so the test counts the steps.
      const last = capacities[rounds - 1]!;
      expect(last * 0.75).toBeLessThan(perRound * 3);
      for (let r = 1; r < rounds; r++)
        expect(capacities[r]).toBeGreaterThanOrEqual(capacities[r - 1]!);
      expect(new Set(capacities).size).toBeLessThanOrEqual(2);
    } finally {
      await store.close();
    }
  }, 60_000);
});
