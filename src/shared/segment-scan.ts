// Owns walking the records of a segment image in file order and turning them into effects:
// a put or a tombstone that took effect, with batch records held back until their commit
// record is read (FORMAT.md, "Atomic batches"). Recovery, hint-file writing and compaction all
// read segments through this one loop, so they agree on what a segment holds.

import { KvError } from './errors.js';
import {
  batchCommitCount,
  FLAG_IN_BATCH,
  SEGMENT_HEADER_BYTES,
  scanRecord,
  TYPE_BATCH_COMMIT,
  TYPE_DELETE,
  TYPE_PUT,
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
  while (at < end) {
    const step = scanRecord(bytes, at, end);
    if (step.kind !== 'record') {
      problem = step.kind === 'short' ? 'record cut short' : step.reason;
      break;
    }
    const { header, length } = step;
    if (header.seq > lastSeq) lastSeq = header.seq;
    if (header.flags & FLAG_IN_BATCH) {
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
    };
  }
  return { goodEnd: at, problem, problemAt: at, lastSeq, effects };
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
  if (outcome.goodEnd !== end) {
    throw new KvError(
      'KV_CORRUPTION',
      `${name} at offset ${outcome.problemAt}: ${outcome.problem}`,
    );
  }
  return outcome;
}

function emit(visit: EffectVisitor, type: number, offset: number, length: number, seq: number) {
  if (type === TYPE_PUT || type === TYPE_DELETE) {
    visit(type, offset, length, seq);
    return 1;
  }
  return 0;
}
