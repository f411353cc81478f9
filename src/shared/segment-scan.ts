// Owns walking the records of a segment image in file order and turning them into effects:
// a put or a tombstone that took effect, with batch records held back until their commit
// record is read (FORMAT.md, "Atomic batches"); the sync marks met on the way; and, past
// damage, finding the valid records that follow it. Recovery, repair, hint-file writing and
// compaction all read segments through these loops, so they agree on what a segment holds.

import { Buffer } from 'node:buffer';
import { KvError } from './errors.js';
import {
  batchCommitCount,
  FLAG_IN_BATCH,
  findNextRecord,
  isRecordType,
  RECORD_HEADER_BYTES,
  recordKeyLength,
  SEGMENT_HEADER_BYTES,
  scanRecord,
  syncMarkValue,
  TYPE_BATCH_COMMIT,
  TYPE_DELETE,
  TYPE_PUT,
  TYPE_SYNC_MARK,
} from './format.js';

/** A record that took effect: a put or a tombstone at `offset` (its `length` bytes). */
export type EffectVisitor = (
  type: typeof TYPE_PUT | typeof TYPE_DELETE,
  offset: number,
  length: number,
  seq: number,
) => void;

/** Where and why a scan stopped. */
export interface ScanOutcome {
  /** End of the last record that took effect (or was a commit): everything before it is good. */
  readonly goodEnd: number;
  /** Why the scan stopped before `end`, or '' if it reached it with no batch open. */
  readonly problem: string;
  /** Offset of the record the problem is in (for messages). */
  readonly problemAt: number;
  /** Highest sequence number seen in a whole, valid record (0 if none). */
  readonly lastSeq: number;
  /** Records that took effect. */
  readonly effects: number;
  /** The largest synced byte count a sync mark before the stop states (0 if none). */
  readonly syncedThrough: number;
  /** End of the last sync mark read, if it stated every byte before it synced (else 0). */
  readonly fullMarkEnd: number;
}

interface Pending {
  type: number;
  offset: number;
  length: number;
  seq: number;
}

/**
 * Visits the effects of the records in `bytes[from, end)`, in file order. Stops at the first
 * short or bad record, at a batch commit whose count does not match, or at `end` with a batch
 * still open; the outcome says where the good prefix ends and why it stopped.
 */
export function scanEffects(
  bytes: Uint8Array,
  from: number,
  end: number,
  visit: EffectVisitor,
): ScanOutcome {
  let at = from;
  let lastSeq = 0;
  let effects = 0;
  let pending: Pending[] | undefined;
  let pendingStart = 0;
  let problem = '';
  let syncedThrough = 0;
  let fullMarkEnd = 0;
  while (at < end) {
    const step = scanRecord(bytes, at, end);
    if (step.kind !== 'record') {
      problem = step.kind === 'short' ? 'record cut short' : step.reason;
      break;
    }
    const { header, length } = step;
    if (header.seq > lastSeq) lastSeq = header.seq;
    if (header.type === TYPE_SYNC_MARK) {
      const claim = syncMarkValue(bytes, at);
      if (claim > syncedThrough) syncedThrough = claim;
      fullMarkEnd = claim === at ? at + length : 0;
    } else if (header.flags & FLAG_IN_BATCH) {
      if (!pending) {
        pending = [];
        pendingStart = at;
      }
      pending.push({ type: header.type, offset: at, length, seq: header.seq });
    } else if (header.type === TYPE_BATCH_COMMIT) {
      if (!pending || batchCommitCount(bytes, at) !== pending.length) {
        problem = 'batch commit does not match the records before it';
        break;
      }
      for (const op of pending) effects += emit(visit, op.type, op.offset, op.length, op.seq);
      pending = undefined;
    } else {
      effects += emit(visit, header.type, at, length, header.seq);
    }
    at += length;
  }
  if (pending) {
    return {
      goodEnd: pendingStart,
      problem: problem || 'unfinished batch',
      problemAt: problem ? at : pendingStart,
      lastSeq,
      effects,
      syncedThrough,
      fullMarkEnd: 0,
    };
  }
  return { goodEnd: at, problem, problemAt: at, lastSeq, effects, syncedThrough, fullMarkEnd };
}

/** A byte range of a segment that holds no valid record: `[from, to)`. */
export interface DamagedRange {
  readonly from: number;
  readonly to: number;
}

/** What lies past a scan's stop: damaged ranges, and the valid records between and after them. */
export interface DamageSurvey {
  /** The damaged ranges, in file order; the last may run to the end of the image. */
  readonly ranges: readonly DamagedRange[];
  /** Valid records found after the first damaged byte. */
  readonly recordsAfter: number;
  /** Highest sequence number among them (0 if none). */
  readonly lastSeq: number;
  /** The largest synced byte count a sync mark among them states (0 if none). */
  readonly syncedThrough: number;
}

/**
 * Surveys `bytes[from, end)`, where `from` is the first byte a scan could not read as a record:
 * finds where valid records resume (findNextRecord), walks them, and repeats past each further
 * damaged stretch. Batch structure is ignored: this counts records, it applies nothing.
 */
export function surveyDamage(bytes: Uint8Array, from: number, end: number): DamageSurvey {
  const ranges: DamagedRange[] = [];
  let recordsAfter = 0;
  let lastSeq = 0;
  let syncedThrough = 0;
  walkIntactRecords(
    bytes,
    from,
    end,
    (type, offset, _length, seq) => {
      recordsAfter++;
      if (seq > lastSeq) lastSeq = seq;
      if (type === TYPE_SYNC_MARK)
        syncedThrough = Math.max(syncedThrough, syncMarkValue(bytes, offset));
    },
    (range) => ranges.push(range),
  );
  return { ranges, recordsAfter, lastSeq, syncedThrough };
}

/** Visits one intact record: its type, offset, length and sequence number. */
export type RecordVisitor = (type: number, offset: number, length: number, seq: number) => void;

/**
 * Visits every whole, valid record of `bytes[from, end)` in file order, whatever its batch,
 * and reports each stretch that holds none (`onDamage`): after a bad or short record it
 * resumes at the next offset where a valid record starts. For segments whose batches all
 * committed (sealed ones) and for surveying damage; it applies no batch rule.
 */
export function walkIntactRecords(
  bytes: Uint8Array,
  from: number,
  end: number,
  visit: RecordVisitor,
  onDamage: (range: DamagedRange) => void,
): void {
  let at = from;
  while (at < end) {
    const step = scanRecord(bytes, at, end);
    if (step.kind === 'record') {
      visit(step.header.type, at, step.length, step.header.seq);
      at += step.length;
      continue;
    }
    const next = findNextRecord(bytes, at + 1, end);
    const to = next < 0 ? end : next;
    onDamage({ from: at, to });
    at = to;
  }
}

/**
 * Visits the effects of a sealed segment's records `bytes[SEGMENT_HEADER_BYTES, end)`, which
 * must all be whole and valid: anything else throws `KV_CORRUPTION` naming `name` and the offset.
 */
export function scanSealedSegment(
  bytes: Uint8Array,
  end: number,
  name: string,
  visit: EffectVisitor,
): ScanOutcome {
  const outcome = scanEffects(bytes, SEGMENT_HEADER_BYTES, end, visit);
  if (outcome.goodEnd !== end) throw damageError(bytes, end, name, outcome);
  return outcome;
}

/**
 * The `KV_CORRUPTION` error for a scan of `name` that stopped before `end`: names the file,
 * the offset and the reason, and counts the valid records that follow the damage.
 */
export function damageError(
  bytes: Uint8Array,
  end: number,
  name: string,
  outcome: ScanOutcome,
  why = '',
): KvError {
  const after = surveyDamage(bytes, outcome.problemAt, end).recordsAfter;
  return new KvError(
    'KV_CORRUPTION',
    `${name} at offset ${outcome.problemAt}: ${outcome.problem}${why}; ${after} valid record${after === 1 ? '' : 's'} follow${after === 1 ? 's' : ''} (kvd repair salvages them)`,
  );
}

function emit(visit: EffectVisitor, type: number, offset: number, length: number, seq: number) {
  if (type === TYPE_PUT || type === TYPE_DELETE) {
    visit(type, offset, length, seq);
    return 1;
  }
  return 0;
}

/** Whether every byte of `bytes` from `from` on is zero (preallocated space, or a zeroed tail). */
export function isAllZero(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Longest key a damage report names (a longer "key length" in a damaged header is noise). */
const MAX_REPORTED_KEY_BYTES = 1024;

/**
 * The key named by the (damaged, unverified) record header at `from`, if the header looks
 * plausible and the key lies within `[from, to)`: UTF-8 text, or `0x…` hex if it is not valid
 * UTF-8. For damage reports only: the bytes may themselves be damaged.
 */
export function damagedRecordKey(bytes: Uint8Array, from: number, to: number): string | undefined {
  if (to - from < RECORD_HEADER_BYTES || !isRecordType(bytes[from + 4]!)) return undefined;
  const keyLength = recordKeyLength(bytes, from);
  const start = from + RECORD_HEADER_BYTES;
  if (keyLength === 0 || keyLength > MAX_REPORTED_KEY_BYTES || start + keyLength > to) {
    return undefined;
  }
  return reportedKeyText(bytes.subarray(start, start + keyLength));
}

/** A key as damage reports name it: UTF-8 text, or `0x…` hex if it is not valid UTF-8. */
export function reportedKeyText(key: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(key);
  } catch {
    return `0x${Buffer.from(key).toString('hex')}`;
  }
}
