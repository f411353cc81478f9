// Owns what the benchmarks do with a kvd data directory's files: their sizes by kind (LOCK
// aside); forcing the recovery mode of the next open by deleting files while it is closed (full
// scan: no hint files, no index snapshot; hints: no snapshot; snapshot: keep all); checking from
// stats().recovery which mode an open really used; waiting until every sealed segment is hinted.

import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Store, StoreStats } from '../engines/kvd.js';

/** How the next open should rebuild the index. */
export type RecoveryMode = 'scan' | 'hints' | 'snapshot';

/** The index snapshot written on clean close (FORMAT.md, "Index snapshot"). */
export const SNAPSHOT_FILE = 'INDEX-SNAPSHOT';
/** The directory lock (a few bytes, not data): left out of directoryBytes. */
const LOCK_FILE = 'LOCK';
const HINT_FILE = /^\d{6}\.hint$/;
const SEGMENT_FILE = /^\d{6,}\.(log|sst)$/;
const DATA_SEGMENT_FILE = /^\d{6,}\.sst$/;
const KEY_RUN_FILE = /^\d{6,}\.keys$/;

/** Deletes what would let the next open of closed directory `dir` skip `mode`'s work. */
export function forceRecoveryMode(dir: string, mode: RecoveryMode): void {
  if (mode === 'snapshot') return;
  rmSync(join(dir, SNAPSHOT_FILE), { force: true });
  if (mode === 'hints') return;
  for (const name of readdirSync(dir)) if (HINT_FILE.test(name)) rmSync(join(dir, name));
}

/** Whether directory `dir` holds an index snapshot now. */
export function hasSnapshot(dir: string): boolean {
  return readdirSync(dir).includes(SNAPSHOT_FILE);
}

/** How many data segments (`*.sst`, merge output: each is its own hint) `dir` holds. */
export function dataSegmentCount(dir: string): number {
  return readdirSync(dir).filter((n) => DATA_SEGMENT_FILE.test(n)).length;
}

/**
 * Bytes of the files in a data directory: segments (*.log and data segments *.sst), hint files, key runs (*.keys, each
 * with its bloom filter), and every other file (the index snapshot, whatever else is there).
 */
export interface DirectoryBytes {
  readonly segments: number;
  readonly hints: number;
  readonly keyRuns: number;
  readonly other: number;
  readonly total: number;
}

/** Sums the sizes of every file in `dir` by kind, all but LOCK. */
export function directoryBytes(dir: string): DirectoryBytes {
  let segments = 0;
  let hints = 0;
  let keyRuns = 0;
  let other = 0;
  for (const name of readdirSync(dir)) {
    if (name === LOCK_FILE) continue;
    const s = statSync(join(dir, name));
    if (!s.isFile()) continue;
    if (SEGMENT_FILE.test(name)) segments += s.size;
    else if (HINT_FILE.test(name)) hints += s.size;
    else if (KEY_RUN_FILE.test(name)) keyRuns += s.size;
    else other += s.size;
  }
  return { segments, hints, keyRuns, other, total: segments + hints + keyRuns + other };
}

/**
 * Checks that an open recovered the way `mode` asked. Returns whether an index snapshot was
 * really used (restoredSegments > 0); throws if files that should have been gone were used.
 */
export function checkRecovery(
  mode: RecoveryMode,
  recovery: StoreStats['recovery'],
  dataSegments: number,
): boolean {
  const { restoredSegments, hintedSegments } = recovery;
  if (mode !== 'snapshot' && restoredSegments > 0)
    throw new Error(`${mode} open restored ${restoredSegments} segments from a snapshot`);
  // Data segments (merge output) are their own hint: a full scan reads their blocks.
  if (mode === 'scan' && hintedSegments > dataSegments)
    throw new Error(`full-scan open loaded ${hintedSegments - dataSegments} hint files`);
  return restoredSegments > 0;
}

/** "restored r, hinted h, scanned s segments": what one open's recovery did. */
export function describeRecovery(recovery: StoreStats['recovery']): string {
  return (
    `restored ${recovery.restoredSegments}, hinted ${recovery.hintedSegments}, ` +
    `scanned ${recovery.scannedSegments} segments`
  );
}

/**
 * Polls `store` (opened with automatic compaction on, whose check sorts sealed log segments and
 * writes missing hint files) until every sealed segment is a hinted data segment: the state a
 * store settles in after a load. Throws after `timeoutMs`.
 */
export async function waitForSettled(store: Store, timeoutMs: number): Promise<StoreStats> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const stats = await store.stats();
    const sealed = stats.segments.filter((s) => !s.active);
    const unsettled = sealed.filter((s) => !(s.hinted && s.merged)).length;
    if (unsettled === 0) return stats;
    if (performance.now() > deadline) {
      throw new Error(`${unsettled} of ${sealed.length} sealed segments are not sorted and hinted`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
