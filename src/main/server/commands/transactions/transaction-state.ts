// Owns one client's transaction state: whether MULTI is open, the commands queued since, whether
// queueing failed (EXEC then answers EXECABORT), and the keys WATCHed with the version each had.

import { Buffer } from 'node:buffer';
import { LIMITS } from '../../../index.js';
import type { TransactionalForm } from './transactional-forms.js';

/** A command queued between MULTI and EXEC, with the form EXEC runs it in. */
export interface QueuedCommand {
  readonly name: string;
  readonly form: TransactionalForm;
  readonly args: readonly Buffer[];
  /** It acts on the server, not the store: EXEC runs it once its batch has committed. */
  readonly afterCommit: boolean;
}

/**
 * A WATCHed key, the version it had then (`Store.version`; undefined: absent or expired) and
 * the store's sequence number read just before (`Store.sequence`): an absent key must also
 * have had no value after it, so one created and deleted meanwhile still aborts EXEC.
 */
export interface WatchedKey {
  readonly key: Buffer;
  readonly version: number | undefined;
  readonly since: number;
}

/** What EXEC takes from the state when it ends the transaction. */
export interface EndedTransaction {
  readonly commands: readonly QueuedCommand[];
  /** A command could not be queued: EXEC answers EXECABORT and runs nothing. */
  readonly failed: boolean;
  readonly watched: readonly WatchedKey[];
}

/**
 * Queued arguments past this many bytes fail the transaction: its batch could not be written
 * anyway (`Store.batch` refuses more than 1 GiB), and a client must not make the server hold
 * more than that for it.
 */
const MAX_QUEUED_BYTES = LIMITS.maxBatchBytes;

/** One client's MULTI/WATCH state. Main thread; owned by the client's `ClientSession`. */
export class TransactionState {
  /** Undefined while no transaction is open. */
  private queued: QueuedCommand[] | undefined;
  private queuedBytes = 0;
  private failed = false;
  private readonly watched = new Map<string, WatchedKey>();

  /** Whether MULTI has opened a transaction that EXEC or DISCARD has not ended yet. */
  get open(): boolean {
    return this.queued !== undefined;
  }

  /** How many commands are queued (CLIENT LIST's multi=). */
  get size(): number {
    return this.queued?.length ?? 0;
  }

  /** MULTI: opens a transaction (the caller checks that none is open). */
  begin(): void {
    this.queued = [];
    this.queuedBytes = 0;
    this.failed = false;
  }

  /**
   * Queues a command for EXEC. Returns false, and fails the transaction, if the queued
   * arguments would pass 1 GiB. Once the transaction has failed nothing more is kept (EXEC
   * will run none of it), though the client is still answered QUEUED, as Redis does.
   */
  queue(command: QueuedCommand): boolean {
    if (this.queued === undefined || this.failed) return true;
    for (const arg of command.args) this.queuedBytes += arg.length;
    if (this.queuedBytes > MAX_QUEUED_BYTES) {
      this.fail();
      return false;
    }
    this.queued.push(command);
    return true;
  }

  /** A command could not be queued: EXEC will answer EXECABORT. */
  fail(): void {
    if (this.queued === undefined) return;
    this.failed = true;
    this.queued = [];
  }

  /**
   * EXEC and DISCARD: ends the transaction and forgets every watched key; returns what was
   * queued and watched. The caller checks that a transaction is open.
   */
  end(): EndedTransaction {
    const ended: EndedTransaction = {
      commands: this.queued ?? [],
      failed: this.failed,
      watched: [...this.watched.values()],
    };
    this.queued = undefined;
    this.queuedBytes = 0;
    this.failed = false;
    this.watched.clear();
    return ended;
  }

  /**
   * WATCH: remembers `key` with the version it has now and the sequence number read before it.
   * A key watched twice keeps its first, so a change in between still aborts EXEC.
   */
  watch(key: Buffer, version: number | undefined, since: number): void {
    const id = key.toString('latin1');
    // A copy: the argument is a view into a socket chunk, which it would keep alive.
    if (!this.watched.has(id)) this.watched.set(id, { key: Buffer.from(key), version, since });
  }

  /** UNWATCH: forgets every watched key. */
  unwatch(): void {
    this.watched.clear();
  }

  /** How many keys are watched (for tests and INFO). */
  get watchedCount(): number {
    return this.watched.size;
  }
}
