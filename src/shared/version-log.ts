// Owns the memory layout of the version log: while any snapshot is held, the writer records
// here every record version it takes out of the index (overwritten, deleted, reaped, dropped by
// a merge), with the sequence numbers between which it was current, so a snapshot taken at
// sequence S can still find the version that was current at S. One growable SharedArrayBuffer,
// readable by every thread, written only by the writer; emptied when no snapshot is held.
//
// Layout (u32 words):
//   [0, 8)          header: magic, entry count (published), snapshots held, publish-run
//                   generation (odd while the writer publishes a run of records), overflow
//                   (1 once a version could not be recorded: held snapshots are void),
//                   bytes of segments whose retirement waits for snapshots (two words),
//                   whether the run in progress records (1) or not (0)
//   [8, 8+65536)    chain heads by tag bucket: 1 + the newest entry's number (0 = none)
//   then entries, ENTRY_WORDS each: tag, segment handle, offset, record length, seq (u64 as
//   two words: the version's own), displaced seq (two words: the first record that replaced
//   or removed it), next (1 + the next older entry of the bucket, 0 = none).
// A snapshot is created by adding to "snapshots held", waiting while the generation is odd
// (a run that began before it may not have seen the count) unless that run records anyway
// (another snapshot was held when it began), then reading the published sequence number:
// every later run sees the count and records what it displaces.

import { decrementAndNotify, untilZero } from './atomic-wait.js';

const MAGIC = 0x4b56564c; // "KVVL"
const H_MAGIC = 0;
const H_COUNT = 1;
const H_HELD = 2;
const H_GENERATION = 3;
const H_OVERFLOW = 4;
/** Bytes of segments a merge waits to retire while snapshots are held (u64 as two words). */
const H_PINNED_LOW = 5;
const H_PINNED_HIGH = 6;
/** 1 while the run in progress records what it displaces (set after the generation turns odd). */
const H_RUN_RECORDS = 7;
const HEADER_WORDS = 8;
const BUCKETS = 65_536;
const ENTRIES_BASE = HEADER_WORDS + BUCKETS;
const ENTRY_WORDS = 9;
const INITIAL_ENTRIES = 4096;
/** Largest log (1 GiB of address space reserved, grown on demand). */
const MAX_BYTES = 1024 ** 3;
const MAX_ENTRIES = Math.floor((MAX_BYTES / 4 - ENTRIES_BASE) / ENTRY_WORDS);
const TWO_32 = 0x1_0000_0000;

/** A record version the log holds: where it lies and the sequence numbers bounding it. */
export interface DisplacedVersion {
  readonly handle: number;
  readonly offset: number;
  readonly length: number;
  /** The version's own sequence number. */
  readonly seq: number;
  /** The sequence number of what replaced or removed it: current for snapshots below it. */
  readonly displacedSeq: number;
}

/**
 * A view of the version log. One per thread over the same buffer. Methods named `writer*` are
 * the writer's; the rest any thread's.
 */
export class VersionLog {
  readonly buffer: SharedArrayBuffer;
  private readonly words: Int32Array;
  private readonly u32: Uint32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    // Length-tracking views: the log grows while snapshots are held.
    this.words = new Int32Array(buffer);
    this.u32 = new Uint32Array(buffer);
    if (this.u32[H_MAGIC] !== MAGIC) throw new Error('not a kvd version log buffer');
  }

  /** A new, empty log. */
  static create(): VersionLog {
    const bytes = (ENTRIES_BASE + INITIAL_ENTRIES * ENTRY_WORDS) * 4;
    const buffer = new SharedArrayBuffer(bytes, { maxByteLength: MAX_BYTES });
    new Uint32Array(buffer)[H_MAGIC] = MAGIC;
    return new VersionLog(buffer);
  }

  // --- Snapshots (any thread) -----------------------------------------------------------

  /**
   * Registers a snapshot and returns once every run of the writer that began before it has
   * ended: from then on the writer records each version it displaces, and the published
   * sequence number read next bounds what the snapshot sees. Pair with `releaseSnapshot`.
   */
  holdSnapshot(): void {
    Atomics.add(this.words, H_HELD, 1);
    for (;;) {
      const generation = Atomics.load(this.words, H_GENERATION);
      if ((generation & 1) === 0) return;
      // A run in progress that records what it displaces serves this snapshot as well as a
      // later one would. The flag is 0 from the end of each run until the next one sets it,
      // so with the generation unchanged around its read it is this run's.
      if (
        Atomics.load(this.words, H_RUN_RECORDS) === 1 &&
        Atomics.load(this.words, H_GENERATION) === generation
      ) {
        return;
      }
      // A run that does not record (microseconds): wait for its end, bounded against a missed
      // wake-up.
      Atomics.wait(this.words, H_GENERATION, generation, 5);
    }
  }

  /** Ends what `holdSnapshot` began. */
  releaseSnapshot(): void {
    decrementAndNotify(this.words, H_HELD);
  }

  /** Resolves once no snapshot is held (the writer, before it retires a merge's inputs). */
  async whenNoneHeld(): Promise<void> {
    await untilZero(this.words, H_HELD, Number.POSITIVE_INFINITY);
  }

  /** Snapshots held now, by every thread. */
  get held(): number {
    return Atomics.load(this.words, H_HELD);
  }

  /**
   * Whether a version could not be recorded since the log was last emptied (the log is full):
   * the snapshots held then cannot be served and must fail.
   */
  get overflowed(): boolean {
    return Atomics.load(this.u32, H_OVERFLOW) !== 0;
  }

  /** Bytes of segment files a merge keeps because snapshots are held (any thread). */
  get pinnedBytes(): number {
    return Atomics.load(this.u32, H_PINNED_LOW) + Atomics.load(this.u32, H_PINNED_HIGH) * TWO_32;
  }

  /** Sets `pinnedBytes` (writer only: a merge waiting to retire its inputs, or 0). */
  writerSetPinnedBytes(bytes: number): void {
    Atomics.store(this.u32, H_PINNED_LOW, bytes >>> 0);
    Atomics.store(this.u32, H_PINNED_HIGH, Math.floor(bytes / TWO_32));
  }

  /** Versions recorded now. */
  get entries(): number {
    return Atomics.load(this.u32, H_COUNT);
  }

  /**
   * The version of the key with `tag` that was current at sequence number `seq` (the newest
   * recorded one with seq ≤ `seq` < displaced seq), or undefined. Candidates share the tag
   * only: the caller checks the key at the location.
   */
  *candidates(tag: number, seq: number): Generator<DisplacedVersion, void, undefined> {
    const u = this.u32;
    const count = Atomics.load(u, H_COUNT);
    let next = Atomics.load(u, HEADER_WORDS + (tag % BUCKETS));
    while (next !== 0) {
      const n = next - 1;
      const at = ENTRIES_BASE + n * ENTRY_WORDS;
      next = u[at + 8]!;
      if (n >= count || u[at]! !== tag) continue;
      const own = u[at + 4]! + u[at + 5]! * TWO_32;
      const displaced = u[at + 6]! + u[at + 7]! * TWO_32;
      if (own <= seq && seq < displaced) {
        yield {
          handle: u[at + 1]!,
          offset: u[at + 2]!,
          length: u[at + 3]!,
          seq: own,
          displacedSeq: displaced,
        };
      }
    }
  }

  // --- The writer -------------------------------------------------------------------------

  /**
   * Begins a run of index changes (writer only): returns whether snapshots are held, so the
   * run records what it displaces. With none held, empties the log first.
   */
  writerBeginRun(): boolean {
    Atomics.add(this.words, H_GENERATION, 1);
    const held = Atomics.load(this.words, H_HELD) > 0;
    if (!held && Atomics.load(this.u32, H_COUNT) > 0) {
      this.u32.fill(0, HEADER_WORDS, ENTRIES_BASE);
      Atomics.store(this.u32, H_COUNT, 0);
      Atomics.store(this.u32, H_OVERFLOW, 0);
    }
    if (held) Atomics.store(this.words, H_RUN_RECORDS, 1);
    return held;
  }

  /** Ends the run `writerBeginRun` began, waking snapshots waiting on it. */
  writerEndRun(): void {
    Atomics.store(this.words, H_RUN_RECORDS, 0);
    Atomics.add(this.words, H_GENERATION, 1);
    Atomics.notify(this.words, H_GENERATION);
  }

  /** Records a displaced version (writer only, inside a run, or at any time for merges). */
  writerRecord(tag: number, v: DisplacedVersion): void {
    const u = this.u32;
    const n = u[H_COUNT]!;
    if (n >= MAX_ENTRIES) {
      // ~29M versions displaced while one snapshot was held: it cannot be served any more.
      Atomics.store(u, H_OVERFLOW, 1);
      return;
    }
    const at = ENTRIES_BASE + n * ENTRY_WORDS;
    if ((at + ENTRY_WORDS) * 4 > this.buffer.byteLength) {
      const grown = Math.min(
        MAX_BYTES,
        Math.max(this.buffer.byteLength * 2, (at + ENTRY_WORDS) * 4),
      );
      this.buffer.grow(grown);
    }
    const bucket = HEADER_WORDS + (tag % BUCKETS);
    u[at] = tag;
    u[at + 1] = v.handle;
    u[at + 2] = v.offset;
    u[at + 3] = v.length;
    u[at + 4] = v.seq >>> 0;
    u[at + 5] = Math.floor(v.seq / TWO_32);
    u[at + 6] = v.displacedSeq >>> 0;
    u[at + 7] = Math.floor(v.displacedSeq / TWO_32);
    u[at + 8] = u[bucket]!;
    // Publish the entry before linking it: a reader that sees the head sees the entry.
    Atomics.store(u, H_COUNT, n + 1);
    Atomics.store(u, bucket, n + 1);
  }
}
