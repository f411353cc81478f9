// Owns what reads or writes the shared index's slot array as a whole: creating a table, walks
// of every live slot (the writer's sampling, expiry walk and copies), and the index snapshot's
// copy and in-place restore. The layout, the locks and the probes of one key are
// index-slots.ts's, which this class extends; every thread imports the index from here.

import { KvError } from './errors.js';
import { H_CAPACITY, H_COUNT, H_DELETED, initHeader, TABLE_BASE } from './index-header.js';
import {
  SLOT_BYTES,
  SLOT_HANDLE,
  SLOT_LENGTH,
  SLOT_OFFSET,
  SLOT_WORDS,
  tagOf,
} from './index-slot-format.js';
import { capacityFor, DELETED, IndexSlots, MAX_BYTES } from './index-slots.js';

export { MAX_SEGMENT_HANDLES, STRIPES } from './index-header.js';
export {
  type BeforeSlotChange,
  type KeyCheck,
  MAX_CAPACITY,
  type SlotLocation,
} from './index-slots.js';
export { SLOT_BYTES, tagOf };

/**
 * A view of the shared index. Construct one per thread over the same SharedArrayBuffer; the
 * typed arrays track the buffer's growth. Methods named `writer*` may only be called from the
 * writer worker; the rest from any thread.
 */
export class IndexTable extends IndexSlots {
  /** The capacity before `writerRestoreTarget`, while its slots may still be cleared. */
  private capacityBeforeRestore: number | undefined = undefined;

  /**
   * Allocates a new, empty shared index sized for `expectedKeys`. `hashBits` < 32 truncates
   * every hash (tests use it to force fingerprint collisions).
   */
  static create(expectedKeys = 0, hashBits = 32): IndexTable {
    const capacity = capacityFor(expectedKeys);
    const buffer = new SharedArrayBuffer((TABLE_BASE + capacity * SLOT_WORDS) * 4, {
      maxByteLength: MAX_BYTES,
    });
    initHeader(buffer, capacity, hashBits);
    return new IndexTable(buffer);
  }

  /** Calls `visit` for every live slot. Writer thread only (it takes no locks). */
  forEachSlot(visit: (tag: number, handle: number, offset: number, length: number) => void): void {
    const slots = this.slotView();
    for (let base = 0; base < slots.length; base += SLOT_WORDS) {
      const t = slots[base]!;
      if (t > DELETED)
        visit(
          t,
          slots[base + SLOT_HANDLE]!,
          slots[base + SLOT_OFFSET]!,
          slots[base + SLOT_LENGTH]!,
        );
    }
  }

  /**
   * The locations, as (handle, offset, length) triples, of up to `count` live slots (no more
   * than the table holds), each the first live slot at or after a random one: a sample close
   * to uniform while the table is not too sparse. For RANDOMKEY. Writer thread only (no locks).
   */
  writerSampleLocations(count: number, random: () => number): Uint32Array {
    const slots = this.slotView();
    const capacity = slots.length / SLOT_WORDS;
    const tries = Math.min(count, Atomics.load(this.u32, H_COUNT));
    const out = new Uint32Array(tries * 3);
    let n = 0;
    for (let t = 0; t < tries; t++) {
      const start = Math.floor(random() * capacity);
      for (let k = 0; k < capacity; k++) {
        const base = ((start + k) % capacity) * SLOT_WORDS;
        if (slots[base]! > DELETED) {
          out[n++] = slots[base + SLOT_HANDLE]!;
          out[n++] = slots[base + SLOT_OFFSET]!;
          out[n++] = slots[base + SLOT_LENGTH]!;
          break;
        }
      }
    }
    return out.subarray(0, n);
  }

  /**
   * Looks at `count` slots from slot `cursor` (wrapping) and returns the locations, as
   * (handle, offset, length) triples, of the live ones among them, the slot to continue from
   * and how many slots were looked at. For the expiry cycle's walk. Writer thread only.
   */
  writerScanSlots(
    cursor: number,
    count: number,
  ): { locations: Uint32Array; next: number; walked: number } {
    const slots = this.slotView();
    const capacity = slots.length / SLOT_WORDS;
    const walked = Math.min(count, capacity);
    const out = new Uint32Array(walked * 3);
    let n = 0;
    let i = cursor % capacity;
    for (let k = 0; k < walked; k++, i = i + 1 === capacity ? 0 : i + 1) {
      const base = i * SLOT_WORDS;
      if (slots[base]! > DELETED) {
        out[n++] = slots[base + SLOT_HANDLE]!;
        out[n++] = slots[base + SLOT_OFFSET]!;
        out[n++] = slots[base + SLOT_LENGTH]!;
      }
    }
    return { locations: out.subarray(0, n), next: i, walked };
  }

  /**
   * A point-in-time copy of every live slot's location as (handle, offset, length) triples.
   * Writer thread only: no write can interleave, so the copy is consistent.
   */
  writerCopyLocations(): Uint32Array {
    const slots = this.slotView();
    const out = new Uint32Array(Atomics.load(this.u32, H_COUNT) * 3);
    let n = 0;
    for (let base = 0; base < slots.length; base += SLOT_WORDS) {
      if (slots[base]! > DELETED) {
        out[n++] = slots[base + SLOT_HANDLE]!;
        out[n++] = slots[base + SLOT_OFFSET]!;
        out[n++] = slots[base + SLOT_LENGTH]!;
      }
    }
    return out;
  }

  /** A copy of the slot array's bytes (the index snapshot's body). Writer thread only. */
  writerCopySlots(): Uint8Array {
    const slots = this.slotView();
    return new Uint8Array(slots.buffer, slots.byteOffset, slots.byteLength).slice();
  }

  /**
   * The slot bytes of this (empty, still private) table resized to `capacity` slots, for a slot
   * array saved by `writerCopySlots` to be read into in place; then call `writerRestoreCounts`,
   * or `writerClearSlots` if what was read is not to be used. Writer thread only, before any
   * reader sees the table.
   */
  writerRestoreTarget(capacity: number): Uint8Array {
    if (!this.isPrivate) throw new KvError('KV_INTERNAL', 'restore into an index readers can see');
    const bytes = (TABLE_BASE + capacity * SLOT_WORDS) * 4;
    if (bytes > this.buffer.byteLength) this.buffer.grow(bytes);
    this.capacityBeforeRestore ??= Atomics.load(this.u32, H_CAPACITY);
    Atomics.store(this.u32, H_CAPACITY, capacity);
    const view = this.slotView();
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  }

  /** Sets the key counts of a slot array read in by `writerRestoreTarget`. Writer only. */
  writerRestoreCounts(count: number, deleted: number): void {
    this.capacityBeforeRestore = undefined;
    this.u32[H_COUNT] = count;
    this.u32[H_DELETED] = deleted;
  }

  /**
   * Empties every slot a `writerRestoreTarget` read filled and gives the table back the
   * capacity it had before (a damaged snapshot's may be anything). Writer only, while private.
   */
  writerClearSlots(): void {
    if (!this.isPrivate) throw new KvError('KV_INTERNAL', 'clear an index readers can see');
    this.slotView().fill(0);
    if (this.capacityBeforeRestore !== undefined) {
      Atomics.store(this.u32, H_CAPACITY, this.capacityBeforeRestore);
      this.capacityBeforeRestore = undefined;
    }
    this.u32[H_COUNT] = 0;
    this.u32[H_DELETED] = 0;
  }
}
