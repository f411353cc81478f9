// Owns the caller-side half of group commit: every write issued in one turn of the event loop
// (not just one tick: a server's connections each get their own I/O callback) is laid out as
// records (seq and CRC left to the writer) in one buffer, sent to the writer as one message
// (or one per `EAGER_FLUSH_RECORDS` records, for a turn with many), and each caller's promise
// settled from that message's per-record outcomes.

import { Buffer } from 'node:buffer';
import { deserializeError, KvError } from '../shared/errors.js';
import {
  encodeBatchCommitValue,
  FLAG_IN_BATCH,
  type RecordType,
  recordBytes,
  recordKeyStart,
  recordValueStart,
  TYPE_BATCH_COMMIT,
  type TYPE_DELETE,
  TYPE_PUT,
  writeRecordHeader,
} from '../shared/format.js';
import { byteLength, type KeyInput } from '../shared/key-bytes.js';
import { WRITE_FAILED, WRITE_OK_EXISTED, type WriteReply } from '../shared/messages.js';
import {
  CHECK_ABSENT_SINCE,
  CHECK_ALONE,
  OP_APPEND,
  OP_CHECK,
  OP_EXPIRE,
  OP_INCRBY,
  OP_SET,
  type OpResult,
  type OpType,
} from '../shared/write-ops.js';
import { type OpTarget, QueuedWrite, WriteOutcome } from './call-targets.js';
import { KeyArena } from './key-arena.js';
import type { KeyMemtable } from './key-memtable.js';

/**
 * Record and operation types that can leave a put record for their key (a range candidate),
 * as 1 at the type's index: a table, since a `Set` lookup on every write cost ~1% of the
 * caller's thread under 'always' writes.
 */
const PUTS_A_RECORD = new Uint8Array(256);
for (const type of [TYPE_PUT, OP_INCRBY, OP_APPEND, OP_SET, OP_EXPIRE]) PUTS_A_RECORD[type] = 1;

/** Where a write queue reports the keys its writes may put records for (range scans). */
export interface WrittenKeys {
  readonly memtable: KeyMemtable;
  /** The writer's active segment id now (IndexTable.activeSegmentId). */
  activeSegmentId(): number;
}

/** One write of the API, encoded: its key, value bytes and expiry are already validated. */
export interface EncodedOp {
  readonly type: typeof TYPE_PUT | typeof TYPE_DELETE;
  readonly key: KeyInput;
  readonly value: KeyInput;
  readonly expiresAt: number;
}

/**
 * Where a queued write's outcome goes: a caller's promise, or a daemon request that takes it
 * itself (`Store.setFor`, no promise per SET). Exactly one of the two methods is called, once.
 */
export interface WriteTarget {
  /** Written; `existed`: the key was live before. */
  writeDone(existed: boolean): void;
  /** Refused or failed; nothing of it was written. */
  writeFailed(error: unknown): void;
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
/**
 * The smallest and largest buffer a turn's records start in (it grows by doubling past that).
 * Each flush transfers its buffer to the writer, so the next one is new memory: it is sized
 * for the last turn's records, not kept large, because a big buffer costs its zeroing and, in
 * `kvd serve` (glibc maps big blocks on their own: serve-command.ts), an mmap, a page fault per
 * 4 KiB and an munmap per turn (bench/ANALYSIS.md, "The daemon against redis-server").
 */
const MIN_BUFFER_BYTES = 4 * 1024;
const MAX_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * A turn's buffer is sent as soon as it holds this many records, not only at the turn's end,
 * so the writer appends the first ones while this thread lays out the rest (an atomic batch is
 * never split). The writer still appends every message that arrives before its next turn as
 * one group. Measured in alternating local runs: +15% (median) under redis-benchmark SET −P16,
 * 800 SETs a turn (where 64, 128 and 512 ran below or level with 256); +25–53% for the
 * bench's `load`, 1,024 writes a tick (bench/ANALYSIS.md, "Writes, like with like").
 */
export const EAGER_FLUSH_RECORDS = 256;

/**
 * A key and the version it must still have (undefined: the key must still be absent); or, with
 * `since`, a key that must be absent and have had no value after sequence number `since`.
 */
export interface VersionCheck {
  readonly key: KeyInput;
  readonly version: number | undefined;
  readonly since?: number;
}

/** OP_CHECK's argument: a version or sequence number as a little-endian u64, or nothing. */
function u64Bytes(version: number | undefined): Uint8Array {
  if (version === undefined) return EMPTY;
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, version >>> 0, true);
  v.setUint32(4, Math.floor(version / 0x1_0000_0000), true);
  return b;
}

/** Sends one buffer of records to the writer and answers with its reply. */
export type SendToWriter = (records: ArrayBuffer, length: number) => Promise<WriteReply>;

/**
 * Lays out one event-loop turn's writes in one buffer and sends it to the writer as one message
 * (flushed from setImmediate, after the turn's I/O callbacks, or as soon as it holds
 * `EAGER_FLUSH_RECORDS` records).
 * Caller's thread only; each write's promise rejects with the writer's `KvError`.
 */
export class WriteQueue {
  private buffer = uninitializedBytes(MIN_BUFFER_BYTES);
  private used = 0;
  private records = 0;
  private waiters: QueuedWrite[] = [];
  private scheduled = false;
  private inFlight = new Set<Promise<void>>();
  /** Writes queued or sent and not yet answered (for `depth`). */
  private unanswered = 0;
  /** Keys of this turn's writes that may put a record for them, for range scans (reused). */
  private readonly putKeys = new KeyArena();

  /** `keys`: where the keys of puts go for range scans (KeyMemtable), if anywhere. */
  constructor(
    private readonly send: SendToWriter,
    private readonly keys?: WrittenKeys,
  ) {}

  /** Queues one put or delete; resolves with whether the key was live before. */
  enqueue(op: EncodedOp): Promise<boolean> {
    return this.add(() => this.encode(op.type, 0, op.key, op.value, op.expiresAt), 1);
  }

  /**
   * Queues one put whose key, value and expiry are already checked (`Store.set`'s path: no
   * operation object); its outcome goes to `target`.
   */
  enqueuePutFor(target: WriteTarget, key: KeyInput, value: KeyInput, expiresAt: number): void {
    const firstRecord = this.records;
    this.encode(TYPE_PUT, 0, key, value, expiresAt);
    this.queued(firstRecord, 1, target);
  }

  /**
   * Queues an atomic batch: its records, then a commit record naming their count. With
   * `checks`, each key's version check (OP_CHECK) goes first: the writer applies the batch only
   * if every key still has its version (undefined: still absent), else the promise rejects with
   * `KV_CONFLICT` and nothing is written.
   */
  enqueueBatch(ops: readonly EncodedOp[], checks: readonly VersionCheck[] = []): Promise<boolean> {
    return this.add(
      () => {
        for (const c of checks) this.encodeCheck(c, 0);
        for (const op of ops) this.encode(op.type, FLAG_IN_BATCH, op.key, op.value, op.expiresAt);
        this.encode(TYPE_BATCH_COMMIT, 0, EMPTY, encodeBatchCommitValue(ops.length), 0);
      },
      checks.length + ops.length + 1,
    );
  }

  /**
   * Queues version checks that guard no write (`Store.batch` with no operations), one after
   * another, so the writer applies them with nothing in between; resolves if every one holds,
   * else rejects with the first failure's `KV_CONFLICT`.
   */
  async enqueueChecks(checks: readonly VersionCheck[]): Promise<void> {
    await Promise.all(
      checks.map(
        (c) =>
          new Promise<void>((resolve, reject) => {
            this.push(
              () => this.encodeCheck(c, CHECK_ALONE),
              1,
              new WriteOutcome((_existed, result) => {
                if (result?.error) reject(deserializeError(result.error));
                else resolve();
              }, reject),
            );
          }),
      ),
    );
  }

  /** Lays out one OP_CHECK (with `flags` added). */
  private encodeCheck(c: VersionCheck, flags: number): void {
    if (c.since === undefined) this.encode(OP_CHECK, flags, c.key, u64Bytes(c.version), 0);
    else this.encode(OP_CHECK, flags | CHECK_ABSENT_SINCE, c.key, u64Bytes(c.since), 0);
  }

  /**
   * Writes queued or sent to the writer and not yet answered (an API call each: a batch counts
   * once), and messages sent and not yet answered.
   */
  depth(): { readonly writes: number; readonly messages: number } {
    return { writes: this.unanswered, messages: this.inFlight.size };
  }

  /** Sends whatever is queued now and waits until every write sent so far is answered. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /**
   * Queues one read-modify-write operation (write-ops.ts); resolves with its result, or rejects
   * with the `KvError` that refused it (nothing changed then).
   */
  enqueueOperation(
    type: OpType,
    flags: number,
    key: KeyInput,
    argument: KeyInput,
    expiresAt: number,
  ): Promise<OpResult> {
    return new Promise<OpResult>((resolve, reject) => {
      this.push(
        () => this.encode(type, flags, key, argument, expiresAt),
        1,
        new WriteOutcome((_existed, result) => {
          if (!result)
            reject(new KvError('KV_INTERNAL', 'the writer gave no result for an operation'));
          else if (result.error) reject(deserializeError(result.error));
          else resolve(result);
        }, reject),
      );
    });
  }

  private add(encode: () => void, records: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.push(encode, records, new WriteOutcome(resolve, reject));
    });
  }

  private push(encode: () => void, records: number, target: OpTarget): void {
    const firstRecord = this.records;
    encode();
    this.queued(firstRecord, records, target);
  }

  /** Records `records` records just encoded from `firstRecord` on, and where their outcome goes. */
  private queued(firstRecord: number, records: number, target: OpTarget): void {
    this.records += records;
    this.unanswered++;
    this.waiters.push(new QueuedWrite(firstRecord, records, target));
    if (this.records >= EAGER_FLUSH_RECORDS) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  private encode(
    type: RecordType | OpType,
    flags: number,
    key: KeyInput,
    value: KeyInput,
    expiresAt: number,
  ): void {
    const keyLength = byteLength(key);
    const valueLength = byteLength(value);
    const length = recordBytes(keyLength, valueLength);
    this.reserve(length);
    const b = this.buffer;
    const at = this.used;
    writeRecordHeader(b, at, type, flags, expiresAt, keyLength, valueLength);
    copyInto(b, recordKeyStart(at), key, keyLength);
    if (this.keys && PUTS_A_RECORD[type] === 1) this.putKeys.push(b, recordKeyStart(at), keyLength);
    copyInto(b, recordValueStart(at, keyLength), value, valueLength);
    this.used += length;
  }

  private reserve(length: number): void {
    if (this.used + length <= this.buffer.length) return;
    const bigger = uninitializedBytes(Math.max(this.buffer.length * 2, this.used + length));
    bigger.set(this.buffer.subarray(0, this.used));
    this.buffer = bigger;
  }

  /** Sends what is queued now as one message (nothing if nothing is). */
  private flush(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    // The whole buffer is transferred to the writer (no copy); it reads the first `used` bytes.
    const records = this.buffer.buffer as ArrayBuffer;
    const length = this.used;
    this.buffer = uninitializedBytes(nextBufferBytes(length));
    this.used = 0;
    this.records = 0;
    this.waiters = [];
    const ticket = this.keys?.memtable.add(this.putKeys);
    this.putKeys.clear();
    const keys = this.keys;
    const done = this.send(records, length).then(
      (reply) => {
        this.unanswered -= waiters.length;
        ticket?.settle(keys!.activeSegmentId());
        settle(waiters, reply);
      },
      (error: unknown) => {
        this.unanswered -= waiters.length;
        ticket?.settle(keys!.activeSegmentId());
        const failure =
          error instanceof KvError
            ? error
            : new KvError('KV_INTERNAL', `writer unreachable: ${String(error)}`);
        for (const w of waiters) w.target.writeFailed(failure);
      },
    );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }
}

/**
 * A new buffer of `bytes` bytes, not zeroed (the writer reads only the bytes a turn laid out;
 * zeroing took 0.9% of the daemon's main thread under SET −P16): a plain Uint8Array over an
 * ArrayBuffer of its own, so it can be transferred.
 */
function uninitializedBytes(bytes: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, bytes);
}

/** The size of the buffer after one that held `used` bytes: room for half as much again, a power of 2. */
function nextBufferBytes(used: number): number {
  let bytes = MIN_BUFFER_BYTES;
  while (bytes < used * 1.5 && bytes < MAX_BUFFER_BYTES) bytes *= 2;
  return bytes;
}

function copyInto(b: Uint8Array, at: number, input: KeyInput, length: number): void {
  if (length === 0) return;
  if (typeof input !== 'string') b.set(input, at);
  else if (length === input.length && length <= 64) {
    // ASCII (byte length equals code units) and short: a plain loop beats a native call.
    for (let i = 0; i < length; i++) b[at + i] = input.charCodeAt(i);
  } else encoder.encodeInto(input, b.subarray(at, at + length));
}

function settle(waiters: readonly QueuedWrite[], reply: WriteReply): void {
  const error = reply.error ? deserializeError(reply.error) : undefined;
  const outcomes = reply.outcomes;
  for (const w of waiters) {
    const outcome = outcomes[w.firstRecord];
    const failed =
      outcome === undefined ||
      outcome === WRITE_FAILED ||
      (w.records > 1 &&
        outcomes.subarray(w.firstRecord, w.firstRecord + w.records).includes(WRITE_FAILED));
    if (failed) {
      // An operation of its own that failed (a version check) says why better than the
      // buffer's first error, which may be another caller's.
      const own = opError(reply, w.firstRecord, w.records);
      w.target.writeFailed(
        own ?? error ?? new KvError('KV_INTERNAL', 'the writer gave no outcome for a write'),
      );
    } else w.target.writeDone(outcome === WRITE_OK_EXISTED, reply.results?.[w.firstRecord]);
  }
}

/** The first operation error among records [first, first + count) of `reply`, if any. */
function opError(reply: WriteReply, first: number, count: number): KvError | undefined {
  if (!reply.results) return undefined;
  for (let r = first; r < first + count; r++) {
    const e = reply.results[r]?.error;
    if (e) return deserializeError(e);
  }
  return undefined;
}
