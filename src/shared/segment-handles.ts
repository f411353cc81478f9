// Owns the segment handle table of kvd's shared index and the two header words that go with it:
// which segment file each 16-bit handle names (a log or a data segment, and whether every put
// entry of a data segment is still its key's newest version), the epoch bumped when
// segments are retired (threads then close the descriptors of freed handles), and the pins that
// hold retirement back while a caller works from a copy of record locations. Any thread reads;
// methods named `writer*` are the writer worker's. The words' places are in index-header.ts.

import { decrementAndNotify, untilZero } from './atomic-wait.js';

/** Bit of a handle table word marking a data segment (`.sst`). */
const HANDLE_SORTED = 0x8000_0000;
/**
 * Bit of a data segment's word: some put entry of it may not be its key's newest version (one
 * was overwritten, deleted or moved, or was never installed). Clear only while the writer
 * knows every put entry is: a range scan then takes an entry from the block without asking the
 * index (ARCHITECTURE.md, "All-live data segments").
 */
const HANDLE_DISPLACED = 0x4000_0000;
/** The segment file id: the low 30 bits, so ids stay below 2^30. */
const ID_MASK = 0x3fff_ffff;

/** Where a handle table lives in a shared index buffer (IndexHeader gives them). */
export interface SegmentHandleWords {
  /** Header word of the segment epoch. */
  readonly epochWord: number;
  /** Header word of the pin count. */
  readonly pinsWord: number;
  /** Word of handle 0; handle h is word `handleBase + h`. */
  readonly handleBase: number;
}

/** The segment handles, epoch and pins of one shared index buffer. One view per thread. */
export class SegmentHandles {
  constructor(
    /** Signed view of the index's header and handles (Atomics.wait needs an Int32Array). */
    private readonly i32: Int32Array,
    private readonly u32: Uint32Array,
    private readonly words: SegmentHandleWords,
  ) {}

  /** Bumped each time segments are retired: threads then close fds of freed handles. */
  get epoch(): number {
    return Atomics.load(this.u32, this.words.epochWord);
  }

  /**
   * Holds back segment retirement while a caller works from a copy of locations (keys()):
   * retirement waits until every pin is released. Any thread.
   */
  pin(): void {
    Atomics.add(this.u32, this.words.pinsWord, 1);
  }

  /** Releases a pin taken by `pin`. */
  unpin(): void {
    decrementAndNotify(this.i32, this.words.pinsWord);
  }

  /** Resolves true once no pin is held, or false after `timeoutMs` (writer). */
  whenUnpinned(timeoutMs: number): Promise<boolean> {
    return untilZero(this.i32, this.words.pinsWord, timeoutMs);
  }

  /** Pins currently held (writer: retire only at 0). */
  get pins(): number {
    return Atomics.load(this.u32, this.words.pinsWord);
  }

  /** Segment file id a handle names (0 if the handle is free). */
  idOf(handle: number): number {
    return Atomics.load(this.u32, this.words.handleBase + handle) & ID_MASK;
  }

  /**
   * Whether the segment a handle names is a merged data segment (`NNNNNN.sst`, point entries)
   * rather than a log segment (`NNNNNN.log`, log records).
   */
  isSorted(handle: number): boolean {
    return (Atomics.load(this.u32, this.words.handleBase + handle) & HANDLE_SORTED) !== 0;
  }

  /**
   * Whether `handle` names data segment `segmentId` and every put entry of it is its key's newest
   * version now. A scan that took its snapshot before this call may then take any entry written
   * before the snapshot as the snapshot's version: it was the newest when the snapshot was
   * taken, since versions only get newer and it still is one.
   */
  allLive(handle: number, segmentId: number): boolean {
    const word = Atomics.load(this.u32, this.words.handleBase + handle);
    return (word & (HANDLE_SORTED | HANDLE_DISPLACED | ID_MASK)) === (HANDLE_SORTED | segmentId);
  }

  /**
   * Records that `handle` now names segment file `segmentId` (0 frees it), a data segment
   * (`sorted`, marked displaced until `writerMarkAllLive`) or a log segment.
   */
  writerSet(handle: number, segmentId: number, sorted = false): void {
    if (segmentId > ID_MASK) throw new RangeError(`segment id ${segmentId} is too large`);
    Atomics.store(
      this.u32,
      this.words.handleBase + handle,
      sorted ? (segmentId | HANDLE_SORTED | HANDLE_DISPLACED) >>> 0 : segmentId,
    );
  }

  /**
   * Marks data segment `handle` displaced: call before publishing the sequence number of the
   * write that displaced an entry of it (a snapshot that includes the write then sees the mark).
   */
  writerMarkDisplaced(handle: number): void {
    const at = this.words.handleBase + handle;
    // Only the first displacement writes: every read on every thread loads this word's line.
    if ((Atomics.load(this.u32, at) & HANDLE_DISPLACED) === 0) {
      Atomics.or(this.u32, at, HANDLE_DISPLACED);
    }
  }

  /** Clears the mark: every put entry of data segment `handle` is its key's newest version. */
  writerMarkAllLive(handle: number): void {
    Atomics.and(this.u32, this.words.handleBase + handle, ~HANDLE_DISPLACED >>> 0);
  }

  /** Announces retired segments (call under `writerLockAll`, after freeing their handles). */
  writerBumpEpoch(): void {
    Atomics.add(this.u32, this.words.epochWord, 1);
  }
}
