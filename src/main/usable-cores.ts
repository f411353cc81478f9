// Owns how many cores this process may use, for the reader pool's default size:
// `os.availableParallelism()` (the cores its affinity allows; Node 20's libuv reads no cgroup
// quota), capped by its cgroup's CPU quota rounded up (cgroup-quota.ts), so a store in a
// container limited to 1.5 cores of a 64-core host starts 2 reader threads, not 64. (The
// daemon's `networkThreads: 'auto'` counts the affinity's cores only: in a one-core quota two
// network threads served more GETs than one, bench/ANALYSIS.md "In a CPU quota".)

import { availableParallelism } from 'node:os';
import { cgroupCpuQuota, type ReadText, readSystemText } from './cgroup-quota.js';

/** This process's quota as read once (a quota is set when a container starts), or null if none. */
let quotaCores: number | null | undefined;

/**
 * The cores this process may use: at least 1. `read` and `parallelism` are the system's unless a
 * test gives its own (then nothing is cached).
 */
export function usableCores(
  read: ReadText = readSystemText,
  parallelism: () => number = availableParallelism,
): number {
  let quota: number | null;
  if (read === readSystemText) {
    quotaCores ??= cgroupCpuQuota(read) ?? null;
    quota = quotaCores;
  } else {
    quota = cgroupCpuQuota(read) ?? null;
  }
  const cores = parallelism();
  return Math.max(1, quota === null ? cores : Math.min(cores, Math.ceil(quota)));
}
