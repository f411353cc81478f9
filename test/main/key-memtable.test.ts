// KeyMemtable, the ordered keys written since key runs caught up: against a model, its sorted
// views hold every key added (once, in byte order) until key runs cover them; generations with
// writes in flight are never merged or dropped; equal generations merge into one; keys made by
// concatenation sort like any other.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyArena } from '../../dist/main/key-arena.js';
import { KeyMemtable } from '../../dist/main/key-memtable.js';

const byteOrder = (keys: Iterable<string>): string[] =>
  [...new Set(keys)].sort((a, b) =>
    Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')),
  );

const union = (views: readonly (readonly string[])[]): string[] => byteOrder(views.flat());

describe('KeyMemtable', () => {
  it('keeps every key added in sorted, repeat-free views until key runs cover it', () => {
    const key = fc.string({ maxLength: 4, unit: fc.constantFrom('a', 'b', '\u00ff', '\u0000') });
    const step = fc.oneof(
      fc.record({ add: fc.array(key, { maxLength: 40 }), settleNow: fc.boolean() }),
      fc.record({ views: fc.constant(true) }),
      fc.record({ cover: fc.constant(true) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        let through = 0;
        let active = 1;
        const memtable = new KeyMemtable(() => through);
        // Keys whose writes may have landed in segments not covered by key runs yet.
        const uncovered: { keys: string[]; segment: number; settled: boolean }[] = [];
        const late: { settle: () => void }[] = [];
        for (const s of steps) {
          if ('add' in s) {
            const ticket = memtable.add(KeyArena.of(s.add));
            const entry = { keys: [...s.add], segment: active, settled: false };
            uncovered.push(entry);
            const settle = () => {
              entry.settled = true;
              ticket.settle(active);
            };
            if (s.settleNow) settle();
            else late.push({ settle });
          } else if ('cover' in s) {
            // The active segment is sealed and gets its key run; a new one starts.
            for (const l of late.splice(0)) l.settle();
            through = active;
            active++;
          } else {
            const views = memtable.sortedViews();
            for (const v of views) expect(v).toEqual(byteOrder(v));
            // Every key not yet covered is present; covered ones may linger, never vanish early.
            const present = new Set(views.flat());
            for (const e of uncovered) {
              if (e.settled && e.segment <= through) continue;
              for (const k of e.keys) expect(present.has(k), JSON.stringify(k)).toBe(true);
            }
          }
        }
      }),
    );
  });

  it('shed() drops what key runs cover without a write or a scan, never a write in flight', () => {
    let through = 0;
    const memtable = new KeyMemtable(() => through);
    memtable.add(KeyArena.of(['a', 'b'])).settle(1);
    const inFlight = memtable.add(KeyArena.of(['c']));
    memtable.shed();
    expect(memtable.size, 'nothing covered yet').toBe(3);
    through = 1; // segment 1 got its key run
    memtable.shed();
    expect(memtable.size, 'the generation has a write in flight').toBe(3);
    inFlight.settle(2);
    memtable.shed();
    expect(memtable.size, 'c may be in segment 2, not covered').toBe(3);
    through = 2;
    memtable.shed();
    expect(memtable.size).toBe(0);
    memtable.add(KeyArena.of(['d'])).settle(3);
    expect(memtable.sortedViews()).toEqual([['d']]);
  });

  it('merges equal generations into one view and never merges one with writes in flight', () => {
    const memtable = new KeyMemtable(() => 0);
    const tickets = [];
    for (let g = 0; g < 16; g++) {
      const keys = Array.from(
        { length: 1000 },
        (_, i) => `k${String(i * 16 + g).padStart(6, '0')}`,
      );
      tickets.push(memtable.add(KeyArena.of(keys)));
      memtable.sortedViews();
    }
    const pending = memtable.add(KeyArena.of(['pending']));
    for (const t of tickets) t.settle(1);
    const views = memtable.sortedViews();
    // The 16 settled generations became one; the pending one stays apart.
    expect(views.map((v) => v.length)).toEqual([16_000, 1]);
    expect(views[0]).toEqual(byteOrder(views[0]!));
    pending.settle(1);
    expect(memtable.sortedViews().map((v) => v.length)).toEqual([16_000, 1]);
  });

  it('sorts keys made by concatenation, and other strings, by their bytes', () => {
    const memtable = new KeyMemtable(() => 0);
    const parts = ['user:', 'user:1', 'usera', 'user:\u00e9', 'user', ''];
    const keys: string[] = [];
    for (const a of parts) for (const b of parts) keys.push(a + b);
    memtable.add(KeyArena.of(keys)).settle(1);
    const views = memtable.sortedViews();
    expect(union(views)).toEqual(byteOrder(keys));
    expect(views).toHaveLength(1);
  });
});
