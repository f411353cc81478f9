// Owns turn-taking between the daemon's read-modify-write commands on the same keys: one FIFO
// queue per (store, key), so RMWs on a hot key run one after another, in the order they started,
// instead of racing through atomically()'s optimistic retries (where n pipelined RMWs on one key
// cost O(n²) attempts and the losers of 100 rounds fail with KV_CONFLICT). Plain writes (SET,
// INCR, …) do not take turns; atomically() still retries when one lands in between.

import { Buffer } from 'node:buffer';
import type { Entry } from '../index.js';
import { type AtomicPlan, atomically } from './atomic.js';
import type { CommandStore } from './command-context.js';

/** The last turn queued on each key, per store (a transaction's store has queues of its own). */
const lastTurns = new WeakMap<object, Map<string, Promise<void>>>();

/**
 * Runs `work` once every turn queued earlier on any of `keys` (for the same `store`) has ended,
 * and ends its own turn when `work` settles. Turns start in call order, so a command never
 * waits for a later one (no deadlock). Main thread; resolves or rejects as `work` does.
 */
export async function inTurn<T>(
  store: object,
  keys: readonly Uint8Array[],
  work: () => Promise<T>,
): Promise<T> {
  let turns = lastTurns.get(store);
  if (turns === undefined) {
    turns = new Map();
    lastTurns.set(store, turns);
  }
  // latin1 maps each byte to one char: a binary-safe name for any key.
  const names = new Set(keys.map((key) => Buffer.from(key).toString('latin1')));
  const earlier: Promise<void>[] = [];
  let end!: () => void;
  const turn = new Promise<void>((resolve) => {
    end = resolve;
  });
  for (const name of names) {
    const previous = turns.get(name);
    if (previous) earlier.push(previous);
    turns.set(name, turn);
  }
  try {
    await Promise.all(earlier);
    return await work();
  } finally {
    end();
    for (const name of names) if (turns.get(name) === turn) turns.delete(name);
  }
}

/**
 * `atomically(store, keys, plan)` in its turn on `keys` and on `alsoWritten` (keys the plan
 * writes without reading, such as BITOP's destination). Main thread; resolves with the plan's
 * reply; rejects like `atomically`.
 */
export function atomicallyInTurn<T>(
  store: Pick<CommandStore, 'entrySync' | 'batch'>,
  keys: readonly Buffer[],
  plan: (entries: readonly (Entry | undefined)[]) => AtomicPlan<T>,
  alsoWritten: readonly Buffer[] = [],
): Promise<T> {
  return inTurn(store, [...keys, ...alsoWritten], () => atomically(store, keys, plan));
}
