// Store.keys(): a point-in-time listing of every live key, taken after the writes issued
// before the call, read in the reader pool. Checked against a model, with expired keys left
// out, across segments and reopen, and while writes keep arriving.

import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const sorted = (keys: readonly Buffer[]): string[] => keys.map((k) => k.toString('hex')).sort();
const hex = (keys: Iterable<string>): string[] =>
  [...keys].map((k) => Buffer.from(k).toString('hex')).sort();

describe('Store.keys', () => {
  it('lists exactly the live keys, including ones written just before the call', async () => {
    const dir = await makeTempDir('keys-model');
    let db = await Store.open(dir, { segmentBytes: 4096, readers: 2 });
    try {
      const live = new Set<string>();
      for (let i = 0; i < 3000; i++) {
        const key = `k${i % 1700}:${'é'.repeat(i % 3)}`;
        if (i % 5 === 0) {
          void db.delete(key);
          live.delete(key);
        } else {
          void db.set(key, `v${i}`);
          live.add(key);
        }
      }
      await db.set('', 'empty key');
      live.add('');
      void db.set('expired', 'x', { expiresAt: Date.now() - 1 });
      // Not awaited: keys() must still see every write issued before it.
      expect(sorted(await db.keys())).toEqual(hex(live));
      await db.close();
      db = await Store.open(dir, { segmentBytes: 4096, readers: 2 });
      expect(sorted(await db.keys())).toEqual(hex(live));
    } finally {
      await db.close();
    }
  });

  it('returns every key present for the whole call while other keys change', async () => {
    const dir = await makeTempDir('keys-concurrent');
    const db = await Store.open(dir);
    try {
      const stable = Array.from({ length: 2000 }, (_, i) => `stable${i}`);
      await Promise.all(stable.map((k) => db.set(k, 'v')));
      let stop = false;
      const churn = (async () => {
        for (let i = 0; !stop; i++) {
          await Promise.all([db.set(`churn${i % 500}`, 'x'), db.delete(`churn${(i + 250) % 500}`)]);
        }
      })();
      for (let round = 0; round < 5; round++) {
        const listed = new Set((await db.keys()).map((k) => k.toString()));
        for (const k of stable) expect(listed.has(k), k).toBe(true);
      }
      stop = true;
      await churn;
    } finally {
      await db.close();
    }
  });

  it('is refused after close', async () => {
    const dir = await makeTempDir('keys-closed');
    const db = await Store.open(dir);
    await db.close();
    await expect(db.keys()).rejects.toMatchObject({ code: 'KV_CLOSED' });
  });
});
