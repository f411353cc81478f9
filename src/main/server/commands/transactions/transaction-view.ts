// Owns what a transaction's commands see while EXEC evaluates them: the store as the earlier
// commands of the transaction left it. A key is read from the store once (its version is
// recorded: the commit is conditioned on it); writes stay here until EXEC commits them as one
// batch (`writes()`), so nothing reaches the store outside that batch.

import type { BatchOp, Entry } from '../../../index.js';
import type { CommandStore } from '../../command-context.js';

/**
 * The store as one transaction sees it, for the commands EXEC evaluates in order. Main thread.
 * A command's transactional form reads and writes keys through it (directly, or through
 * `TransactionStore`, which gives it the `CommandStore` methods the handlers call).
 */
export interface TransactionView {
  /**
   * The transaction's clock (ms since the epoch), fixed for the whole evaluation: a value whose
   * expiry is at or before it reads as absent. As in Redis, no key expires in the middle of a
   * transaction.
   */
  readonly now: number;
  /**
   * The key's live value as the transaction sees it: its own last write of the key, else the
   * store's value (read once, on first use). The version is the store's for a value read from
   * it, and a negative number, unique in the transaction, for a value the transaction wrote.
   * Throws like `Store.entrySync` (`KV_CORRUPTION`, `KV_KEY_TOO_LARGE`, …).
   */
  read(key: Buffer): Entry | undefined;
  /** Sets the key within the transaction (`expiresAt`: ms since the epoch, 0 = never). */
  write(key: Buffer, value: Buffer, expiresAt: number): void;
  /** Deletes the key within the transaction. */
  remove(key: Buffer): void;
}

/** What the transaction knows of one key. */
interface Slot {
  readonly key: Buffer;
  /** Whether the store was read for this key (before any write of it by the transaction). */
  readFromStore: boolean;
  /** The version the store had for it then (undefined: absent or expired). */
  storeVersion: number | undefined;
  /** The value as the transaction sees it now (undefined: absent). */
  current: Entry | undefined;
  /** Whether the transaction wrote or deleted it. */
  written: boolean;
}

/**
 * The `TransactionView` of one evaluation of a transaction, over the store. Main thread. Made
 * afresh for each attempt of an EXEC (a retry must not see the failed attempt's writes).
 */
export class Overlay implements TransactionView {
  private readonly slots = new Map<string, Slot>();
  private nextVersion = -1;

  constructor(
    private readonly store: Pick<CommandStore, 'entrySync'>,
    readonly now: number,
  ) {}

  read(key: Buffer): Entry | undefined {
    const id = key.toString('latin1');
    let slot = this.slots.get(id);
    if (slot === undefined) {
      const entry = this.store.entrySync(key);
      slot = {
        key,
        readFromStore: true,
        storeVersion: entry?.version,
        current: entry,
        written: false,
      };
      this.slots.set(id, slot);
    }
    const current = slot.current;
    if (current === undefined) return undefined;
    return current.expiresAt !== 0 && current.expiresAt <= this.now ? undefined : current;
  }

  write(key: Buffer, value: Buffer, expiresAt: number): void {
    const slot = this.slotToWrite(key);
    slot.current = { value, version: this.nextVersion--, expiresAt };
  }

  remove(key: Buffer): void {
    this.slotToWrite(key).current = undefined;
  }

  /**
   * The transaction's writes, one operation per key it changed, for one `Store.batch`. A key
   * deleted that the store did not have is left out (there is nothing to delete).
   */
  writes(): BatchOp[] {
    const ops: BatchOp[] = [];
    for (const slot of this.slots.values()) {
      if (!slot.written) continue;
      const current = slot.current;
      if (current !== undefined) {
        ops.push({
          type: 'set',
          key: slot.key,
          value: current.value,
          expiresAt: current.expiresAt,
        });
      } else if (!slot.readFromStore || slot.storeVersion !== undefined) {
        ops.push({ type: 'delete', key: slot.key });
      }
    }
    return ops;
  }

  /**
   * Every key read from the store, with the version it had then: the batch applies only if
   * each still has it, so what the transaction read is what the store holds when it commits.
   * (Keys only written need no check: their new value does not depend on the old one.)
   */
  *reads(): Generator<readonly [key: Buffer, version: number | undefined]> {
    for (const slot of this.slots.values()) {
      if (slot.readFromStore) yield [slot.key, slot.storeVersion];
    }
  }

  private slotToWrite(key: Buffer): Slot {
    const id = key.toString('latin1');
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = {
        key,
        readFromStore: false,
        storeVersion: undefined,
        current: undefined,
        written: true,
      };
      this.slots.set(id, slot);
    }
    slot.written = true;
    return slot;
  }
}
