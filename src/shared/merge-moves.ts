// The one definition of a merge's move list: what the compaction worker hands the writer to
// install (MergeResult.moves), one fixed-size entry per record it copied or dropped, packed in
// a Uint32Array so that it crosses threads as one transferable buffer. Build and read here;
// nobody else indexes its words.

/**
 * Words per move: tag, from handle, from offset, to offset, length, key length, the record's
 * expiry (ms since the epoch, 0 = none) as low and high u32, and its length in the output.
 */
const MOVE_WORDS = 9;
const W_TAG = 0;
const W_FROM_HANDLE = 1;
const W_FROM_OFFSET = 2;
const W_TO = 3;
const W_LENGTH = 4;
const W_KEY_LENGTH = 5;
const W_EXPIRES_LOW = 6;
const W_EXPIRES_HIGH = 7;
const W_TO_LENGTH = 8;
/** `to` of a move that drops the record (an expired one): the key is removed. */
const TO_DROP = 0xffff_ffff;

/** One move: the record of key `tag` at (fromHandle, fromOffset) now lives at `to`, or is dropped. */
export interface MergeMove {
  readonly tag: number;
  readonly fromHandle: number;
  readonly fromOffset: number;
  /** Offset in the merged segment, or undefined when the merge dropped the record. */
  readonly to: number | undefined;
  /** The record's total length where it was. */
  readonly length: number;
  /** Its length in the output (a point entry is shorter than the log record); 0 for a drop. */
  readonly toLength: number;
  readonly keyLength: number;
  /** The record's expiry (ms since the epoch), 0 = none. */
  readonly expiresAt: number;
}

/** Collects moves in merge order. */
export class MoveListBuilder {
  private words = new Uint32Array(MOVE_WORDS * 1024);
  private count = 0;

  /** Adds a move (`move.to` undefined: a drop). */
  add(move: MergeMove): void {
    if ((this.count + 1) * MOVE_WORDS > this.words.length) {
      const grown = new Uint32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    const w = this.words;
    const at = this.count * MOVE_WORDS;
    w[at + W_TAG] = move.tag;
    w[at + W_FROM_HANDLE] = move.fromHandle;
    w[at + W_FROM_OFFSET] = move.fromOffset;
    w[at + W_TO] = move.to ?? TO_DROP;
    w[at + W_LENGTH] = move.length;
    w[at + W_KEY_LENGTH] = move.keyLength;
    w[at + W_EXPIRES_LOW] = move.expiresAt >>> 0;
    w[at + W_EXPIRES_HIGH] = Math.floor(move.expiresAt / 0x1_0000_0000);
    w[at + W_TO_LENGTH] = move.toLength;
    this.count++;
  }

  /** The packed list (a fresh, exactly sized buffer). */
  finish(): Uint32Array {
    return this.words.slice(0, this.count * MOVE_WORDS);
  }
}

/** Number of moves in a packed list. */
export function moveCount(moves: Uint32Array): number {
  return moves.length / MOVE_WORDS;
}

/** Move `i` of a packed list. */
export function moveAt(moves: Uint32Array, i: number): MergeMove {
  const at = i * MOVE_WORDS;
  const to = moves[at + W_TO]!;
  return {
    tag: moves[at + W_TAG]!,
    fromHandle: moves[at + W_FROM_HANDLE]!,
    fromOffset: moves[at + W_FROM_OFFSET]!,
    to: to === TO_DROP ? undefined : to,
    length: moves[at + W_LENGTH]!,
    keyLength: moves[at + W_KEY_LENGTH]!,
    expiresAt: moves[at + W_EXPIRES_HIGH]! * 0x1_0000_0000 + moves[at + W_EXPIRES_LOW]!,
    toLength: moves[at + W_TO_LENGTH]!,
  };
}
