// Expired bytes are dead bytes (issue "Reliability", item 3): stats() counts a live record whose
// expiry has passed as dead, and the automatic merge reclaims sealed segments whose keys have
// all expired, without any read touching them.

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
      const after = await store.stats();
      // The merge started at the oldest segment, so the expired keys it read left the index
      // too; those still in the active segment wait for their segment to be sealed (or for
      // the read that finds them expired).
      const activeKeys = before.segments.find((g) => g.active)!.liveKeys;
      expect(after.keys).toBe(activeKeys);
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
