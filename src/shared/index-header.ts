// Owns the header of kvd's shared index (index-table.ts): the words before the lock stripes,
// the stripes' and the segment handle table's places, and the accessors of the header words:
// counts, hash bits, damaged reads, the published sequence number, the segment state range
// scans follow, and the batch generation and lock that keep multi-key reads from seeing half a
// batch. The segment handles, their epoch and pins are `segments` (segment-handles.ts). The
// table builds on it (`IndexTable extends IndexHeader`).
//
// Header words (u32): 0 magic, 1 capacity, 2 live count, 3 deleted slots, 4 hash bits,
// 5 generation, 6 segment epoch, 7 segment pins, 8 damaged reads, 9 segment state version,
// 10-11 published sequence number (u64), 12 batch generation, 13 batch lock, 14 active
// segment id, 15 key runs through. Then 1024 stripe lock words, then 65,536 handle words.

import { lockRead, lockWrite, unlockRead, unlockWrite } from './rw-lock.js';
import { SegmentHandles } from './segment-handles.js';

const MAGIC = 0x4b564931; // "KVI1"
const H_MAGIC = 0;
/** Header word: slots in the table. */
export const H_CAPACITY = 1;
/** Header word: live keys. */
export const H_COUNT = 2;
/** Header word: slots marked deleted. */
export const H_DELETED = 3;
const H_HASH_BITS = 4;
/** Header word: times the table was rebuilt. */
export const H_GENERATION = 5;
const H_SEGMENT_EPOCH = 6;
const H_SEGMENT_PINS = 7;
const H_DAMAGED_READS = 8;
/** Bumped by the writer whenever the active segment or key runs words change. */
const H_SEGMENT_STATE_VERSION = 9;
/** Word index of the published sequence number, a u64 (8-byte aligned for Atomics). */
const H_PUBLISHED_SEQ = 10;
/** Bumped to odd before the writer publishes an atomic batch's records, to even after. */
const H_BATCH_GENERATION = 12;
/** Reader-writer lock word: multi-key reads that must not see half a batch hold it to read. */
const H_BATCH_LOCK = 13;
/** The active log segment's id. */
const H_ACTIVE_SEGMENT = 14;
/** Every record of a log segment with id up to this is in a segment with a key run. */
const H_KEY_RUNS_THROUGH = 15;
const HEADER_WORDS = 16;

/** Number of lock stripes; a key's stripe is its tag's low bits. */
export const STRIPES = 1024;
/** Word of the first stripe lock. */
export const STRIPE_BASE = HEADER_WORDS;
/** Number of segment handles: a slot names its segment by a 16-bit handle. */
export const MAX_SEGMENT_HANDLES = 65536;
const HANDLE_BASE = STRIPE_BASE + STRIPES;
/** Word where the slots begin. */
export const TABLE_BASE = HANDLE_BASE + MAX_SEGMENT_HANDLES;

/** Writes a new index buffer's header (IndexTable.create). */
export function initHeader(buffer: SharedArrayBuffer, capacity: number, hashBits: number): void {
  const u32 = new Uint32Array(buffer, 0, HEADER_WORDS);
  u32[H_CAPACITY] = capacity;
  u32[H_HASH_BITS] = hashBits;
  u32[H_MAGIC] = MAGIC;
}

/**
 * The header, locks and segment handles of a shared index buffer. One view per thread; methods
 * named `writer*` are the writer worker's, the rest any thread's.
 */
export class IndexHeader {
  readonly buffer: SharedArrayBuffer;
  // Fixed-length views: V8 accesses length-tracking views of a growable buffer 2-3x slower,
  // and the header, locks and handles never move.
  /** Signed view of the header, locks and handles: Atomics.wait needs an Int32Array. */
  protected readonly i32: Int32Array;
  protected readonly u32: Uint32Array;
  /** The published sequence number (header words 10-11). */
  private readonly published: BigUint64Array;
  /** The segment handle table, its epoch and its pins (segment-handles.ts). */
  readonly segments: SegmentHandles;
  /** True while only the writer knows this table (recovery): no locks needed. */
  protected isPrivate = false;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    if (buffer.byteLength < TABLE_BASE * 4) throw new Error('not a kvd index buffer');
    this.i32 = new Int32Array(buffer, 0, TABLE_BASE);
    this.u32 = new Uint32Array(buffer, 0, TABLE_BASE);
    this.published = new BigUint64Array(buffer, H_PUBLISHED_SEQ * 4, 1);
    if (this.u32[H_MAGIC] !== MAGIC) throw new Error('not a kvd index buffer');
    this.segments = new SegmentHandles(this.i32, this.u32, {
      epochWord: H_SEGMENT_EPOCH,
      pinsWord: H_SEGMENT_PINS,
      handleBase: HANDLE_BASE,
    });
  }

  /** Live keys. */
  get count(): number {
    return Atomics.load(this.u32, H_COUNT);
  }

  /** Slots in the table. */
  get capacity(): number {
    return Atomics.load(this.u32, H_CAPACITY);
  }

  /** Times the table has been rebuilt (grown or purged of deleted slots). */
  get generation(): number {
    return Atomics.load(this.u32, H_GENERATION);
  }

  /** Slots marked deleted (they count towards the load until a rehash purges them). */
  get deletedSlots(): number {
    return Atomics.load(this.u32, H_DELETED);
  }

  /** Bits of each key hash the index keeps (32 but in collision tests). */
  get hashBits(): number {
    return this.u32[H_HASH_BITS]!;
  }

  /** Bytes of shared memory the index occupies. */
  get byteLength(): number {
    return this.buffer.byteLength;
  }

  /** Counts a read refused because its record was damaged (any thread; for stats). */
  noteDamagedRead(): void {
    Atomics.add(this.u32, H_DAMAGED_READS, 1);
  }

  /** Reads refused as damaged since the store opened, by every thread. */
  get damagedReads(): number {
    return Atomics.load(this.u32, H_DAMAGED_READS);
  }

  /**
   * The sequence number through which every record is in the index (any thread): a key looked
   * up after reading it shows every write up to it. 0 before the writer has published any.
   */
  get publishedSeq(): number {
    return Number(Atomics.load(this.published, 0));
  }

  /** Announces that every record up to sequence number `seq` is published (writer only). */
  writerSetPublishedSeq(seq: number): void {
    Atomics.store(this.published, 0, BigInt(seq));
  }

  /**
   * Publishes the active segment's id and how far key runs cover the log (writer only;
   * SegmentTable.publishKeyRunState), and bumps the segment state version.
   */
  writerPublishSegmentState(activeId: number, keyRunsThrough: number): void {
    Atomics.store(this.u32, H_ACTIVE_SEGMENT, activeId);
    Atomics.store(this.u32, H_KEY_RUNS_THROUGH, keyRunsThrough);
    Atomics.add(this.u32, H_SEGMENT_STATE_VERSION, 1);
  }

  /** Changes whenever the writer publishes segment state (any thread). */
  get segmentStateVersion(): number {
    return Atomics.load(this.u32, H_SEGMENT_STATE_VERSION);
  }

  /** The active log segment's id (any thread): a record published now is in it or before. */
  get activeSegmentId(): number {
    return Atomics.load(this.u32, H_ACTIVE_SEGMENT);
  }

  /** Every record of log segments up to this id is in a segment with a key run (any thread). */
  get keyRunsThrough(): number {
    return Atomics.load(this.u32, H_KEY_RUNS_THROUGH);
  }

  /**
   * Starts publishing an atomic batch's records (writer only): waits for the multi-key reads
   * holding the batch lock, then makes the batch generation odd. No key of the batch may be
   * published before this call, and `writerEndBatchPublish` must follow.
   */
  writerBeginBatchPublish(): void {
    if (this.isPrivate) return;
    lockWrite(this.i32, H_BATCH_LOCK);
    Atomics.add(this.i32, H_BATCH_GENERATION, 1);
  }

  /** Ends what `writerBeginBatchPublish` began: the generation is even again (writer only). */
  writerEndBatchPublish(): void {
    if (this.isPrivate) return;
    Atomics.add(this.i32, H_BATCH_GENERATION, 1);
    unlockWrite(this.i32, H_BATCH_LOCK);
  }

  /**
   * The batch generation (any thread): odd while the writer publishes an atomic batch. Reads
   * made between two equal even readings saw no batch in part.
   */
  get batchGeneration(): number {
    return Atomics.load(this.i32, H_BATCH_GENERATION);
  }

  /**
   * Runs `read` (synchronous) while no atomic batch can be half published: multi-key reads
   * (getMany) use it so that they see all of a batch or none of it. Any thread; may block
   * while the writer publishes a batch. `read` must not wait on the writer.
   */
  readWithoutHalfBatches<T>(read: () => T): T {
    lockRead(this.i32, H_BATCH_LOCK);
    try {
      return read();
    } finally {
      unlockRead(this.i32, H_BATCH_LOCK);
    }
  }

  /**
   * Declares that no other thread can see the table yet (recovery, before the buffer is handed
   * to any reader), so writes may skip the stripe locks. Writer thread only.
   */
  writerSetPrivate(isPrivate: boolean): void {
    this.isPrivate = isPrivate;
  }
}
