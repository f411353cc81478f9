// Owns active expiry on the writer thread, as Redis's expire cycle does: every cycle, walk on
// through the index from where the last cycle stopped, 20 keys at a time, read each record's
// expiry, delete (with an ordinary tombstone, in line with every other write) those that have
// expired, and go on while more than a quarter of a round had expired and the cycle's time
// budget lasts. So keys that expire and are never read still leave the index (DBSIZE) and
// become reclaimable, and a cycle costs little when few keys expire. Writer thread only.

import {
  RECORD_HEADER_BYTES,
  recordBytes,
  TYPE_DELETE,
  writeRecordHeader,
} from '../shared/format.js';
import type { IndexTable } from '../shared/index-table.js';
import type { RecordReader } from '../shared/record-reader.js';

/** Keys read per round (Redis samples 20). */
const ROUND = 20;
/** Go on while more than this share of a round had expired. */
const REPEAT_ABOVE = 0.25;

/** What one cycle did. */
export interface ExpiryCycleResult {
  readonly scanned: number;
  /** The slot the next cycle starts from. */
  readonly next: number;
  /** Tombstones to append (seq and CRC zero), one per expired key, or undefined if none. */
  readonly tombstones: Uint8Array | undefined;
  readonly expired: number;
}

/**
 * Walks `index` from slot `cursor` for expired keys for at most `budgetMs` (at least one round)
 * and returns the tombstones that delete them, and where the next cycle goes on. The caller
 * appends them at once, before any other write can change those keys. A record that cannot be
 * read (damage) is skipped.
 */
export function runExpiryCycle(
  index: IndexTable,
  reader: RecordReader,
  cursor: number,
  budgetMs: number,
  now: number,
): ExpiryCycleResult {
  const deadline = performance.now() + budgetMs;
  const keys: Uint8Array[] = [];
  const total = index.count;
  let scanned = 0;
  let next = cursor;
  while (scanned < total) {
    const step = index.writerScanFrom(next, Math.min(ROUND, total - scanned));
    next = step.next;
    const locations = step.locations;
    const round = locations.length / 3;
    let expired = 0;
    for (let i = 0; i < locations.length; i += 3) {
      let record: { key: Uint8Array; expiresAt: number };
      try {
        record = reader.recordAt(locations[i]!, locations[i + 1]!, locations[i + 2]!);
      } catch {
        continue; // damage is reported by the reads and merges that meet it
      }
      if (record.expiresAt !== 0 && record.expiresAt <= now) {
        keys.push(record.key);
        expired++;
      }
    }
    scanned += round;
    if (round === 0 || expired <= round * REPEAT_ABOVE || performance.now() > deadline) break;
  }
  return {
    scanned,
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
    b.set(k, at + RECORD_HEADER_BYTES);
    at += recordBytes(k.length, 0);
  }
  return b;
}
