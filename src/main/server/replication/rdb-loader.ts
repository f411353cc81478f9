// Owns loading a master's RDB file into the replica's store during a full resync, as the link's
// socket delivers it (`$<len>` or diskless `$EOF:<mark>`): the store is emptied, then string
// keys go in by batches as the file arrives; keys of any other type are
// skipped, counted by type and logged once a type; keys already expired are left out. A few
// batches are in flight at once, so parsing the next keys overlaps the writer's work.

import { Buffer } from 'node:buffer';
import { RdbParser } from '../../../shared/rdb-parser.js';
import type { BatchOp, Logger, Store } from '../../index.js';
import type { SocketReader } from './socket-reader.js';

/** Sets per store batch while loading (and the most bytes of values in one). */
const BATCH_KEYS = 1_000;
const BATCH_BYTES = 4 * 1024 * 1024;
/** Batches sent to the writer and not yet acknowledged before the load waits for the oldest. */
const BATCHES_IN_FLIGHT = 4;

/** What a load found: keys loaded, and keys skipped by Redis type. */
export interface RdbLoadCounts {
  loaded: number;
  expired: number;
  readonly skipped: Map<string, number>;
}

/**
 * Loads one RDB file pushed in pieces. `push` returns a promise when the caller should wait
 * (a batch is being written) before pushing more; `end` resolves with the bytes pushed past
 * the file's end (the start of the command stream, or the diskless mark). Main thread.
 */
export class RdbLoader {
  private readonly parser = new RdbParser();
  private batch: BatchOp[] = [];
  private batchBytes = 0;
  private pushed = 0;
  private cleared: Promise<unknown>;
  private readonly inFlight: Promise<void>[] = [];
  readonly counts: RdbLoadCounts = { loaded: 0, expired: 0, skipped: new Map() };

  constructor(
    private readonly store: Pick<Store, 'batch' | 'clear'>,
    private readonly log: Logger,
    /** Every type counted so far, across loads (INFO reports it), and logged once each. */
    private readonly skippedEver: Map<string, number>,
  ) {
    // A full resync replaces the whole dataset, as in Redis.
    this.cleared = store.clear();
  }

  /** Whether the file's end (EOF and checksum) has been read. */
  get done(): boolean {
    return this.parser.done;
  }

  /** Bytes pushed past the end of the file (valid once `done`). */
  get overflow(): number {
    return this.pushed - this.parser.offset;
  }

  /** Adds the file's next bytes; resolves once its complete keys are queued or written. */
  async push(chunk: Buffer): Promise<void> {
    this.pushed += chunk.length;
    this.parser.push(chunk);
    for (let item = this.parser.next(); item; item = this.parser.next()) {
      if (item.kind === 'string') {
        if (item.db !== 0) {
          this.skip(`db${item.db}`);
          continue;
        }
        if (item.expiresAt !== 0 && item.expiresAt <= Date.now()) {
          this.counts.expired++;
          continue;
        }
        // Views of the parser's chunks (never written again), held only until `write` hands
        // the batch to the store, which copies it into the writer's buffer there and then.
        this.batch.push({
          type: 'set',
          key: item.key,
          value: item.value,
          expiresAt: item.expiresAt,
        });
        this.batchBytes += item.key.length + item.value.length;
        this.counts.loaded++;
        if (this.batch.length >= BATCH_KEYS || this.batchBytes >= BATCH_BYTES) await this.write();
      } else if (item.kind === 'skipped') {
        this.skip(item.type);
      }
    }
    if (this.parser.done) {
      await this.write();
      await Promise.all(this.inFlight.splice(0));
    }
  }

  /**
   * Reads the payload that follows +FULLRESYNC from `reader` and loads it: `$<length>` and the
   * file, or `$EOF:<mark>`, the file and the mark (diskless). Resolves with the bytes read past
   * it (the start of the command stream). Throws on a payload that does not hold together,
   * and KV_CORRUPTION for a damaged file.
   */
  async receive(reader: SocketReader): Promise<Buffer[]> {
    let header = '';
    while (header === '') header = await reader.line(); // newlines: the master's keepalive
    if (!header.startsWith('$')) throw new Error(`expected the RDB payload, got ${header}`);
    let leftover: Buffer[] = [];
    if (header.startsWith('$EOF:')) {
      const mark = Buffer.from(header.slice(5), 'latin1');
      let last: Buffer = Buffer.alloc(0);
      while (!this.done) {
        last = await reader.some();
        await this.push(last);
      }
      // The file ends inside the last chunk: what follows it is the mark, then the stream.
      let tail = last.subarray(last.length - this.overflow);
      while (tail.length < mark.length) tail = Buffer.concat([tail, await reader.some()]);
      if (!tail.subarray(0, mark.length).equals(mark)) {
        throw new Error('the diskless RDB transfer did not end with its mark');
      }
      leftover = [tail.subarray(mark.length)];
    } else {
      let remaining = Number(header.slice(1));
      if (!Number.isSafeInteger(remaining) || remaining < 0) {
        throw new Error(`bad RDB length ${header}`);
      }
      while (remaining > 0) {
        const chunk = await reader.some(remaining);
        remaining -= chunk.length;
        await this.push(chunk);
      }
      if (!this.done || this.overflow !== 0) {
        throw new Error('the RDB file does not fill its length');
      }
    }
    this.finish();
    return leftover;
  }

  /** Throws KV_CORRUPTION if the file stopped before its end. */
  finish(): void {
    this.parser.finish();
  }

  private skip(type: string): void {
    this.counts.skipped.set(type, (this.counts.skipped.get(type) ?? 0) + 1);
    const before = this.skippedEver.get(type) ?? 0;
    this.skippedEver.set(type, before + 1);
    if (before === 0) {
      this.log.warn({ type }, 'the master holds keys of a type kvd does not keep; skipping them');
    }
  }

  private async write(): Promise<void> {
    await this.cleared;
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    // Encoded (copied) by the store in this call; acknowledged later, in order.
    const written = this.store.batch(batch);
    written.catch(() => {}); // awaited below or at the end; never unhandled meanwhile
    this.inFlight.push(written);
    if (this.inFlight.length >= BATCHES_IN_FLIGHT) await this.inFlight.shift();
  }
}
