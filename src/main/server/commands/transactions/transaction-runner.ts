// Owns EXEC's evaluation and commit: run the queued commands in order against an overlay of the
// store, then commit every write as ONE Store.batch conditioned on the watched keys' versions
// (from WATCH; for a key absent then, on its having had no value since) and on every key the
// evaluation read; a conflict on a watched key aborts (nil), any other evaluates again. Contended transactions queue for one lane per store.

import { KvError } from '../../../index.js';
import type { CommandContext, CommandStore } from '../../command-context.js';
import { countTimed } from '../../command-stats.js';
import { array, OK, type RespValue } from '../../resp-value.js';
import { errorReply } from '../arguments.js';
import type { EndedTransaction, QueuedCommand, WatchedKey } from './transaction-state.js';
import { type TransactionLimits, TransactionStore } from './transaction-store.js';
import { Overlay } from './transaction-view.js';

/** EXEC's reply when a watched key changed: RESP2 `*-1`, RESP3 `_`. */
export const ABORTED: RespValue = { kind: 'null-array' };

/** Attempts before a transaction waits for the lane (most commit at the first). */
const OPTIMISTIC_ATTEMPTS = 3;
/** Attempts in the lane before EXEC gives up with KV_CONFLICT. */
const LANE_ATTEMPTS = 100;

/** An attempt met a write to a key it read (not a watched key): evaluate again. */
const RETRY = Symbol('retry');

/**
 * Runs an ended transaction (EXEC): resolves with the array of its commands' replies once its
 * writes are committed, all in one batch, or with `ABORTED` if a watched key changed since
 * WATCH (by any client, this one included: a write, a delete, FLUSHALL, or its expiry). A
 * command's runtime error is its element of the array; the others still apply. Rejects with
 * the store's errors (nothing is written then), or `KV_CONFLICT` if the keys it reads kept
 * changing through every attempt. Main thread.
 */
export async function runTransaction(
  ctx: CommandContext,
  transaction: EndedTransaction,
  limits: TransactionLimits,
): Promise<RespValue> {
  for (let i = 0; i < OPTIMISTIC_ATTEMPTS; i++) {
    const outcome = await attempt(ctx, transaction, limits);
    if (outcome !== RETRY) return outcome;
  }
  // Contended: from here on, one such transaction at a time, so they stop failing each other.
  return ExecLane.of(ctx.store).run(async () => {
    for (let i = 0; i < LANE_ATTEMPTS; i++) {
      const outcome = await attempt(ctx, transaction, limits);
      if (outcome !== RETRY) return outcome;
    }
    throw new KvError(
      'KV_CONFLICT',
      `the keys the transaction reads kept changing over ${OPTIMISTIC_ATTEMPTS + LANE_ATTEMPTS} attempts`,
    );
  });
}

/**
 * One evaluation and commit. Keyspace hit/miss counters count each attempt's reads; INFO
 * commandstats counts the commands of the attempt that answers (as Redis counts them in EXEC).
 */
async function attempt(
  ctx: CommandContext,
  transaction: EndedTransaction,
  limits: TransactionLimits,
): Promise<RespValue | typeof RETRY> {
  const { store } = ctx;
  // Every write up to here is in the index, so every read below, the watched keys' included,
  // sees at least this much.
  const evaluatedAt = store.sequence();
  if (watchedChanged(store, transaction.watched)) return ABORTED;
  const overlay = new Overlay(store, Date.now());
  const view = new TransactionStore(overlay, limits, store.dir);
  const inner: CommandContext = { store: view, client: ctx.client, server: ctx.server };
  const replies: RespValue[] = [];
  const micros: number[] = [];
  for (const command of transaction.commands) {
    if (command.afterCommit) {
      replies.push(OK); // replaced once the batch has committed
      micros.push(0);
      continue;
    }
    const startedAt = performance.now();
    replies.push(await run(command, inner));
    micros.push((performance.now() - startedAt) * 1000);
  }

  // The versions the commit depends on: each watched key's at WATCH, each read key's when read.
  const checks = new Map<string, readonly [Buffer, number | undefined]>();
  for (const { key, version } of transaction.watched) {
    checks.set(key.toString('latin1'), [key, version]);
  }
  for (const [key, version] of overlay.reads()) {
    const id = key.toString('latin1');
    const watched = checks.get(id);
    if (watched !== undefined && watched[1] !== version) return ABORTED;
    checks.set(id, [key, version]);
  }
  const writes = overlay.writes();
  // Watched keys that were absent must also have had no value since WATCH: only the writer
  // can tell (Store.batch's ifAbsentSince).
  const absentWatched = transaction.watched
    .filter((w) => w.version === undefined)
    .map((w) => [w.key, w.since] as const);
  if (writes.length === 0 && absentWatched.length === 0 && allPublishedBy(checks, evaluatedAt)) {
    // Nothing to commit, and every key read had a value written no later than `evaluatedAt`:
    // the replies are those of that moment (see allPublishedBy), with no round trip.
  } else {
    try {
      await store.batch(writes, { ifVersions: checks.values(), ifAbsentSince: absentWatched });
    } catch (cause) {
      if (!(cause instanceof KvError && cause.code === 'KV_CONFLICT')) throw cause;
      // A watched key's change aborts; any other key's makes the evaluation stale: again.
      return (await absentWatchedChanged(store, absentWatched)) ? ABORTED : RETRY;
    }
  }
  // Committed: the commands that act on the server run now, once, in their order.
  for (const [i, command] of transaction.commands.entries()) {
    if (!command.afterCommit) continue;
    const startedAt = performance.now();
    replies[i] = await run(command, ctx);
    micros[i] = (performance.now() - startedAt) * 1000;
  }
  transaction.commands.forEach(({ name }, i) => {
    countTimed(ctx.server.commandStats.of(name), micros[i]!, replies[i]!.kind === 'error');
  });
  return array(replies);
}

/** Runs one queued command; an error is its reply, as it would have been outside MULTI. */
async function run(command: QueuedCommand, ctx: CommandContext): Promise<RespValue> {
  try {
    return await command.form(ctx, command.args);
  } catch (cause) {
    return errorReply(cause, ctx.server.log);
  }
}

/**
 * Whether every key read was present with a version (sequence number) of at most `at`, read
 * before the first of them: then each value read was already the key's value at `at` and was
 * not replaced before it was read, so together they are the keyspace at `at`. A version past
 * `at` may come from a batch the writer thread was publishing during the reads (its other keys
 * read before their turn), and an absent key tells nothing of when it became absent: those go
 * to the writer, which checks between whole batches.
 */
function allPublishedBy(
  checks: ReadonlyMap<string, readonly [Buffer, number | undefined]>,
  at: number,
): boolean {
  for (const [, version] of checks.values()) {
    if (version === undefined || version > at) return false;
  }
  return true;
}

/** Whether a watched key that was absent at WATCH has had a value since (the writer checks). */
async function absentWatchedChanged(
  store: CommandStore,
  absentWatched: readonly (readonly [Buffer, number])[],
): Promise<boolean> {
  if (absentWatched.length === 0) return false;
  try {
    await store.batch([], { ifAbsentSince: absentWatched });
    return false;
  } catch (cause) {
    if (cause instanceof KvError && cause.code === 'KV_CONFLICT') return true;
    throw cause;
  }
}

/** Whether a watched key's version is not the one WATCH saw (expired or deleted: undefined). */
function watchedChanged(store: CommandStore, watched: readonly WatchedKey[]): boolean {
  for (const { key, version } of watched) if (store.version(key) !== version) return true;
  return false;
}

/**
 * Runs the transactions that conflicted a few times one after another, per store, so they no
 * longer invalidate each other's reads (other writes can still conflict with them, and then
 * they evaluate again). Main thread.
 */
class ExecLane {
  private static readonly lanes = new WeakMap<object, ExecLane>();
  private tail: Promise<void> = Promise.resolve();

  /** The lane of `store` (one per store, made on first use). */
  static of(store: object): ExecLane {
    let lane = ExecLane.lanes.get(store);
    if (lane === undefined) {
      lane = new ExecLane();
      ExecLane.lanes.set(store, lane);
    }
    return lane;
  }

  /** Runs `task` once every task queued before it has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(nothing, nothing);
    return result;
  }
}

function nothing(): void {}
