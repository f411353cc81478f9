// Store.watchChanges: the change feed replayed into a model reproduces the store (fast-check
// over sets, deletes, batches, read-modify-writes, expiries and clear), changes arrive in log
// order with rising sequence numbers after `since`, before the writes are acknowledged, batches
// end with their commit, the expiry cycle's deletes are reported, and stop() ends the reports.

import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreChange } from '../../dist/main/index.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

/** Applies changes to a model: key (latin1) -> [value, expiresAt]. */
function replay(model: Map<string, [string, number]>, changes: readonly StoreChange[]): void {
  for (const c of changes) {
    if (c.type === 'set')
      model.set(c.key.toString('latin1'), [c.value.toString('latin1'), c.expiresAt]);
    else if (c.type === 'delete') model.delete(c.key.toString('latin1'));
  }
}

const key = fc.constantFrom('a', 'b', 'c', 'd', 'n', '\u00ff');
const command = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key, value: fc.string({ maxLength: 20 }) }),
  fc.record({ op: fc.constant('setex' as const), key, value: fc.string({ maxLength: 5 }) }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({ op: fc.constant('incr' as const), delta: fc.integer({ min: -5, max: 5 }) }),
  fc.record({ op: fc.constant('append' as const), key, value: fc.string({ maxLength: 5 }) }),
  fc.record({ op: fc.constant('expire' as const), key }),
  fc.record({ op: fc.constant('persist' as const), key }),
  fc.record({ op: fc.constant('batch' as const), keys: fc.array(key, { maxLength: 4 }) }),
  fc.record({ op: fc.constant('clear' as const) }),
);

describe('Store.watchChanges', () => {
  it('reports every change in log order: replayed, they give the store', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 40 }), async (commands) => {
        const db = await Store.open(await makeTempDir('changes'), { durability: 'no', readers: 1 });
        try {
          await db.set('before', 'the watch'); // not reported
          const seen: StoreChange[] = [];
          const watch = await db.watchChanges((changes) => seen.push(...changes));
          const later = Date.now() + 3_600_000;
          // Issued without waiting, so they share writer batches.
          const work = commands.map((c) => {
            switch (c.op) {
              case 'set':
                return db.set(c.key, c.value);
              case 'setex':
                return db.set(c.key, c.value, { expiresAt: later });
              case 'delete':
                return db.delete(c.key);
              case 'incr':
                return db.incrBy('n', c.delta).catch(() => undefined); // 'n' may hold text
              case 'append':
                return db.append(c.key, c.value);
              case 'expire':
                return db.expire(c.key, later + 1);
              case 'persist':
                return db.persist(c.key);
              case 'batch':
                return db.batch(
                  c.keys.map((k, i) => ({ type: 'set' as const, key: k, value: `b${i}` })),
                );
              default:
                return db.clear();
            }
          });
          await Promise.all(work);
          const model = new Map<string, [string, number]>([['before', ['the watch', 0]]]);
          replay(model, seen);
          const actual = new Map<string, [string, number]>();
          for (const k of await db.keys()) {
            actual.set(k.toString('latin1'), [
              (await db.get(k))!.toString('latin1'),
              db.expirySync(k) ?? 0,
            ]);
          }
          expect(model).toEqual(actual);
          // Log order: sequence numbers rise, all after `since`; a batch ends with its commit.
          const seqs = seen.map((c) => c.seq);
          expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
          expect(seqs.every((s) => s > watch.since)).toBe(true);
          let open = 0;
          for (const c of seen) {
            if (c.type === 'commit') {
              expect(c.count).toBe(open);
              open = 0;
            } else if (c.batch) open++;
            else expect(open).toBe(0);
          }
          expect(open).toBe(0);
          await watch.stop();
        } finally {
          await db.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  it('delivers a write before acknowledging it, reports expiry deletes, and stops on stop()', async () => {
    const db = await Store.open(await makeTempDir('changes-ack'), { durability: 'no', readers: 1 });
    try {
      const seen: StoreChange[] = [];
      const watch = await db.watchChanges((changes) => seen.push(...changes));
      await db.set('k', 'v');
      expect(seen).toMatchObject([
        { type: 'set', value: Buffer.from('v'), expiresAt: 0, batch: false },
      ]);
      await db.set('short', 'x', { expiresAt: Date.now() + 50 });
      await pollUntil(
        'the expiry is reported as a delete',
        () => seen.some((c) => c.type === 'delete' && c.key.toString() === 'short'),
        10_000,
      );
      await watch.stop();
      const count = seen.length;
      await db.set('after', 'stop');
      await db.flush();
      expect(seen).toHaveLength(count);
    } finally {
      await db.close();
    }
    await expect(db.watchChanges(() => {})).rejects.toMatchObject({ code: 'KV_CLOSED' });
  });
});
