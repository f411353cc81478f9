// Tests for the shared index (src/shared/index-table.ts) on one thread: a model test against a
// Map, forced fingerprint collisions, growth, deleted-slot reuse and purge, and compare-and-set.
// The "disk" is an array: a record's offset is its position there, and it holds the record's key,
// so `check` verifies real keys exactly as a reader verifies the key bytes it preads.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IndexTable,
  type KeyCheck,
  type SlotLocation,
  tagOf,
} from '../../dist/shared/index-table.js';

/** An index plus a fake log: `disk[offset]` is the key of the record written at `offset`. */
class Harness {
  readonly disk: string[] = [];

  constructor(readonly table: IndexTable) {}

  /** Appends a record for `key` and points the index at it; returns the replaced location. */
  put(key: string): { loc: SlotLocation; old: SlotLocation | undefined } {
    const loc = {
      handle: 1 + (this.disk.length % 7),
      offset: this.disk.length,
      length: 32 + key.length,
    };
    this.disk.push(key);
    return { loc, old: this.table.writerUpsert(this.table.tagOfKey(key), this.check(key), loc) };
  }

  remove(key: string): SlotLocation | undefined {
    return this.table.writerRemove(this.table.tagOfKey(key), this.check(key));
  }

  /** Reader-side lookup: read lock, probe, verify, copy the location out. */
  get(key: string): SlotLocation | undefined {
    return this.lookup(key)?.loc;
  }

  lookup(key: string): { slot: number; loc: SlotLocation } | undefined {
    const tag = this.table.tagOfKey(key);
    this.table.beginRead(tag);
    try {
      const slot = this.table.find(tag, this.check(key));
      return slot < 0 ? undefined : { slot, loc: this.table.locationAt(slot) };
    } finally {
      this.table.endRead(tag);
    }
  }

  check(key: string): KeyCheck {
    return (_handle, offset) => this.disk[offset] === key;
  }

  /** Every live slot's location, keyed by the key stored on "disk" there. */
  live(): Map<string, SlotLocation> {
    const out = new Map<string, SlotLocation>();
    this.table.forEachSlot((tag, handle, offset, length) => {
      const key = this.disk[offset]!;
      expect(tag).toBe(this.table.tagOfKey(key));
      expect(out.has(key), `${key} in two slots`).toBe(false);
      out.set(key, { handle, offset, length });
    });
    return out;
  }
}

/** Asserts the index answers exactly as the model for every key in `universe`. */
function expectMatchesModel(
  h: Harness,
  model: Map<string, SlotLocation>,
  universe: Iterable<string>,
): void {
  for (const key of universe) expect(h.get(key), key).toEqual(model.get(key));
  expect(h.table.count).toBe(model.size);
  expect(h.live()).toEqual(model);
}

/** Keys that all share one tag under `table`'s hashing. */
function keysWithSameTag(table: IndexTable, n: number): string[] {
  const byTag = new Map<number, string[]>();
  for (let i = 0; ; i++) {
    const key = `c${i}`;
    const tag = table.tagOfKey(key);
    const group = byTag.get(tag) ?? [];
    group.push(key);
    byTag.set(tag, group);
    if (group.length === n) return group;
  }
}

type Op = { kind: 'put' | 'remove' | 'get'; key: string };
const opsArb = (keys: number) =>
  fc.array(
    fc.record({
      kind: fc.constantFrom<Op['kind']>('put', 'put', 'remove', 'get'),
      key: fc.nat(keys - 1).map((i) => `k${i}`),
    }),
    { maxLength: 300 },
  );

function runModel(hashBits: number, ops: readonly Op[]): void {
  const h = new Harness(IndexTable.create(0, hashBits));
  const model = new Map<string, SlotLocation>();
  for (const op of ops) {
    if (op.kind === 'put') {
      const { loc, old } = h.put(op.key);
      expect(old).toEqual(model.get(op.key));
      model.set(op.key, loc);
    } else if (op.kind === 'remove') {
      expect(h.remove(op.key)).toEqual(model.get(op.key));
      model.delete(op.key);
    } else {
      expect(h.get(op.key)).toEqual(model.get(op.key));
    }
  }
  expectMatchesModel(h, model, new Set(ops.map((o) => o.key)));
}

describe('IndexTable', () => {
  it('behaves like a Map under any sequence of upserts and removes (property)', () => {
    fc.assert(
      fc.property(opsArb(40), (ops) => runModel(32, ops)),
      { numRuns: 200 },
    );
  });

  it('behaves like a Map when every key collides into 16 hashes (property)', () => {
    fc.assert(
      fc.property(opsArb(40), (ops) => runModel(4, ops)),
      { numRuns: 200 },
    );
  });

  it('keeps tags off the empty and deleted markers', () => {
    expect(tagOf(0)).toBe(2);
    expect(tagOf(1)).toBe(3);
    expect(tagOf(2)).toBe(2);
    expect(tagOf(0xffff_ffff)).toBe(0xffff_ffff);
    const t = IndexTable.create(0, 4);
    for (let i = 0; i < 200; i++) {
      const tag = t.tagOfKey(`k${i}`);
      expect(tag).toBeGreaterThanOrEqual(2);
      expect(tag).toBeLessThan(16);
      const b = Buffer.from(`k${i}`);
      expect(t.tagOfBytes(Buffer.concat([Buffer.of(9), b]), 1, b.length + 1)).toBe(tag);
    }
  });

  it('answers correctly with forced collisions through growth, overwrites and removes', () => {
    const h = new Harness(IndexTable.create(0, 4)); // hashBits=4: at most 16 distinct hashes
    const model = new Map<string, SlotLocation>();
    const keys = Array.from({ length: 2000 }, (_, i) => `key-${i}`);
    for (const key of keys) model.set(key, h.put(key).loc);
    for (let i = 0; i < keys.length; i += 3) {
      expect(h.remove(keys[i]!)).toEqual(model.get(keys[i]!));
      model.delete(keys[i]!);
    }
    for (let i = 1; i < keys.length; i += 5) model.set(keys[i]!, h.put(keys[i]!).loc);
    expect(h.table.generation).toBeGreaterThan(0);
    expectMatchesModel(h, model, [...keys, 'absent-1', 'absent-2']);
  });

  it('grows: generation rises, the load stays at most 75%, every key is still found', () => {
    const h = new Harness(IndexTable.create(0));
    const startCapacity = h.table.capacity;
    const startBytes = h.table.byteLength;
    const model = new Map<string, SlotLocation>();
    const generations: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const key = `g${i}`;
      model.set(key, h.put(key).loc);
      if (generations.at(-1) !== h.table.generation) generations.push(h.table.generation);
      expect(h.table.count).toBeLessThanOrEqual(h.table.capacity * 0.75);
    }
    // 1024 slots ×1.5 per rebuild: 20,000 keys at ≤75% load take nine rebuilds, one at a time.
    expect(generations).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(h.table.capacity).toBeGreaterThan(startCapacity * 15);
    expect(h.table.byteLength).toBeGreaterThan(startBytes);
    expectMatchesModel(h, model, model.keys());
  });

  it('is sized up front by expectedKeys, so filling it to that many never rehashes', () => {
    const t = IndexTable.create(10_000);
    const h = new Harness(t);
    for (let i = 0; i < 10_000; i++) h.put(`p${i}`);
    expect(t.generation).toBe(0);
    expect(t.count).toBe(10_000);
  });

  it('a view made on another IndexTable over the same buffer sees the same slots', () => {
    const h = new Harness(IndexTable.create(0));
    const { loc } = h.put('shared');
    const other = new IndexTable(h.table.buffer);
    const tag = other.tagOfKey('shared');
    other.beginRead(tag);
    const slot = other.find(tag, h.check('shared'));
    other.endRead(tag);
    expect(other.locationAt(slot)).toEqual(loc);
    // A buffer big enough for the header but never initialised by IndexTable.create.
    expect(() => new IndexTable(new SharedArrayBuffer(h.table.byteLength))).toThrow(
      /not a kvd index/,
    );
  });

  it('keeps the segment handle table', () => {
    const t = IndexTable.create(0);
    const view = new IndexTable(t.buffer);
    expect(view.segments.idOf(5)).toBe(0);
    t.segments.writerSet(5, 42);
    t.segments.writerSet(65_535, 0x3fff_fffe);
    t.segments.writerSet(7, 0x3fff_fffe, true);
    expect(view.segments.idOf(5)).toBe(42);
    expect(view.segments.idOf(65_535)).toBe(0x3fff_fffe);
    // A data segment's handle keeps its id and says it is sorted; a log segment's does not.
    expect(view.segments.idOf(7)).toBe(0x3fff_fffe);
    expect(view.segments.isSorted(7)).toBe(true);
    expect(view.segments.isSorted(65_535)).toBe(false);
    // A data segment starts displaced; only the writer's all-live mark lets scans skip the index.
    expect(view.segments.allLive(7, 0x3fff_fffe)).toBe(false);
    t.segments.writerMarkAllLive(7);
    expect(view.segments.allLive(7, 0x3fff_fffe)).toBe(true);
    expect(view.segments.allLive(7, 42)).toBe(false); // another segment's id
    expect(view.segments.idOf(7)).toBe(0x3fff_fffe);
    expect(view.segments.isSorted(7)).toBe(true);
    t.segments.writerMarkDisplaced(7);
    expect(view.segments.allLive(7, 0x3fff_fffe)).toBe(false);
    expect(view.segments.idOf(7)).toBe(0x3fff_fffe);
    // A log segment is never all-live (scans read it through its key run and the index).
    t.segments.writerMarkAllLive(65_535);
    expect(view.segments.allLive(65_535, 0x3fff_fffe)).toBe(false);
    expect(() => t.segments.writerSet(6, 0x4000_0000)).toThrow(RangeError);
    t.segments.writerSet(5, 0);
    t.segments.writerSet(7, 0);
    expect(view.segments.idOf(5)).toBe(0);
    expect(view.segments.isSorted(7)).toBe(false);
  });
});

describe('IndexTable deleted slots', () => {
  it('a removed key re-inserted lands in its old slot', () => {
    const h = new Harness(IndexTable.create(0));
    h.put('a');
    const before = h.lookup('a')!.slot;
    h.remove('a');
    expect(h.lookup('a')).toBeUndefined();
    h.put('a');
    expect(h.lookup('a')!.slot).toBe(before);
  });

  it('a deleted slot in a collision chain is reused, and keys past it stay reachable', () => {
    const h = new Harness(IndexTable.create(0, 4));
    const [a, b, c, d] = keysWithSameTag(h.table, 4) as [string, string, string, string];
    h.put(a);
    h.put(b);
    h.put(c);
    const slotB = h.lookup(b)!.slot;
    const slotC = h.lookup(c)!.slot;
    h.remove(b);
    expect(h.get(c)).toBeDefined(); // probing must step over the deleted marker
    expect(h.lookup(c)!.slot).toBe(slotC);
    h.put(d);
    expect(h.lookup(d)!.slot).toBe(slotB);
    expect(h.get(b)).toBeUndefined();
    expect(h.table.count).toBe(3);
  });

  it('an upsert of a key past a deleted slot overwrites it rather than adding a duplicate', () => {
    const h = new Harness(IndexTable.create(0, 4));
    const [a, b, c] = keysWithSameTag(h.table, 3) as [string, string, string];
    h.put(a);
    h.put(b);
    h.put(c);
    h.remove(a);
    const { loc, old } = h.put(c);
    expect(old).toBeDefined();
    expect(h.get(c)).toEqual(loc);
    expect(h.table.count).toBe(2);
    expect([...h.live().keys()].sort()).toEqual([b, c].sort());
  });

  it('churn that leaves mostly deleted slots triggers a rebuild at the same size', () => {
    const h = new Harness(IndexTable.create(0));
    const capacity = h.table.capacity;
    const model = new Map<string, SlotLocation>();
    for (let i = 0; i < 50; i++) model.set(`keep${i}`, h.put(`keep${i}`).loc);
    for (let i = 0; i < 3 * capacity; i++) {
      h.put(`tmp${i}`);
      h.remove(`tmp${i}`);
    }
    expect(h.table.generation).toBeGreaterThanOrEqual(2); // purged, more than once
    expect(h.table.capacity).toBe(capacity); // ...without growing
    expectMatchesModel(h, model, [...model.keys(), 'tmp0', `tmp${3 * capacity - 1}`]);
  });
});

describe('IndexTable.writerReplaceIf', () => {
  const at = (offset: number): SlotLocation => ({ handle: 9, offset, length: 40 });

  it('moves a key only while its slot still points at `from`', () => {
    const h = new Harness(IndexTable.create(0));
    const { loc: first } = h.put('k');
    const tag = h.table.tagOfKey('k');
    const moved = at(1_000_000);
    expect(h.table.writerReplaceIf(tag, first, moved)).toBe(true);
    h.disk[moved.offset] = 'k'; // the compacted copy holds the same key
    expect(h.get('k')).toEqual(moved);
    // A second install from the stale location loses: the key has moved on.
    expect(h.table.writerReplaceIf(tag, first, at(2_000_000))).toBe(false);
    expect(h.get('k')).toEqual(moved);
    // A newer write after compaction read the old record wins over the install.
    const { loc: newer } = h.put('k');
    expect(h.table.writerReplaceIf(tag, moved, at(3_000_000))).toBe(false);
    expect(h.get('k')).toEqual(newer);
    expect(h.table.count).toBe(1);
  });

  it('fails for a removed or absent key and changes nothing', () => {
    const h = new Harness(IndexTable.create(0));
    const { loc } = h.put('gone');
    h.remove('gone');
    const tag = h.table.tagOfKey('gone');
    expect(h.table.writerReplaceIf(tag, loc, at(5))).toBe(false);
    expect(h.table.writerReplaceIf(h.table.tagOfKey('never'), loc, at(6))).toBe(false);
    expect(h.table.count).toBe(0);
    expect(h.live().size).toBe(0);
  });

  it('with colliding tags, moves only the key whose location matches', () => {
    const h = new Harness(IndexTable.create(0, 4));
    const [a, b] = keysWithSameTag(h.table, 2) as [string, string];
    const { loc: locA } = h.put(a);
    const { loc: locB } = h.put(b);
    const moved = at(7_000_000);
    h.disk[moved.offset] = b;
    expect(h.table.writerReplaceIf(h.table.tagOfKey(b), locB, moved)).toBe(true);
    expect(h.get(a)).toEqual(locA);
    expect(h.get(b)).toEqual(moved);
  });
});

describe('IndexTable beforeChange', () => {
  it('hears the old location while readers still find it, before an upsert, a remove or a removeIf', () => {
    const h = new Harness(IndexTable.create(0, 32));
    const first = h.put('a').loc;
    const heard: [SlotLocation, SlotLocation | undefined][] = [];
    const listen = (old: SlotLocation) => heard.push([old, h.get('a')]);
    const tag = h.table.tagOfKey('a');
    const second = { handle: 1, offset: h.disk.push('a') - 1, length: 33 };
    expect(h.table.writerUpsert(tag, h.check('a'), second, listen)).toEqual(first);
    expect(h.table.writerRemove(tag, h.check('a'), listen)).toEqual(second);
    const third = h.put('a').loc;
    expect(h.table.writerRemoveIf(tag, third, listen)).toBe(true);
    // Each time, a reader at that moment still found the old location.
    expect(heard).toEqual([
      [first, first],
      [second, second],
      [third, third],
    ]);
    expect(h.get('a')).toBeUndefined();
    // Nothing to change, nothing heard: an insert, and a removal of an absent key.
    h.table.writerUpsert(tag, h.check('a'), third, listen);
    h.table.writerRemoveIf(tag, first, listen);
    expect(heard).toHaveLength(3);
  });
});
