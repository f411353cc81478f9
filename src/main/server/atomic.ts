// Owns read-modify-write for the daemon's commands that have no single store operation
// (SETRANGE, SETBIT, BITFIELD, RENAME, COPY, MSETNX, a transaction's EXEC, …): read every key
// involved with its version in one synchronous pass, let the command decide the writes and its
// reply, and commit the writes as one atomic batch that applies only if none of those keys
// changed meanwhile (Store.batch with ifVersions); if one did (KV_CONFLICT), read again.

import { type BatchOp, type Entry, KvError } from '../index.js';
import type { CommandStore } from './command-context.js';

/** What a command decided from the entries it read: the writes to commit, and its reply. */
export interface AtomicPlan<T> {
  readonly writes: readonly BatchOp[];
  readonly reply: T;
}

/** Attempts before giving up with KV_CONFLICT (a key rewritten faster than this can read it). */
const MAX_ATTEMPTS = 100;

/**
 * Runs `plan` on the current entries of `keys` (in order; undefined for an absent or expired
 * key) and commits its writes atomically, conditioned on those entries' versions; repeats from
 * the read when another write changed one of the keys in between. Resolves with the reply of
 * the attempt that committed (or of the first, if it writes nothing). Rejects with the store's
 * errors, or `KV_CONFLICT` after 100 attempts.
 */
export async function atomically<T>(
  store: Pick<CommandStore, 'entrySync' | 'batch'>,
  keys: readonly Buffer[],
  plan: (entries: readonly (Entry | undefined)[]) => AtomicPlan<T>,
): Promise<T> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const entries = keys.map((key) => store.entrySync(key));
    const decided = plan(entries);
    if (decided.writes.length === 0) return decided.reply;
    const versions = keys.map((key, i) => [key, entries[i]?.version] as const);
    try {
      await store.batch(decided.writes, { ifVersions: versions });
      return decided.reply;
    } catch (error) {
      if (!(error instanceof KvError) || error.code !== 'KV_CONFLICT') throw error;
    }
  }
  throw new KvError('KV_CONFLICT', `keys kept changing over ${MAX_ATTEMPTS} attempts`);
}
