// Owns the daemon's per-command counters (INFO commandstats: calls, time, rejected and failed
// calls), counted by connection.ts as it runs each command, and the engine counters' values at
// the last CONFIG RESETSTAT, so INFO stats can count from there.

import type { StoreStats } from '../index.js';
import type { RespValue } from './resp-value.js';

/** One command's counters, as INFO commandstats reports them. Main thread. */
export class CommandCounters {
  /** Times the handler ran and answered (rejected calls not included). */
  calls = 0;
  /** Microseconds from the handler's start until its reply was ready, summed (fractional). */
  usec = 0;
  /** Calls refused before the handler ran: wrong arity, NOAUTH. */
  rejectedCalls = 0;
  /** Calls whose handler answered an error. */
  failedCalls = 0;
}

/** The engine counters INFO stats reports, as they were at the last reset. */
export interface EngineCountersBase {
  readonly expiredKeys: number;
  readonly writerWrites: number;
  readonly writerSyncs: number;
  readonly damagedReads: number;
  readonly damagedRanges: number;
}

const ZERO_BASE: EngineCountersBase = {
  expiredKeys: 0,
  writerWrites: 0,
  writerSyncs: 0,
  damagedReads: 0,
  damagedRanges: 0,
};

/**
 * Every command's counters, made once per server for each command of the table, so counting a
 * call allocates nothing. Main thread.
 */
export class CommandStats {
  private readonly byName = new Map<string, CommandCounters>();
  private base: EngineCountersBase = ZERO_BASE;

  constructor(names: Iterable<string>) {
    for (const name of names) this.byName.set(name, new CommandCounters());
  }

  /** The counters of the command named `name` (a name of the table; others get fresh ones). */
  of(name: string): CommandCounters {
    let counters = this.byName.get(name);
    if (counters === undefined) {
      counters = new CommandCounters();
      this.byName.set(name, counters);
    }
    return counters;
  }

  /** Every command's counters, in table order. */
  entries(): IterableIterator<[string, CommandCounters]> {
    return this.byName.entries();
  }

  /** The engine counters as they were at the last `reset` (zero before the first). */
  get engineBase(): EngineCountersBase {
    return this.base;
  }

  /** CONFIG RESETSTAT: zeroes every command's counters and takes `now` as the engine's zero. */
  reset(now: StoreStats): void {
    for (const counters of this.byName.values()) {
      counters.calls = 0;
      counters.usec = 0;
      counters.rejectedCalls = 0;
      counters.failedCalls = 0;
    }
    this.base = {
      expiredKeys: now.writer.expiredKeys,
      writerWrites: now.writer.writes,
      writerSyncs: now.writer.syncs,
      damagedReads: now.damage.reads,
      damagedRanges: now.damage.skippedByMerges.ranges,
    };
  }
}

/**
 * Counts one call once it has answered (as Redis counts a command after it ran): the call, the
 * time since `startedAt` (a `performance.now()` reading taken just before the handler ran) and,
 * if `reply` is an error, a failure. Allocates nothing.
 */
export function countCall(counters: CommandCounters, startedAt: number, reply: RespValue): void {
  counters.calls++;
  counters.usec += (performance.now() - startedAt) * 1000;
  if (reply.kind === 'error') counters.failedCalls++;
}
