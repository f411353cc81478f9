// Owns choosing what to merge: contiguous runs of sealed segments (replay order must survive the
// merge), triggered by reclaimable bytes as Bitcask does, or everything sealed on demand, or,
// when nothing is due, sealed unsorted segments to rewrite sorted (policy.sortSealed). Pure:
// it reads the segment table and decides; the writer service reserves the output id. Writer only.

import type { CompactionPolicy, MergeInput, MergePlan } from '../shared/compaction-messages.js';
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

/** The segments a merge should take, in replay order, and why (see `MergePlan.reason`). */
export interface ChosenRun {
  readonly run: Segment[];
  readonly reason: MergePlan['reason'];
}

/**
 * The segments the next merge should take, in replay order (an empty run if none is due).
 * `sealed` holds the candidate segments in replay order (none of them active); `oldest` is the
 * oldest segment of the store, so a run starting there may drop tombstones. With `all`, every
 * candidate up to `maxMergeBytes` of input (at least one), which is what `compact()` asks for.
 * Otherwise a run a trigger fired in; failing that, with `policy.sortSealed`, the first run of
 * neighbouring unsorted segments (past `sortSkipThrough`), to be rewritten sorted.
 */
export function chooseRun(
  sealed: readonly Segment[],
  oldest: Segment | undefined,
  policy: CompactionPolicy,
  all: boolean,
): ChosenRun {
  if (all) return { run: takeUpTo(sealed, 0, policy.maxMergeBytes), reason: 'all' };
  const dead = chooseDeadRun(sealed, oldest, policy);
  if (dead.length > 0) return { run: dead, reason: 'dead' };
  if (!policy.sortSealed) return { run: [], reason: 'sort' };
  return { run: chooseUnsortedRun(sealed, policy), reason: 'sort' };
}

/**
 * The first run of neighbouring sealed segments that are not data segments (log segments, or
 * merged log segments of the earlier format) past `sortSkipThrough`, cut at maxMergeBytes.
 */
function chooseUnsortedRun(sealed: readonly Segment[], policy: CompactionPolicy): Segment[] {
  const unsorted = (s: Segment) => s.kind !== KIND_SORTED;
  const start = sealed.findIndex((s) => unsorted(s) && s.first > policy.sortSkipThrough);
  if (start < 0) return [];
  let end = start;
  while (end < sealed.length && unsorted(sealed[end]!)) end++;
  return takeUpTo(sealed.slice(start, end), 0, policy.maxMergeBytes);
}

/** A run in which a segment triggers, cut at maxMergeBytes, with bytes to free; or []. */
function chooseDeadRun(
  sealed: readonly Segment[],
  oldest: Segment | undefined,
  policy: CompactionPolicy,
): Segment[] {
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
