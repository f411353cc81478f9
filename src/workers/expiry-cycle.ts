// Owns active expiry on the writer thread, the work Redis's expire cycle does: delete the keys
// whose expiry has passed though nobody reads them, so they leave the index (DBSIZE) and their
// bytes become reclaimable. The segments' expiry tallies (segments.ts) say how many live records
// have expired and in which segments, so a cycle costs nothing while none has, and reads only
// the records of those segments: it walks on through the slots from where the last cycle
// stopped, for at most its time budget, until it has found them all (`ActiveExpiry` keeps that
// place and appends what a cycle found). Writer thread only.

import { recordBytes, recordKeyStart, TYPE_DELETE, writeRecordHeader } from '../shared/format.js';
import type { IndexTable } from '../shared/index-table.js';
import type { Logger } from '../shared/logger.js';
import type { RecordReader } from '../shared/record-reader.js';
import type { LogWriter } from './log-writer.js';
import type { SegmentTable } from './segments.js';

/** Slots looked at between two checks of the time budget. */
const CHUNK = 256;
/** How often the active expiry cycle runs unless configured (Redis: 10 times a second). */
export const EXPIRY_CYCLE_MS = 100;
/** The longest one cycle samples for (the writer appends nothing meanwhile). */
const EXPIRY_BUDGET_MS = 5;

/** The writer's active expiry: the slot the next cycle starts from, and running one. */
export class ActiveExpiry {
  private cursor = 0;

  /**
   * Runs one cycle over `index` and appends the tombstones it found through `log`. A failure is
   * logged as a warning: the next cycle tries again.
   */
  runOnce(index: IndexTable, segments: SegmentTable, log: LogWriter, logger: Logger): void {
    try {
      const cycle = runExpiryCycle(
        index,
        segments,
        log.recordReader(),
        this.cursor,
        EXPIRY_BUDGET_MS,
        Date.now(),
      );
      this.cursor = cycle.next;
      if (cycle.tombstones) log.appendExpired(cycle.tombstones, cycle.expired);
    } catch (error) {
      logger.warn({ err: error }, 'expiry cycle failed');
    }
  }
}

/** What one cycle did. */
export interface ExpiryCycleResult {
  /** Records read. */
  readonly read: number;
  /** The slot the next cycle starts from. */
  readonly next: number;
  /** Tombstones to append (seq and CRC zero), one per expired key, or undefined if none. */
  readonly tombstones: Uint8Array | undefined;
  readonly expired: number;
}

/**
 * Finds expired keys in `index`, walking from slot `cursor` for at most `budgetMs`, and returns
 * the tombstones that delete them. The caller appends them at once, before any other write can
 * change those keys. A record that cannot be read (damage) is skipped.
 */
export function runExpiryCycle(
  index: IndexTable,
  segments: SegmentTable,
  reader: RecordReader,
  cursor: number,
  budgetMs: number,
  now: number,
): ExpiryCycleResult {
  segments.sweepExpired(now);
  const handles = new Set<number>();
  let wanted = 0;
  for (const s of segments.list()) {
    if (s.expired.keys > 0) {
      handles.add(s.handle);
      wanted += s.expired.keys;
    }
  }
  if (wanted === 0) return { read: 0, next: cursor, tombstones: undefined, expired: 0 };
  const deadline = performance.now() + budgetMs;
  const capacity = index.capacity;
  const keys: Uint8Array[] = [];
  let read = 0;
  let next = cursor;
  for (let walked = 0; walked < capacity && keys.length < wanted; ) {
    const step = index.writerScanSlots(next, CHUNK);
    next = step.next;
    walked += step.walked;
    const l = step.locations;
    for (let i = 0; i < l.length; i += 3) {
      if (!handles.has(l[i]!)) continue;
      read++;
      let record: { key: Uint8Array; expiresAt: number };
      try {
        record = reader.located.recordAt(l[i]!, l[i + 1]!, l[i + 2]!);
      } catch {
        continue; // damage is reported by the reads and merges that meet it
      }
      if (record.expiresAt !== 0 && record.expiresAt <= now) keys.push(record.key);
    }
    if (performance.now() > deadline) break;
  }
  return {
    read,
    next,
    expired: keys.length,
    tombstones: keys.length > 0 ? tombstones(keys) : undefined,
  };
}

/** Plain tombstones (not a batch) for `keys`, laid out as a submission (seq and CRC zero). */
function tombstones(keys: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const k of keys) total += recordBytes(k.length, 0);
  const b = new Uint8Array(total);
  let at = 0;
  for (const k of keys) {
    writeRecordHeader(b, at, TYPE_DELETE, 0, 0, k.length, 0);
    b.set(k, recordKeyStart(at));
    at += recordBytes(k.length, 0);
  }
  return b;
}
