// Owns kvd's performance targets and how each is judged from a run's figures.

import type { BenchConfig } from './config.js';
import { formatNumber } from './format.js';
import type { Figure, ScenarioResult, TargetResult } from './results.js';

/** A target: kvd's figure ÷ a peer's figure at least `atLeast`, or a bound on kvd's own figure. */
type TargetSpec =
  | {
      readonly id: string;
      readonly text: string;
      readonly kvd: string;
      readonly peer: string;
      readonly atLeast: number;
    }
  | { readonly id: string; readonly text: string; readonly kvd: string; readonly below: number }
  | { readonly id: string; readonly text: string; readonly kvd: string; readonly atMost: number };

export const TARGETS: readonly TargetSpec[] = [
  {
    id: 'redis-set',
    text: 'daemon as it ships (--network-threads auto): pipelined SET (-P 16) ≥ 1× redis-server (everysec)',
    kvd: 'redis.A.kvd.set.P16',
    peer: 'redis.A.redis.set.P16',
    atLeast: 1,
  },
  {
    id: 'redis-get',
    text: 'daemon as it ships (--network-threads auto): pipelined GET (-P 16) ≥ 1× redis-server (everysec)',
    kvd: 'redis.A.kvd.get.P16',
    peer: 'redis.A.redis.get.P16',
    atLeast: 1,
  },
  {
    id: 'redis-set-P1',
    text: 'daemon as it ships (--network-threads auto): SET (-P 1) ≥ 1× redis-server (everysec)',
    kvd: 'redis.A.kvd.set.P1',
    peer: 'redis.A.redis.set.P1',
    atLeast: 1,
  },
  {
    id: 'redis-get-P1',
    text: 'daemon as it ships (--network-threads auto): GET (-P 1) ≥ 1× redis-server (everysec)',
    kvd: 'redis.A.kvd.get.P1',
    peer: 'redis.A.redis.get.P1',
    atLeast: 1,
  },
  {
    id: 'redis-1thread-set',
    text: 'daemon with --network-threads 1: pipelined SET (-P 16) ≥ 1× redis-server (everysec)',
    kvd: 'redis.A.kvd-1thread.set.P16',
    peer: 'redis.A.redis.set.P16',
    atLeast: 1,
  },
  {
    id: 'redis-1thread-get',
    text: 'daemon with --network-threads 1: pipelined GET (-P 16) ≥ 1× redis-server (everysec)',
    kvd: 'redis.A.kvd-1thread.get.P16',
    peer: 'redis.A.redis.get.P16',
    atLeast: 1,
  },
  {
    id: 'redis-1thread-set-P1',
    text: 'daemon with --network-threads 1: SET (-P 1) ≥ 1× redis-server (everysec)',
    kvd: 'redis.A.kvd-1thread.set.P1',
    peer: 'redis.A.redis.set.P1',
    atLeast: 1,
  },
  {
    id: 'redis-1thread-get-P1',
    text: 'daemon with --network-threads 1: GET (-P 1) ≥ 1× redis-server (everysec)',
    kvd: 'redis.A.kvd-1thread.get.P1',
    peer: 'redis.A.redis.get.P1',
    atLeast: 1,
  },
  {
    id: 'daemon-memory',
    text: 'daemon as it ships: anonymous memory growth per key loaded ≤ 48 B (after the redis load, 15 s idle)',
    kvd: 'redis.A.kvd.memory.anonPerKey',
    atMost: 48,
  },
  {
    id: 'getSync-vs-get-loaded',
    text: 'getSync ≥ 2× lmdb get (A, hits, probes from the loaded key array)',
    kvd: 'hits-loaded.A.kvd.getSync',
    peer: 'hits-loaded.A.lmdb.get',
    atLeast: 2,
  },
  {
    id: 'get-vs-get-loaded',
    text: 'get, 256 in flight ≥ 1.5× lmdb get (A, hits, probes from the loaded key array)',
    kvd: 'hits-loaded.A.kvd.get256',
    peer: 'hits-loaded.A.lmdb.get',
    atLeast: 1.5,
  },
  {
    id: 'getSync-vs-get',
    text: 'getSync ≥ 2× lmdb get (A, hits, fresh probe strings)',
    kvd: 'hits.A.kvd.getSync',
    peer: 'hits.A.lmdb.get',
    atLeast: 2,
  },
  {
    id: 'getSync-vs-fast',
    text: 'getSync ≥ 1.2× lmdb getBinaryFast (A, hits)',
    kvd: 'hits.A.kvd.getSync',
    peer: 'hits.A.lmdb.getBinaryFast',
    atLeast: 1.2,
  },
  {
    id: 'misses',
    text: 'misses: getSync ≥ 2× lmdb get (A)',
    kvd: 'misses.A.kvd.getSync',
    peer: 'misses.A.lmdb.get',
    atLeast: 2,
  },
  {
    id: 'pooled-get',
    text: 'pooled get, 256 in flight ≥ 1× lmdb get (A, hits; reader pool: inlineReadKeys 0)',
    kvd: 'hits.A.kvd.get256.pool',
    peer: 'hits.A.lmdb.get',
    atLeast: 1,
  },
  {
    id: 'getMany',
    text: 'getMany(100), keys/s ≥ 1.5× lmdb get (A, hits; default options: read on the caller)',
    kvd: 'hits.A.kvd.getMany100',
    peer: 'hits.A.lmdb.get',
    atLeast: 1.5,
  },
  {
    id: 'set-no-sync',
    text:
      "no sync: set ('no'), 1,024 a tick and 4 ticks in flight ≥ 1.5× lmdb put (noSync), " +
      'the same loop (A, load)',
    kvd: 'load.A.kvd.set.no',
    peer: 'load.A.lmdb.put.noSync',
    atLeast: 1.5,
  },
  {
    id: 'always-vs-lmdb',
    text: "synced: 'always', 64 in flight ≥ 1.5× lmdb put (synced commits), 64 in flight",
    kvd: 'always.A.kvd.set',
    peer: 'always.A.lmdb.put',
    atLeast: 1.5,
  },
  {
    id: 'always',
    text: "synced: 'always', 64 in flight ≥ 30× the fdatasync rate",
    kvd: 'always.A.kvd.set',
    peer: 'always.fs.fdatasync',
    atLeast: 30,
  },
  { id: 'reopen', text: 'reopen with 1M keys < 1 s', kvd: 'reopen.A.kvd.open', below: 1000 },
  {
    id: 'reopen-snapshot',
    text: 'reopen with 5M keys (5 × A) from the index snapshot < 1 s',
    kvd: 'reopen-modes.A.kvd.snapshot.x5',
    below: 1000,
  },
  {
    id: 'index-bytes',
    text: '≤ 32 B of index per key',
    kvd: 'memory.A.kvd.indexBytesPerKey',
    atMost: 32,
  },
  {
    id: 'compaction-space',
    text:
      'disk ÷ live bytes after compact() ≤ 1.2× ' +
      '(A, every key overwritten 5 times, every tenth deleted)',
    kvd: 'compaction-space.A.kvd.diskPerLive.after',
    atMost: 1.2,
  },
  {
    id: 'compaction-space-user',
    text:
      "all files but LOCK (hints, key runs, bloom filters) ÷ the user's key+value bytes " +
      'after compact() ≤ 1.25× (A, every key overwritten 5 times, every tenth deleted)',
    kvd: 'compaction-space.A.kvd.filesPerUser.after',
    atMost: 1.25,
  },
  ...rangeTargets(),
  {
    id: 'snapshot-create',
    text: 'snapshot() creation ≤ 1 ms (A, median time, idle)',
    kvd: 'snapshot.A.kvd.create.idle',
    atMost: 1,
  },
  {
    id: 'snapshot-create-writes',
    text: 'snapshot() creation ≤ 1 ms (A, median time, under overwrites with a snapshot held)',
    kvd: 'snapshot.A.kvd.create.writes',
    atMost: 1,
  },
];

/**
 * The range scan targets, for each of 100 and 10,000 consecutive keys and a 1,000-key prefix:
 * rangeSync ≥ 1× lmdb getRange after compact(), ≥ 0.5× before it (fresh), and ≥ 2×
 * classic-level's iterator in both states.
 */
function rangeTargets(): TargetSpec[] {
  const shapes = [
    ['range100', '100 keys'],
    ['range10000', '10,000 keys'],
    ['prefix1000', '1,000-key prefix'],
  ] as const;
  const bars = [
    ['compacted', 'lmdb', 1, 'after compact()', 'lmdb getRange'],
    ['fresh', 'lmdb', 0.5, 'fresh', 'lmdb getRange'],
    ['fresh', 'classic-level', 2, 'fresh', 'classic-level iterator'],
    ['compacted', 'classic-level', 2, 'after compact()', 'classic-level iterator'],
  ] as const;
  return shapes.flatMap(([variant, what]) =>
    bars.map(([state, peer, atLeast, stateText, peerText]) => ({
      id: `range-${variant}-${state}-${peer}`,
      text: `range, ${what}: rangeSync ${stateText} ≥ ${atLeast}× ${peerText} (A)`,
      kvd: `range.A.kvd.${variant}.${state}`,
      peer: `range.A.${peer}.${variant}`,
      atLeast,
    })),
  );
}

/** Judges every target from the figures of `scenarios`; absent figures make "not measured". */
export function evaluateTargets(
  scenarios: readonly ScenarioResult[],
  config: BenchConfig,
): TargetResult[] {
  const figures = new Map<string, Figure>();
  for (const s of scenarios) for (const f of s.figures) figures.set(f.id, f);
  const small =
    config.keys < 1_000_000
      ? `measured at ${config.keys.toLocaleString('en-US')} keys, not 1M`
      : undefined;
  return TARGETS.map((t): TargetResult => {
    const kvd = figures.get(t.kvd);
    const base = { id: t.id, text: t.text, ...(small ? { note: small } : {}) };
    if (!kvd) return { ...base, status: 'not measured', measured: `no figure ${t.kvd}` };
    const own = `${formatNumber(kvd.value)} ${kvd.unit}`;
    if ('peer' in t) {
      const peer = figures.get(t.peer);
      if (!peer) return { ...base, status: 'not measured', measured: `no figure ${t.peer}` };
      const ratio = kvd.value / peer.value;
      return {
        ...base,
        status: ratio >= t.atLeast ? 'met' : 'NOT met',
        measured: `${ratio.toFixed(2)}× (${own} vs ${formatNumber(peer.value)} ${peer.unit})`,
      };
    }
    const met = 'below' in t ? kvd.value < t.below : kvd.value <= t.atMost;
    return { ...base, status: met ? 'met' : 'NOT met', measured: own };
  });
}
