// A getMany never sees part of an atomic batch: while batches write one number to every key of
// a group (as MSET does), concurrent getMany calls of the group must read one number for all of
// it, on the caller's thread and through the reader pool (where a read that overlapped a batch
// is read again). Fails if the writer publishes a batch's keys one by one unguarded.

import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const GROUP = 64;
const BATCHES = 3_000;
/** Batches sent before waiting for them: they group-commit and publish back to back. */
const IN_FLIGHT = 8;

const keys = Array.from({ length: GROUP }, (_, i) => `group:${i}`);

describe('getMany and atomic batches', () => {
  afterEach(removeTempDirs);

  it.each([
    ['on the caller’s thread', {}],
    ['through the reader pool', { inlineReadKeys: 0 }],
  ])('a getMany %s sees all of a batch or none of it', async (_where, readOptions) => {
    const dir = await makeTempDir('batch-visibility');
    const store = await Store.open(dir, { durability: 'no', readers: 1, ...readOptions });
    try {
      await store.batch(keys.map((key) => ({ type: 'set' as const, key, value: '0' })));
      let done = false;
      let reads = 0;
      let mixed = '';
      const reader = async () => {
        while (!done && mixed === '') {
          const values = await store.getMany(keys);
          const seen = new Set(values.map((v) => v?.toString()));
          if (seen.size !== 1) mixed = [...seen].join(',');
          reads++;
        }
      };
      const writer = async () => {
        for (let n = 1; n <= BATCHES && mixed === ''; n += IN_FLIGHT) {
          const sent: Promise<void>[] = [];
          for (let k = n; k < n + IN_FLIGHT; k++) {
            const value = String(k);
            sent.push(store.batch(keys.map((key) => ({ type: 'set' as const, key, value }))));
          }
          await Promise.all(sent);
        }
        done = true;
      };
      await Promise.all([writer(), reader(), reader()]);
      expect(mixed, `one getMany read several batches' values: ${mixed}`).toBe('');
      expect(reads).toBeGreaterThan(10);
    } finally {
      await store.close();
    }
  });
});
