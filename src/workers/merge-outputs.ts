// Owns the order of a merge's output: the records the first pass chose (live puts, tombstones
// that may still hide an older value, and expired puts standing in as such tombstones),
// remembered compactly as columns with their keys copied into one arena, then handed back in
// key order with one record per key (the data segment holds each key once): the live put if
// the key has one, else its newest tombstone. Also re-reads a chosen record from its input,
// its checksum checked again. Compaction worker only.

import { join } from 'node:path';
import { ByteBuilder } from '../shared/byte-builder.js';
import { KvError } from '../shared/errors.js';
import { dataFileName, KIND_LOG, KIND_SORTED } from '../shared/format.js';
import { compareKeyRanges } from '../shared/key-order.js';
import { grown, sortKeyOrder } from '../shared/key-sort.js';
import { StoredRecord } from '../shared/stored-record.js';
import { type FileSystem, readAll } from './file-system.js';

/** A live put, copied with its value. */
export const OUTPUT_PUT = 0;
/** A tombstone that may still hide an older value. */
export const OUTPUT_DELETE = 1;
/** An expired put that may hide an older value: written as a tombstone without its value. */
export const OUTPUT_EXPIRED = 2;

/** What one output record is: its kind, and where its source record lies. */
export interface MergeOutput {
  readonly kind: typeof OUTPUT_PUT | typeof OUTPUT_DELETE | typeof OUTPUT_EXPIRED;
  /** The input's number in the plan. */
  readonly input: number;
  /** The source record's offset and length in that input. */
  readonly offset: number;
  readonly length: number;
  /** The sequence number it keeps. */
  readonly seq: number;
  /** Its expiry (ms since the epoch; 0 = none, and always 0 for a tombstone). */
  readonly expiresAt: number;
  /** Where its key lies in the arena (`MergeOutputs.keyOf`). */
  readonly keyStart: number;
  readonly keyLength: number;
}

/** The records a merge writes, collected in replay order and handed back in key order. */
export class MergeOutputs {
  private count = 0;
  private kinds = new Uint8Array(1024);
  private inputs = new Uint32Array(1024);
  private offsets = new Uint32Array(1024);
  private lengths = new Uint32Array(1024);
  private seqs = new Float64Array(1024);
  private expiries = new Float64Array(1024);
  private keyStarts = new Float64Array(1024);
  private keyLengths = new Uint32Array(1024);
  private readonly keys = new ByteBuilder(64 * 1024);
  private input = 0;

  /** Records added from now on come from input `input` (its number in the plan). */
  beginInput(input: number): void {
    this.input = input;
  }

  /** Adds the record at `offset` (`length` bytes) whose key is `bytes[keyStart, +keyLength)`. */
  add(
    kind: MergeOutput['kind'],
    bytes: Uint8Array,
    keyStart: number,
    keyLength: number,
    offset: number,
    length: number,
    seq: number,
    expiresAt: number,
  ): void {
    if (this.count === this.kinds.length) this.grow();
    const i = this.count++;
    this.kinds[i] = kind;
    this.inputs[i] = this.input;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.seqs[i] = seq;
    this.expiries[i] = kind === OUTPUT_PUT ? expiresAt : 0;
    this.keyStarts[i] = this.keys.length;
    this.keyLengths[i] = keyLength;
    this.keys.bytes(bytes, keyStart, keyStart + keyLength);
  }

  /** Records added. */
  get size(): number {
    return this.count;
  }

  /**
   * One record per key, in key order: a key's live put if it has one (the index points at one
   * record per key, and any tombstone of the key in the inputs is older), else the tombstone
   * found last (replay order: the newest).
   */
  *sorted(): Generator<MergeOutput, void, undefined> {
    const order = this.keyOrder();
    const arena = this.keys.view();
    const n = order.length;
    let i = 0;
    while (i < n) {
      let j = i + 1;
      while (j < n && this.sameKey(arena, order[i]!, order[j]!)) j++;
      let pick = order[j - 1]!;
      for (let k = i; k < j; k++) if (this.kinds[order[k]!] === OUTPUT_PUT) pick = order[k]!;
      yield this.at(pick);
      i = j;
    }
  }

  /** The bytes every key lies in (`MergeOutput.keyStart`): valid while this object lives. */
  keyArena(): Uint8Array {
    return this.keys.view();
  }

  /** The key of `output` (a view of the arena: valid while this object lives). */
  keyOf(output: MergeOutput): Uint8Array {
    return this.keys.view().subarray(output.keyStart, output.keyStart + output.keyLength);
  }

  /** Record numbers sorted by key; one key's records in the order they were added. */
  private keyOrder(): Uint32Array {
    return sortKeyOrder(
      { bytes: this.keys.view(), starts: this.keyStarts, lengths: this.keyLengths },
      this.count,
    );
  }

  private sameKey(arena: Uint8Array, a: number, b: number): boolean {
    const length = this.keyLengths[a]!;
    if (length !== this.keyLengths[b]) return false;
    const aStart = this.keyStarts[a]!;
    const bStart = this.keyStarts[b]!;
    return compareKeyRanges(arena, aStart, aStart + length, arena, bStart, bStart + length) === 0;
  }

  private at(i: number): MergeOutput {
    return {
      kind: this.kinds[i]! as MergeOutput['kind'],
      input: this.inputs[i]!,
      offset: this.offsets[i]!,
      length: this.lengths[i]!,
      seq: this.seqs[i]!,
      expiresAt: this.expiries[i]!,
      keyStart: this.keyStarts[i]!,
      keyLength: this.keyLengths[i]!,
    };
  }

  private grow(): void {
    const n = this.kinds.length * 2;
    this.kinds = grown(this.kinds, new Uint8Array(n));
    this.inputs = grown(this.inputs, new Uint32Array(n));
    this.offsets = grown(this.offsets, new Uint32Array(n));
    this.lengths = grown(this.lengths, new Uint32Array(n));
    this.seqs = grown(this.seqs, new Float64Array(n));
    this.expiries = grown(this.expiries, new Float64Array(n));
    this.keyStarts = grown(this.keyStarts, new Float64Array(n));
    this.keyLengths = grown(this.keyLengths, new Uint32Array(n));
  }
}

/** One merge input, open for re-reading its chosen records. */
export interface FetchInput {
  readonly id: number;
  readonly sorted: boolean;
}

/**
 * Re-reads chosen records from the merge's inputs, checking each one's checksum again: the
 * first pass found it good, and the file must not have changed. Each input is read through a
 * map of the whole file where the file layer offers maps (sealed inputs never change), else by
 * pread into one scratch buffer: the records come back in key order, scattered over the inputs,
 * and a pread each took 40% more merge time than the log-segment merge before data segments.
 */
export class RecordFetcher {
  private scratch = new Uint8Array(64 * 1024);
  private readonly fds: number[] = [];
  /** Each input's map, once opened (undefined: read by pread). */
  private readonly views: (Uint8Array | undefined)[] = [];
  private readonly maps: ArrayBuffer[] = [];
  /** The record fetched last, decoded (offsets into `fetch`'s result). */
  readonly record = new StoredRecord();

  constructor(
    private readonly files: FileSystem,
    private readonly dir: string,
    private readonly inputs: readonly FetchInput[],
    /** Whether maps may be used (else every read is a pread). */
    private readonly mapInputs = true,
  ) {}

  /**
   * The record at `offset` (`length` bytes) of input number `input`: a view of the input's map
   * or of the scratch buffer, valid until the next fetch, decoded into `record`. Throws
   * `KV_CORRUPTION` if its bytes now fail their checksum, `KV_IO` if the file ends early.
   */
  fetch(input: number, offset: number, length: number): Uint8Array {
    const { id, sorted } = this.inputs[input]!;
    const file = dataFileName(id, sorted ? KIND_SORTED : KIND_LOG);
    let fd = this.fds[input];
    if (fd === undefined) {
      fd = this.files.open(join(this.dir, file), 'r');
      this.fds[input] = fd;
      this.views[input] = this.mapWhole(fd);
    }
    const view = this.views[input];
    const bytes = view
      ? this.fromMap(view, file, offset, length)
      : this.read(fd, file, offset, length);
    if (
      !StoredRecord.checksumOk(bytes, 0, length, sorted) ||
      !this.record.decode(bytes, 0, length, sorted)
    ) {
      throw new KvError(
        'KV_CORRUPTION',
        `checksum mismatch in ${file} at offset ${offset} when a merge read it again`,
        { file, offset },
      );
    }
    return bytes;
  }

  /** A map of the whole file open as `fd`, or undefined (no maps, an empty file, or a failure). */
  private mapWhole(fd: number): Uint8Array | undefined {
    if (!this.mapInputs || !this.files.map) return undefined;
    const size = this.files.size(fd);
    if (size === 0) return undefined;
    let map: ArrayBuffer | undefined;
    try {
      map = this.files.map(fd, size);
    } catch {
      return undefined; // pread still works
    }
    if (map === undefined) return undefined;
    this.maps.push(map);
    return new Uint8Array(map, 0, size);
  }

  private fromMap(view: Uint8Array, file: string, offset: number, length: number): Uint8Array {
    if (offset + length > view.length) {
      throw new KvError('KV_IO', `${file} ended at ${view.length} while a merge re-read it`);
    }
    return view.subarray(offset, offset + length);
  }

  private read(fd: number, file: string, offset: number, length: number): Uint8Array {
    if (length > this.scratch.length) this.scratch = new Uint8Array(length);
    const bytes = this.scratch.subarray(0, length);
    const got = readAll(this.files, fd, bytes, offset);
    if (got < length) {
      throw new KvError('KV_IO', `${file} ended at ${offset + got} while a merge re-read it`);
    }
    return bytes;
  }

  /** Unmaps the inputs' maps and closes their fds. */
  close(): void {
    for (const map of this.maps) this.files.unmap?.(map);
    this.maps.length = 0;
    this.views.length = 0;
    for (const fd of this.fds) if (fd !== undefined) this.files.close(fd);
    this.fds.length = 0;
  }
}
