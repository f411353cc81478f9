// Owns choosing what to merge: contiguous runs of sealed segments (replay order must survive the
// merge), triggered by reclaimable bytes as Bitcask does, or everything sealed on demand. Pure:
// it reads the segment table and decides; the writer service reserves the output id. Writer only.

import type { CompactionPolicy, MergeInput } from '../shared/compaction-messages.js';
import { KIND_SORTED, RECORD_HEADER_BYTES } from '../shared/format.js';
import type { Segment } from './segments.js';

/**
 * Bytes a merge of a run starting at the oldest segment (`prefix`) or not would free in `s`.
 * Expired records count as dead; elsewhere than in a prefix a merge keeps each as a tombstone
 * (header and key) in case it hides an older value, so only its value is freed.
 */
export function reclaimableBytes(s: Segment, prefix: boolean): number {
  const dead = s.size - s.overhead - s.liveBytes + s.expired.bytes;
  if (prefix) return dead;
  const keptOfExpired = s.expired.keys * RECORD_HEADER_BYTES + s.expired.keyBytes;
  return dead - s.tombstoneBytes - keptOfExpired;
}

/**
 * The segments the next merge should take, in replay order, or [] if none is due. `sealed`
 * holds the candidate segments in replay order (none of them active); `oldest` is the oldest
 * segment of the store, so a run starting there may drop tombstones. With `all`, every
 * candidate up to `maxMergeBytes` of input (at least one), which is what `compact()` asks for.
 */
export function chooseRun(
  sealed: readonly Segment[],
  oldest: Segment | undefined,
  policy: CompactionPolicy,
  all: boolean,
): Segment[] {
  if (all) return takeUpTo(sealed, 0, policy.maxMergeBytes);
  let i = 0;
  while (i < sealed.length) {
    // A run of neighbours worth including; merge it if one of them triggers.
    const start = i;
    const prefix = sealed[start] === oldest;
    let triggered = false;
    while (i < sealed.length && worthIncluding(sealed[i]!, prefix, policy)) {
      if (triggers(sealed[i]!, prefix, policy)) triggered = true;
      i++;
    }
    if (triggered) {
      const run = takeUpTo(sealed.slice(start, i), 0, policy.maxMergeBytes);
      // A lone segment with nothing to free is not worth rewriting.
      if (run.some((s) => reclaimableBytes(s, prefix) > 0)) return run;
    }
    if (i === start) i++;
  }
  return [];
}

function triggers(s: Segment, prefix: boolean, p: CompactionPolicy): boolean {
  const r = reclaimableBytes(s, prefix);
  return r > 0 && (r >= p.triggerDeadBytes || r / s.size >= p.triggerDeadRatio);
}

function worthIncluding(s: Segment, prefix: boolean, p: CompactionPolicy): boolean {
  return (
    s.size < p.smallSegmentBytes ||
    reclaimableBytes(s, prefix) / s.size >= p.includeDeadRatio ||
    triggers(s, prefix, p)
  );
}

function takeUpTo(run: readonly Segment[], from: number, maxBytes: number): Segment[] {
  const out: Segment[] = [];
  let total = 0;
  for (let i = from; i < run.length; i++) {
    const s = run[i]!;
    if (out.length > 0 && total + s.size > maxBytes) break;
    out.push(s);
    total += s.size;
  }
  return out;
}

/** The inputs of a merge of `run`, as the worker needs them. */
export function mergeInputs(run: readonly Segment[]): MergeInput[] {
  return run.map((s) => ({
    id: s.id,
    handle: s.handle,
    size: s.size,
    sorted: s.kind === KIND_SORTED,
  }));
}
