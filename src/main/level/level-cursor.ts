// Owns the walk behind KvdLevel's iterators: a position in a range of one kvd snapshot, read in
// slices (each a range scan of the snapshot from where the last one stopped, so no key run is
// held between calls), a read-ahead for one-at-a-time `next()`, seeks that restart the walk
// from a target within the same snapshot, and the snapshot's release if the walk owns it.

import type { RangeEntry, Snapshot } from '../index.js';
import { mapErrors } from './level-errors.js';
import type { LevelData } from './level-format.js';
import {
  after,
  boundsOf,
  type LevelBounds,
  type LevelRangeOptions,
  scanOptions,
  seekWithin,
} from './level-range.js';

/** Entries `next()` reads ahead at most at once; it starts at 1 and doubles up to this. */
const MAX_READ_AHEAD = 512;
/** Value bytes past which a read-ahead stops early (it always reads at least one entry). */
const READ_AHEAD_BYTES = 1024 * 1024;
/** Entries `all()` reads before it lets the event loop run. */
const ALL_SLICE = 1024;

/** A walk over a range of a kvd snapshot, in order (or reversed), within a limit. */
export class LevelCursor {
  private readonly range: LevelBounds;
  private readonly reverse: boolean;
  private readonly limit: number;
  /** What is left to read after what was read ahead. */
  private rest: LevelBounds;
  /** Whether `rest` is known to hold nothing more. */
  private exhausted = false;
  private ahead: RangeEntry[] = [];
  private aheadAt = 0;
  private readAhead = 1;
  /** Entries handed out (the limit counts across seeks, as abstract-level's does). */
  private served = 0;

  /**
   * A walk of `options`' range in `snapshot`, reading values unless `values` is false. With
   * `owned`, `close` releases the snapshot (the iterator's implicit one); otherwise it belongs
   * to someone else (an explicit snapshot).
   */
  constructor(
    private readonly snapshot: Snapshot,
    private readonly owned: boolean,
    options: LevelRangeOptions,
    private readonly values: boolean,
  ) {
    this.range = boundsOf(options);
    this.rest = this.range;
    this.reverse = options.reverse === true;
    const limit = options.limit ?? -1;
    this.limit = limit < 0 ? Number.POSITIVE_INFINITY : limit;
  }

  /** The next entry, or undefined at the end. Reads ahead a growing slice when it runs out. */
  next(): RangeEntry | undefined {
    if (this.aheadAt === this.ahead.length) {
      this.ahead = this.read(this.readAhead, READ_AHEAD_BYTES);
      this.aheadAt = 0;
      this.readAhead = Math.min(this.readAhead * 2, MAX_READ_AHEAD);
    }
    const entry = this.ahead[this.aheadAt++];
    if (entry !== undefined) this.served++;
    return entry;
  }

  /** Up to `size` next entries (fewer only at the end). */
  nextv(size: number): RangeEntry[] {
    const entries = this.ahead.slice(this.aheadAt, this.aheadAt + size);
    this.aheadAt += entries.length;
    this.served += entries.length;
    if (entries.length < size) {
      const more = this.read(size - entries.length, Number.POSITIVE_INFINITY);
      this.served += more.length;
      for (const entry of more) entries.push(entry);
    }
    return entries;
  }

  /** Every remaining entry, read in slices with the event loop running between them. */
  async all(): Promise<RangeEntry[]> {
    const entries: RangeEntry[] = [];
    for (;;) {
      const slice = this.nextv(ALL_SLICE);
      for (const entry of slice) entries.push(entry);
      if (slice.length < ALL_SLICE) return entries;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Moves to `target`: the next entry is the first at or after it (at or before it, reversed)
   * within the range, read from the same snapshot. What was read ahead is dropped.
   */
  seek(target: LevelData): void {
    this.rest = seekWithin(this.range, target, this.reverse);
    this.exhausted = false;
    this.ahead = [];
    this.aheadAt = 0;
    this.readAhead = 1;
  }

  /** Releases the snapshot if the walk owns it. */
  close(): void {
    if (this.owned) this.snapshot.release();
  }

  /**
   * Up to `count` entries of `rest` (within the limit), stopping early once `maxBytes` of
   * values are read; moves `rest` past them.
   */
  private read(count: number, maxBytes: number): RangeEntry[] {
    const wanted = Math.min(count, this.limit - this.served - (this.ahead.length - this.aheadAt));
    if (this.exhausted || wanted <= 0) return [];
    const options = scanOptions(this.rest, this.reverse, wanted, this.values);
    const entries: RangeEntry[] = [];
    let bytes = 0;
    let stoppedEarly = false;
    mapErrors(() => {
      for (const entry of this.snapshot.rangeSync(options)) {
        entries.push(entry);
        bytes += entry.value?.length ?? 0;
        if (bytes >= maxBytes && entries.length < wanted) {
          stoppedEarly = true;
          break;
        }
      }
    });
    const last = entries[entries.length - 1];
    if (last !== undefined) this.rest = after(this.rest, last.key, this.reverse);
    if (entries.length < wanted && !stoppedEarly) this.exhausted = true;
    return entries;
  }
}
