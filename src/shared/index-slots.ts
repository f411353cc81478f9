// Owns the memory layout of kvd's shared index: an open-addressing (linear probing) hash table
// in one growable SharedArrayBuffer, its striped reader-writer locks and the segment handle
// table (the header words and their accessors are index-header.ts's), and the probing that
// reads and changes one key's slot. Nobody else computes a slot offset. Readers (any thread)
// probe under a stripe read lock; only the writer worker mutates, under stripe write locks.
// Walks and copies of the whole slot array are index-table.ts's.
//
// Layout (u32 words):
//   [0, 16)            header (index-header.ts)
//   [16, 16+1024)      stripe lock words (see rw-lock.ts)
//   [1040, 1040+65536) segment handle table: handle -> segment file id (0 = free)
//   [TABLE_BASE, ...)  slots as index-slot-format.ts lays them out, 4 words each: tag (the
//                      key's 32-bit hash, never 0 or 1), segment handle, offset, record length.
//                      Tag 0 is an empty slot, 1 a deleted one.
// A key's home slot is tag % capacity (capacity need not be a power of two, so the table grows
// by 1.5x and stays 50-75% full); probing is linear. The full hash is kept so growth rehashes
// without touching the disk.

import { KvError } from './errors.js';
import {
  H_CAPACITY,
  H_COUNT,
  H_DELETED,
  H_GENERATION,
  IndexHeader,
  STRIPE_BASE,
  STRIPES,
  TABLE_BASE,
} from './index-header.js';
import {
  DELETED_TAG,
  EMPTY_TAG,
  SLOT_BYTES,
  SLOT_HANDLE,
  SLOT_LENGTH,
  SLOT_OFFSET,
  SLOT_WORDS,
  tagOf,
} from './index-slot-format.js';
import { hashBytes, hashKey, type KeyInput } from './key-bytes.js';
import { lockRead, lockWrite, unlockRead, unlockWrite } from './rw-lock.js';

export const EMPTY = EMPTY_TAG;
export const DELETED = DELETED_TAG;
const MAX_LOAD = 0.75;
const GROWTH = 1.5;
const MIN_CAPACITY = 1024;
/** Largest table a growable SharedArrayBuffer (4 GiB max on Node 20) can hold. */
export const MAX_CAPACITY = Math.floor((2 ** 32 - 1) / SLOT_BYTES) - TABLE_BASE;
export const MAX_BYTES = (TABLE_BASE + MAX_CAPACITY * SLOT_WORDS) * 4;

/** Where a record lives: segment handle, byte offset in its file, total record length. */
export interface SlotLocation {
  readonly handle: number;
  readonly offset: number;
  readonly length: number;
}

/** Decides whether the record at a candidate location holds the key being looked for. */
export type KeyCheck = (handle: number, offset: number, length: number) => boolean;

/**
 * Hears a key's old location just before the writer replaces or removes its slot, while every
 * reader still finds that location: what must be recorded for readers that will find the slot
 * changed (a snapshot's version, version-log.ts) is recorded here, never after the change.
 */
export type BeforeSlotChange = (old: SlotLocation) => void;

/** The capacity a new table for `keys` keys starts with. */
export function capacityFor(keys: number): number {
  let c = MIN_CAPACITY;
  while (c * MAX_LOAD < keys + 1) c = Math.ceil(c * GROWTH);
  return Math.min(c, MAX_CAPACITY);
}

function stripeOf(tag: number): number {
  return STRIPE_BASE + (tag & (STRIPES - 1));
}

/**
 * The slots of a view of the shared index, and the probes of one key (IndexTable adds the
 * walks). Methods named `writer*` may only be called from the writer worker; the rest from any
 * thread.
 */
export class IndexSlots extends IndexHeader {
  // The slot view is fixed-length (V8 accesses length-tracking views of a growable buffer 2-3x
  // slower) and rebuilt when the capacity (read under a stripe lock) differs from the one it
  // was built for.
  protected slots: Uint32Array;
  protected slotsCapacity: number;
  private readonly hashMask: number;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    const bits = this.hashBits;
    this.hashMask = bits >= 32 ? 0xffff_ffff : 2 ** bits - 1;
    this.slotsCapacity = 0;
    this.slots = this.slotView();
  }

  /** The slot view for the current capacity (call under a stripe lock, or on the writer). */
  protected slotView(): Uint32Array {
    const cap = Atomics.load(this.u32, H_CAPACITY);
    if (cap !== this.slotsCapacity) {
      this.slots = new Uint32Array(this.buffer, TABLE_BASE * 4, cap * SLOT_WORDS);
      this.slotsCapacity = cap;
    }
    return this.slots;
  }

  /** Slot tag of a key as this index hashes it (possibly truncated for tests). */
  tagOfKey(key: KeyInput): number {
    return this.tagOfHash(hashKey(key));
  }

  /** Slot tag of a key whose `hashKey` is `hash`. */
  tagOfHash(hash: number): number {
    return tagOf((hash & this.hashMask) >>> 0);
  }

  /** Slot tag of raw key bytes `b[start, end)`; equal to `tagOfKey` of the same key. */
  tagOfBytes(b: Uint8Array, start: number, end: number): number {
    return tagOf((hashBytes(b, start, end) & this.hashMask) >>> 0);
  }

  // --- Reading (any thread) -------------------------------------------------------------

  /** Takes the read lock of the stripe that guards `tag`'s slot. Pair with `endRead(tag)`. */
  beginRead(tag: number): void {
    lockRead(this.i32, stripeOf(tag));
  }

  /** Releases the lock taken by `beginRead(tag)`. */
  endRead(tag: number): void {
    unlockRead(this.i32, stripeOf(tag));
  }

  /**
   * Finds the slot holding the key with this tag, asking `check` to verify each candidate
   * (tags can collide; only the key bytes decide). Call between `beginRead` and `endRead`.
   * Returns the slot number, or -1 when the key is absent.
   */
  find(tag: number, check: KeyCheck): number {
    // Plain reads are enough: the stripe read lock (a seq-cst RMW) orders us after the writer's
    // last unlock of this stripe, so our key's slot is stable. Slots of other stripes may
    // change under us, but only EMPTY/DELETED -> other tag or tag -> DELETED, and aligned u32
    // reads never tear, so we either skip them or stop at an EMPTY that was EMPTY when our key
    // was inserted past it (nothing before a live key in its probe chain is ever EMPTY).
    const slots = this.slotView();
    const cap = this.slotsCapacity;
    for (let i = tag % cap; ; i = i + 1 === cap ? 0 : i + 1) {
      const base = i * SLOT_WORDS;
      const t = slots[base]!;
      if (t === EMPTY) return -1;
      if (
        t === tag &&
        check(slots[base + SLOT_HANDLE]!, slots[base + SLOT_OFFSET]!, slots[base + SLOT_LENGTH]!)
      )
        return i;
    }
  }

  /**
   * The tag word of `tag`'s home slot, read without a lock and possibly from a view older than
   * the table: only to bring the slot into cache before `find` (a batch does this for a group of
   * keys first, so that their cache misses overlap). Never meaningful as data.
   */
  warmHomeSlot(tag: number): number {
    return this.slots[(tag % this.slotsCapacity) * SLOT_WORDS]!;
  }

  /**
   * Whether the key with `tag` is indexed at exactly (`handle`, `offset`): a location names one
   * record, so this says whether that record is its key's live version. Any thread; takes the
   * stripe's read lock.
   */
  pointsAt(tag: number, handle: number, offset: number): boolean {
    this.beginRead(tag);
    try {
      return this.slotAt(tag, handle, offset) >= 0;
    } finally {
      this.endRead(tag);
    }
  }

  /**
   * The slot holding `tag` at exactly (`handle`, `offset`), or -1: `find` with that check
   * inlined (no closure per call; range scans ask this once per entry). Call under its stripe's
   * lock, or on the writer.
   */
  private slotAt(tag: number, handle: number, offset: number): number {
    const slots = this.slotView();
    const cap = this.slotsCapacity;
    for (let i = tag % cap; ; i = i + 1 === cap ? 0 : i + 1) {
      const base = i * SLOT_WORDS;
      const t = slots[base]!;
      if (t === EMPTY) return -1;
      if (t === tag && slots[base + SLOT_HANDLE] === handle && slots[base + SLOT_OFFSET] === offset)
        return i;
    }
  }

  /** Location stored in slot `i` (as returned by `find`, under the same read lock). */
  locationAt(i: number): SlotLocation {
    const base = i * SLOT_WORDS;
    const slots = this.slots;
    return {
      handle: slots[base + SLOT_HANDLE]!,
      offset: slots[base + SLOT_OFFSET]!,
      length: slots[base + SLOT_LENGTH]!,
    };
  }

  // --- Writing (writer worker only) -----------------------------------------------------

  /**
   * Points the key with `tag` at `loc`, inserting it if absent (growing the table first if it
   * is full). Returns the previous location, for dead-byte accounting, or undefined;
   * `beforeChange` hears it before the slot changes.
   */
  writerUpsert(
    tag: number,
    check: KeyCheck,
    loc: SlotLocation,
    beforeChange?: BeforeSlotChange,
  ): SlotLocation | undefined {
    this.growIfFull();
    const slots = this.slotView();
    const cap = this.slotsCapacity;
    let firstDeleted = -1;
    let i = tag % cap;
    for (; ; i = i + 1 === cap ? 0 : i + 1) {
      const base = i * SLOT_WORDS;
      const t = slots[base]!;
      if (t === EMPTY) break;
      if (t === DELETED) {
        if (firstDeleted < 0) firstDeleted = i;
      } else if (
        t === tag &&
        check(slots[base + SLOT_HANDLE]!, slots[base + SLOT_OFFSET]!, slots[base + SLOT_LENGTH]!)
      ) {
        const old = this.locationAt(i);
        beforeChange?.(old);
        this.writeSlot(base, tag, loc);
        return old;
      }
    }
    const target = firstDeleted >= 0 ? firstDeleted : i;
    this.writeSlot(target * SLOT_WORDS, tag, loc);
    if (firstDeleted >= 0) Atomics.sub(this.u32, H_DELETED, 1);
    Atomics.add(this.u32, H_COUNT, 1);
    return undefined;
  }

  /**
   * Removes the key with `tag`; returns its old location, or undefined if it was absent.
   * `beforeChange` hears the old location before the slot changes.
   */
  writerRemove(
    tag: number,
    check: KeyCheck,
    beforeChange?: BeforeSlotChange,
  ): SlotLocation | undefined {
    const slots = this.slotView();
    const cap = this.slotsCapacity;
    for (let i = tag % cap; ; i = i + 1 === cap ? 0 : i + 1) {
      const base = i * SLOT_WORDS;
      const t = slots[base]!;
      if (t === EMPTY) return undefined;
      if (
        t === tag &&
        check(slots[base + SLOT_HANDLE]!, slots[base + SLOT_OFFSET]!, slots[base + SLOT_LENGTH]!)
      ) {
        const old = this.locationAt(i);
        beforeChange?.(old);
        this.markDeleted(base, tag);
        return old;
      }
    }
  }

  /**
   * Compare-and-set for compaction install: moves the key with `tag` from exactly `from` to
   * `to`. Returns false (and changes nothing) if the key now points anywhere else.
   */
  writerReplaceIf(tag: number, from: SlotLocation, to: SlotLocation): boolean {
    const i = this.slotAt(tag, from.handle, from.offset);
    if (i < 0) return false;
    this.writeSlot(i * SLOT_WORDS, tag, to);
    return true;
  }

  /**
   * Compare-and-delete for compaction (an expired record it drops): removes the key with `tag`
   * only if it points at exactly `from`. Returns whether it did; `beforeChange` hears `from`
   * before the slot changes.
   */
  writerRemoveIf(tag: number, from: SlotLocation, beforeChange?: BeforeSlotChange): boolean {
    const i = this.slotAt(tag, from.handle, from.offset);
    if (i < 0) return false;
    beforeChange?.(from);
    this.markDeleted(i * SLOT_WORDS, tag);
    return true;
  }

  /** Takes every stripe's write lock: no reader is inside the index until `writerUnlockAll`. */
  writerLockAll(): void {
    for (let s = 0; s < STRIPES; s++) lockWrite(this.i32, STRIPE_BASE + s);
  }

  /** Releases the locks taken by `writerLockAll`. */
  writerUnlockAll(): void {
    for (let s = 0; s < STRIPES; s++) unlockWrite(this.i32, STRIPE_BASE + s);
  }

  /**
   * Marks a slot deleted under its stripe's write lock: a deleted marker, not an empty slot,
   * so keys probed past this slot stay reachable.
   */
  private markDeleted(base: number, tag: number): void {
    const stripe = stripeOf(tag);
    if (!this.isPrivate) lockWrite(this.i32, stripe);
    this.slots[base] = DELETED;
    if (!this.isPrivate) unlockWrite(this.i32, stripe);
    Atomics.sub(this.u32, H_COUNT, 1);
    Atomics.add(this.u32, H_DELETED, 1);
  }

  /** Writes a slot under its stripe's write lock (readers of the stripe are out meanwhile). */
  private writeSlot(base: number, tag: number, loc: SlotLocation): void {
    const slots = this.slots;
    const stripe = stripeOf(tag);
    if (!this.isPrivate) lockWrite(this.i32, stripe);
    slots[base + SLOT_HANDLE] = loc.handle;
    slots[base + SLOT_OFFSET] = loc.offset;
    slots[base + SLOT_LENGTH] = loc.length;
    slots[base] = tag;
    if (!this.isPrivate) unlockWrite(this.i32, stripe);
  }

  /**
   * Makes room for `extra` more keys now (growing, or purging deleted slots), so that the
   * upserts that follow cannot fail. Throws `KV_INDEX_FULL`, changing nothing, if the table
   * cannot hold them.
   */
  writerReserve(extra: number): void {
    const u = this.u32;
    const cap = u[H_CAPACITY]!;
    const count = u[H_COUNT]!;
    if (count + u[H_DELETED]! + extra <= cap * MAX_LOAD) return;
    if (count + extra > MAX_CAPACITY * MAX_LOAD) {
      throw new KvError('KV_INDEX_FULL', `the index cannot hold ${count + extra} keys`);
    }
    // Mostly deleted slots: rebuild at the same size; otherwise grow by half (or more).
    let next = cap;
    if (count + extra > cap * MAX_LOAD * 0.6) {
      next = Math.ceil(cap * GROWTH);
      while (count + extra > next * MAX_LOAD) next = Math.ceil(next * GROWTH);
    }
    this.rehash(Math.min(next, MAX_CAPACITY));
  }

  private growIfFull(): void {
    this.writerReserve(1);
  }

  /**
   * Rebuilds the table at `capacity` slots. Every stripe is write-locked, so no reader is
   * probing while slots move; readers that were waiting see the new capacity once inside.
   */
  private rehash(capacity: number): void {
    this.writerLockAll();
    try {
      const old = this.slotView().slice();
      const bytes = (TABLE_BASE + capacity * SLOT_WORDS) * 4;
      if (bytes > this.buffer.byteLength) this.buffer.grow(bytes);
      Atomics.store(this.u32, H_CAPACITY, capacity);
      const slots = this.slotView();
      slots.fill(0);
      for (let j = 0; j < old.length; j += SLOT_WORDS) {
        const tag = old[j]!;
        if (tag <= DELETED) continue;
        let i = tag % capacity;
        while (slots[i * SLOT_WORDS] !== EMPTY) i = i + 1 === capacity ? 0 : i + 1;
        const base = i * SLOT_WORDS;
        slots[base] = tag;
        slots[base + SLOT_HANDLE] = old[j + SLOT_HANDLE]!;
        slots[base + SLOT_OFFSET] = old[j + SLOT_OFFSET]!;
        slots[base + SLOT_LENGTH] = old[j + SLOT_LENGTH]!;
      }
      this.u32[H_DELETED] = 0;
      this.u32[H_GENERATION] = this.u32[H_GENERATION]! + 1;
    } finally {
      this.writerUnlockAll();
    }
  }
}
