// Owns how a record's effect reaches the shared index on the writer's side: verify the stored
// key of each candidate slot (fingerprints collide), upsert or remove, and keep the segments'
// live-byte, tombstone and expiry accounting in step. Used by recovery and by the log writer.
// Writer thread only.

import {
  RECORD_HEADER_BYTES,
  recordExpiresAt,
  recordInBatch,
  recordKeyLength,
  recordKeyStart,
  recordLengthAt,
  recordSeq,
  recordType,
  TYPE_DELETE,
  TYPE_PUT,
} from '../shared/format.js';
import type {
  BeforeSlotChange,
  IndexTable,
  KeyCheck,
  SlotLocation,
} from '../shared/index-table.js';
import { KEY_GROUP } from '../shared/key-groups.js';
import { type ReadMode, SegmentFds } from '../shared/segment-fds.js';
import { StoredRecord } from '../shared/stored-record.js';
import { VersionLog } from '../shared/version-log.js';
import { RemovalLog } from './removal-log.js';
import type { SegmentTable } from './segments.js';

/** Bytes of one segment already in memory (recovery's scan buffer, the last write), to skip a pread. */
interface MemoryWindow {
  handle: number;
  base: number;
  bytes: Uint8Array;
}

/**
 * The writer's side of the shared index. Writer thread only. Methods throw `KV_INDEX_FULL`
 * (reserve) or `KV_CORRUPTION`/`KV_IO` when a candidate's stored key cannot be read.
 */
export class IndexPublisher {
  private readonly fds: SegmentFds;
  /** A point entry of a data segment, decoded (storedEntryMatches, noteDropped). */
  private readonly record = new StoredRecord();
  private window: MemoryWindow | undefined;
  // The key being published, set before each index call so `check` needs no closure.
  private keyBytes: Uint8Array = new Uint8Array(0);
  private keyStart = 0;
  private keyLength = 0;
  /** The expiry of the stored record the last successful key check matched. */
  private matchedExpiresAt = 0;
  /** The sequence number of the stored record the last successful key check matched. */
  private matchedSeq = 0;
  /** Removals since open, for version checks' "absent since" (not recovery's: nobody asks). */
  private readonly removals = new RemovalLog();
  /** Whether this publishing step has begun an atomic batch (index batch lock held). */
  private inBatchPublish = false;
  /** Versions displaced while snapshots are held (shared with every thread). */
  readonly versions = VersionLog.create();
  /** Whether this publishing step records what it displaces (snapshots were held at its start). */
  private recordVersions = false;
  /** Whether a publishing step is open (between beginPublish and endPublish). */
  private inRun = false;
  /** Whether removals are remembered: set once recovery is over. */
  trackRemovals = false;
  private readonly check: KeyCheck = (handle, offset, length) =>
    this.storedKeyMatches(handle, offset, length);
  // The write about to displace a version, set by `beforeChange` so no closure is made per write.
  private displacingTag = 0;
  private displacingSeq = 0;
  /** Records the version at `old`, displaced by the write `beforeChange` named (its key checked). */
  private readonly recordDisplaced: BeforeSlotChange = (old) =>
    this.versions.writerRecord(this.displacingTag, {
      ...old,
      seq: this.matchedSeq,
      displacedSeq: this.displacingSeq,
    });

  /** `readMode`: how stored keys are read back for overwrite checks (and by the LogWriter). */
  constructor(
    readonly index: IndexTable,
    private readonly segments: SegmentTable,
    readonly readMode: ReadMode = 'pread',
  ) {
    this.fds = new SegmentFds(segments.dir, index, readMode);
  }

  /** Declares that `bytes` hold segment `handle` from file offset `base` on (or clears it). */
  setWindow(handle: number, base: number, bytes: Uint8Array): void {
    this.window = { handle, base, bytes };
  }

  clearWindow(): void {
    this.window = undefined;
  }

  /** Makes room in the index for `keys` more keys; throws `KV_INDEX_FULL` if it cannot. */
  reserve(keys: number): void {
    this.index.writerReserve(keys);
  }

  /**
   * Points the key `b[keyStart, +keyLength)` at `loc`, a put expiring at `expiresAt` (0 =
   * never); returns whether it replaced a live key.
   */
  put(
    b: Uint8Array,
    keyStart: number,
    keyLength: number,
    loc: SlotLocation,
    expiresAt: number,
    seq = 0,
  ): boolean {
    const tag = this.index.tagOfBytes(b, keyStart, keyStart + keyLength);
    return this.putTagged(tag, b, keyStart, keyLength, loc, expiresAt, seq);
  }

  private putTagged(
    tag: number,
    b: Uint8Array,
    keyStart: number,
    keyLength: number,
    loc: SlotLocation,
    expiresAt: number,
    seq: number,
  ): boolean {
    this.setKey(b, keyStart, keyLength);
    const old = this.index.writerUpsert(tag, this.check, loc, this.beforeChange(tag, seq));
    if (old) this.segments.removeLive(old, this.matchedExpiresAt, keyLength);
    this.segments.addLive(loc, expiresAt, keyLength);
    return old !== undefined;
  }

  /**
   * Publishes the records `b[start, end)` just appended at `at.offset` of segment `at.handle`,
   * in order: each put points its key at its record, each tombstone removes its key (and is
   * accounted as a tombstone), batch commits and sync marks change nothing. Calls `existed`
   * with the record's number in the range when it replaced or removed a live key: one whose
   * expiry had not passed (an expired key no read has deleted yet does not exist, as in Redis,
   * where DEL of it answers 0).
   */
  publishRecords(
    b: Uint8Array,
    start: number,
    end: number,
    at: { readonly handle: number; readonly offset: number },
    existed: (record: number) => void,
  ): void {
    let record = 0;
    let ahead = 0;
    let aheadCount = 0;
    const now = Date.now();
    for (let p = start; p < end; record++) {
      if (ahead === aheadCount) {
        aheadCount = this.hashAhead(b, p, end);
        ahead = 0;
      }
      const tag = this.aheadTags[ahead++]!;
      const length = recordLengthAt(b, p);
      const type = recordType(b, p);
      if (!this.inBatchPublish && recordInBatch(b, p)) {
        // From the first record of an atomic batch until `endPublish`, multi-key reads wait.
        this.index.writerBeginBatchPublish();
        this.inBatchPublish = true;
      }
      const keyLength = recordKeyLength(b, p);
      const keyStart = recordKeyStart(p);
      if (type === TYPE_PUT) {
        const loc = { handle: at.handle, offset: at.offset + (p - start), length };
        const seq = recordSeq(b, p);
        if (this.putTagged(tag, b, keyStart, keyLength, loc, recordExpiresAt(b, p), seq)) {
          if (this.matchedLiveAt(now)) existed(record);
        }
      } else if (type === TYPE_DELETE) {
        if (this.removeTagged(tag, b, keyStart, keyLength, recordSeq(b, p))) {
          if (this.matchedLiveAt(now)) existed(record);
        }
        this.segments.addTombstone(at.handle, length);
      }
      p += length;
    }
  }

  /** Whether the record the last key check matched had not expired at `now`. */
  private matchedLiveAt(now: number): boolean {
    return this.matchedExpiresAt === 0 || this.matchedExpiresAt > now;
  }

  /** The tags `hashAhead` computed, by place in its group. */
  private readonly aheadTags = new Uint32Array(KEY_GROUP);
  /** The warmed slot words XORed together, kept so no compiler drops the loads. */
  private warmed = 0;

  /**
   * Hashes the keys of up to `KEY_GROUP` records from `p` (tags kept by place in the group),
   * then brings their home slots into cache, so that the group's index misses overlap; returns
   * how many records it took.
   */
  private hashAhead(b: Uint8Array, p: number, end: number): number {
    const tags = this.aheadTags;
    const index = this.index;
    let n = 0;
    for (let q = p; n < KEY_GROUP && q < end; n++) {
      const keyStart = recordKeyStart(q);
      tags[n] = index.tagOfBytes(b, keyStart, keyStart + recordKeyLength(b, q));
      q += recordLengthAt(b, q);
    }
    let warmed = this.warmed;
    for (let i = 0; i < n; i++) warmed ^= index.warmHomeSlot(tags[i]!);
    this.warmed = warmed;
    return n;
  }

  /**
   * Ends a publishing step (writer, after each append's `publishRecords` calls, also when one
   * threw): if it held an atomic batch, multi-key reads may go on.
   */
  endPublish(): void {
    if (this.inRun) {
      this.inRun = false;
      this.versions.writerEndRun();
    }
    if (!this.inBatchPublish) return;
    this.inBatchPublish = false;
    this.index.writerEndBatchPublish();
  }

  /**
   * Begins a publishing step (writer, before each append's `publishRecords` calls; pair with
   * `endPublish`): from here, what it displaces is recorded if snapshots are held.
   */
  beginPublish(): void {
    this.inRun = true;
    this.recordVersions = this.versions.writerBeginRun();
  }

  /**
   * What must hear the version a write of the key with `tag` (the record with `seq`) is about
   * to displace: `recordDisplaced` while snapshots are held, else nothing. The slot changes only
   * after the version is in the log, so a snapshot read that finds the slot changed always
   * finds the version it needs there (ARCHITECTURE.md, "Snapshots").
   */
  private beforeChange(tag: number, seq: number): BeforeSlotChange | undefined {
    if (!this.recordVersions) return undefined;
    this.displacingTag = tag;
    this.displacingSeq = seq;
    return this.recordDisplaced;
  }

  /** Removes the key `b[keyStart, +keyLength)`; returns whether it was live. */
  remove(b: Uint8Array, keyStart: number, keyLength: number, seq = 0): boolean {
    return this.removeTagged(
      this.index.tagOfBytes(b, keyStart, keyStart + keyLength),
      b,
      keyStart,
      keyLength,
      seq,
    );
  }

  private removeTagged(
    tag: number,
    b: Uint8Array,
    keyStart: number,
    keyLength: number,
    seq: number,
  ): boolean {
    this.setKey(b, keyStart, keyLength);
    const old = this.index.writerRemove(tag, this.check, this.beforeChange(tag, seq));
    if (!old) return false;
    this.segments.removeLive(old, this.matchedExpiresAt, keyLength);
    if (this.trackRemovals) this.removals.record(tag, this.matchedSeq);
    return true;
  }

  /** Notes that a merge dropped the (expired) record at `from` of the key with `tag`. */
  noteDropped(tag: number, from: SlotLocation): void {
    const snapshots = this.versions.held > 0;
    if (!this.trackRemovals && !snapshots) return;
    const sorted = this.index.segments.isSorted(from.handle);
    const bytes = this.fds.view(
      from.handle,
      from.offset,
      sorted ? from.length : RECORD_HEADER_BYTES,
    );
    const seq = sorted
      ? this.record.decode(bytes, this.fds.viewAt, from.length, true)
        ? this.record.seq
        : 0
      : recordSeq(bytes, this.fds.viewAt);
    if (this.trackRemovals) this.removals.record(tag, seq);
    // A merge drops only records expired when it was planned; a snapshot taken before may
    // still need the version (it reads expiry as of its own creation).
    if (snapshots) {
      this.versions.writerRecord(tag, { ...from, seq, displacedSeq: this.index.publishedSeq + 1 });
    }
  }

  /**
   * Whether `key` may have had a record written after sequence number `since` that a removal
   * took out of the index since (RemovalLog.removedAfter).
   */
  removedAfter(key: Uint8Array, since: number): boolean {
    return this.removals.removedAfter(this.index.tagOfBytes(key, 0, key.length), since);
  }

  /** Closes the fds of retired segments. */
  sweep(): void {
    this.fds.sweep();
  }

  /** Closes the fds this publisher opened. */
  close(): void {
    this.fds.closeAll();
  }

  private setKey(b: Uint8Array, start: number, length: number): void {
    this.keyBytes = b;
    this.keyStart = start;
    this.keyLength = length;
  }

  private storedKeyMatches(handle: number, offset: number, length: number): boolean {
    if (this.index.segments.isSorted(handle))
      return this.storedEntryMatches(handle, offset, length);
    const need = RECORD_HEADER_BYTES + this.keyLength;
    if (length < need) return false;
    let src: Uint8Array;
    let at: number;
    const w = this.window;
    if (w && w.handle === handle && offset >= w.base && offset + need <= w.base + w.bytes.length) {
      src = w.bytes;
      at = offset - w.base;
    } else {
      src = this.fds.view(handle, offset, need);
      at = this.fds.viewAt;
    }
    if (recordKeyLength(src, at) !== this.keyLength) return false;
    const k = this.keyBytes;
    const ks = this.keyStart;
    for (let i = 0; i < this.keyLength; i++) {
      if (src[recordKeyStart(at) + i] !== k[ks + i]) return false;
    }
    this.matchedExpiresAt = recordExpiresAt(src, at);
    this.matchedSeq = recordSeq(src, at);
    return true;
  }

  /** `storedKeyMatches` for a point entry of a data segment (read whole: its fields are varints). */
  private storedEntryMatches(handle: number, offset: number, length: number): boolean {
    const src = this.fds.view(handle, offset, length);
    const r = this.record;
    if (!r.decode(src, this.fds.viewAt, length, true) || r.keyLength !== this.keyLength) {
      return false;
    }
    const k = this.keyBytes;
    const ks = this.keyStart;
    for (let i = 0; i < this.keyLength; i++) if (src[r.keyStart + i] !== k[ks + i]) return false;
    this.matchedExpiresAt = r.expiresAt;
    this.matchedSeq = r.seq;
    return true;
  }
}
