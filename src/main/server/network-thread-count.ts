// Owns how many network threads a daemon runs (`networkThreads`): the limits, what `'auto'`
// stands for on this machine, and the check that a count can run here. network-threads.ts runs
// them.

import { KvError } from '../../shared/errors.js';
import { socketFds } from '../../shared/file-map.js';

/** Most network threads a daemon may have, the main thread included. */
export const MAX_NETWORK_THREADS = 16;

/**
 * Most threads `networkThreads: 'auto'` starts, the main one included. Each network thread is a
 * V8 isolate of its own (~10 MB of anonymous memory when idle, bench/ANALYSIS.md "Network
 * threads"), and only reads move to them, so more cores than this are left to the writer and
 * the reader pool. Measured on 2 cores only: a guess above that, not a measured knee.
 */
export const AUTO_NETWORK_THREADS_MAX = 4;

/** `networkThreads`: a count (the main thread included), or `'auto'`. */
export type NetworkThreadsSetting = number | 'auto';

/** What `'auto'` looks at. */
export interface NetworkThreadsHost {
  /** CPU cores this process may use (`os.availableParallelism()`). */
  readonly cores: number;
  /** kvd's native addon is loaded (a socket moves between threads through it). */
  readonly addon: boolean;
  /** Some clients may connect without TLS (plain TCP or the Unix socket). */
  readonly plainClients: boolean;
}

/**
 * The thread count a setting stands for. `'auto'` is one thread per core, at most
 * AUTO_NETWORK_THREADS_MAX; 1 without the native addon, or when every listener speaks TLS
 * (TLS clients stay on the main thread, so a network thread would have none). A number is
 * itself (`checkNetworkThreads` judges it).
 */
export function resolveNetworkThreads(
  setting: NetworkThreadsSetting,
  host: NetworkThreadsHost,
): number {
  if (setting !== 'auto') return setting;
  if (!host.addon || !host.plainClients) return 1;
  return Math.max(1, Math.min(host.cores, AUTO_NETWORK_THREADS_MAX));
}

/**
 * Throws `KV_INVALID_ARGUMENT` unless a daemon with `threads` network threads can run here.
 * (TLS clients stay on the main thread: `offer` keeps them.)
 */
export function checkNetworkThreads(threads: number): void {
  const fail = (why: string): never => {
    throw new KvError('KV_INVALID_ARGUMENT', `networkThreads ${threads}: ${why}`);
  };
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_NETWORK_THREADS)
    fail(`must be an integer from 1 to ${MAX_NETWORK_THREADS}`);
  if (threads === 1) return;
  if (socketFds === undefined) fail("needs kvd's native addon (npm ci builds it)");
}
