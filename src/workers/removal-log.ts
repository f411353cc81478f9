// Owns remembering, for recently removed keys, the sequence number of the record each removal
// took out of the index (a delete, an expiry, a clear, a merge dropping an expired record), so
// a version check can tell "absent since sequence S" from "absent now": a key written after S
// and removed again fails it, as Redis's WATCH fails for a key created and deleted meanwhile.
// Keys are remembered by their 32-bit index tag (a collision only makes a check fail that could
// have passed), at most MAX_REMEMBERED of them; forgetting the oldest raises a floor that every
// older `since` fails against. Writer only.

/** Removals remembered before the oldest are forgotten (~4 MiB of Map entries at most). */
export const MAX_REMEMBERED = 65_536;

/** Recent removals by key tag. Writer thread only. */
export class RemovalLog {
  private readonly removed = new Map<number, number>();
  /** Every forgotten removal took out a record with a sequence number at most this. */
  private floor = 0;

  constructor(private readonly capacity = MAX_REMEMBERED) {}

  /** Notes that the key with `tag` lost its record of sequence number `seq`. */
  record(tag: number, seq: number): void {
    const known = this.removed.get(tag);
    if (known !== undefined) {
      this.removed.delete(tag); // re-inserted below, so insertion order stays oldest-first
      if (known > seq) seq = known;
    }
    this.removed.set(tag, seq);
    if (this.removed.size > this.capacity) {
      const [oldestTag, oldestSeq] = this.removed.entries().next().value as [number, number];
      this.removed.delete(oldestTag);
      if (oldestSeq > this.floor) this.floor = oldestSeq;
    }
  }

  /**
   * Whether the key with `tag` may have had a record written after sequence number `since`
   * that is gone now (true also when that can no longer be ruled out).
   */
  removedAfter(tag: number, since: number): boolean {
    if (this.floor > since) return true;
    const seq = this.removed.get(tag);
    return seq !== undefined && seq > since;
  }
}
