// Owns the store's change feed on the caller's thread (Store.watchChanges): it turns the writer's
// feed on while anyone watches, decodes each group of appended records into changes, and hands
// them to every watcher in log order.

import { Buffer } from 'node:buffer';
import {
  batchCommitCount,
  recordExpiresAt,
  recordInBatch,
  recordKeyLength,
  recordKeyStart,
  recordLengthAt,
  recordSeq,
  recordType,
  recordValueLength,
  recordValueStart,
  TYPE_BATCH_COMMIT,
  TYPE_DELETE,
  TYPE_PUT,
} from '../shared/format.js';
import type { WriterLink } from './writer-link.js';

/**
 * One change the store applied, as its change feed reports it: a key set (its whole value and
 * expiry, whatever operation produced it), a key deleted (by a write, an expiry, `clear`), or
 * the end of an atomic batch, whose changes came just before it with `batch: true`.
 */
export type StoreChange =
  | {
      /** A key set. */
      readonly type: 'set';
      /** The record's sequence number. */
      readonly seq: number;
      /** The key. */
      readonly key: Buffer;
      /** Its whole new value. */
      readonly value: Buffer;
      /** Expiry in ms since the epoch; 0: none. */
      readonly expiresAt: number;
      /** Part of an atomic batch (applied with the others at its `commit`). */
      readonly batch: boolean;
    }
  | {
      /** A key deleted. */
      readonly type: 'delete';
      /** The record's sequence number. */
      readonly seq: number;
      /** The key. */
      readonly key: Buffer;
      /** Part of an atomic batch (applied with the others at its `commit`). */
      readonly batch: boolean;
    }
  | {
      /** The end of an atomic batch. */
      readonly type: 'commit';
      /** The commit record's sequence number. */
      readonly seq: number;
      /** Changes in the batch it ends. */
      readonly count: number;
    };

/** A watcher of the change feed. */
export type ChangeListener = (changes: readonly StoreChange[]) => void;

/** What `Store.watchChanges` resolves with. */
export interface ChangeWatch {
  /** The sequence number of the last change before the watch: every later one is reported. */
  readonly since: number;
  /** Stops reporting to this watcher. */
  stop(): Promise<void>;
}

/** The feed's watchers and the writer's switch. Caller's thread. */
export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  /** Toggling the writer's feed, one request at a time. */
  private switching: Promise<unknown> = Promise.resolve();

  constructor(private readonly writer: WriterLink) {
    writer.onFeed = (records) => this.deliver(records);
  }

  /** Adds a watcher; resolves once the writer feeds everything after `since`. */
  async watch(listener: ChangeListener): Promise<ChangeWatch> {
    const since = this.switching.catch(() => undefined).then(() => this.writer.setFeed(true));
    this.switching = since;
    const seq = await since;
    this.listeners.add(listener);
    return {
      since: seq,
      stop: async () => {
        if (!this.listeners.delete(listener) || this.listeners.size > 0) return;
        this.switching = this.switching
          .catch(() => undefined)
          .then(() => (this.listeners.size === 0 ? this.writer.setFeed(false) : undefined));
        await this.switching;
      },
    };
  }

  private deliver(records: Uint8Array): void {
    if (this.listeners.size === 0) return;
    const changes = decodeChanges(records);
    for (const listener of this.listeners) listener(changes);
  }
}

/** The changes in a run of appended records (log format, FORMAT.md). */
export function decodeChanges(records: Uint8Array): StoreChange[] {
  const bytes = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
  const changes: StoreChange[] = [];
  for (let at = 0; at < bytes.length; at += recordLengthAt(bytes, at)) {
    const type = recordType(bytes, at);
    const seq = recordSeq(bytes, at);
    if (type === TYPE_BATCH_COMMIT) {
      changes.push({ type: 'commit', seq, count: batchCommitCount(bytes, at) });
      continue;
    }
    const keyLength = recordKeyLength(bytes, at);
    const keyStart = recordKeyStart(at);
    const key = bytes.subarray(keyStart, keyStart + keyLength);
    const batch = recordInBatch(bytes, at);
    if (type === TYPE_PUT) {
      const valueStart = recordValueStart(at, keyLength);
      const value = bytes.subarray(valueStart, valueStart + recordValueLength(bytes, at));
      changes.push({ type: 'set', seq, key, value, expiresAt: recordExpiresAt(bytes, at), batch });
    } else if (type === TYPE_DELETE) {
      changes.push({ type: 'delete', seq, key, batch });
    }
  }
  return changes;
}
