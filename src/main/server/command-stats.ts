// Owns the daemon's per-command counters (INFO commandstats: calls, time, rejected and failed
// calls, plus each command's CommandLatency when metrics are on), counted by connection.ts as
// it runs each command, and the engine counters' values at the last CONFIG RESETSTAT, so INFO
// stats can count from there.

import type { StoreStats } from '../index.js';
import { BurstClock } from './burst-clock.js';
import { CommandLatency } from './command-latency.js';
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
  /** The command's figures for /metrics (never reset); undefined while metrics are off. */
  latency: CommandLatency | undefined = undefined;
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
  /** The name `of` was last asked for, and its counters. */
  private lastName: string | undefined = undefined;
  private lastCounters: CommandCounters | undefined = undefined;
  private base: EngineCountersBase = ZERO_BASE;
  private timing = false;
  /** Requests naming no command of the table, since start (never reset; for /metrics). */
  unknownCalls = 0;
  /** What direct GETs and SETs are timed with (one clock reading per burst, not per request). */
  readonly burstClock = new BurstClock();

  constructor(names: Iterable<string>) {
    for (const name of names) this.byName.set(name, new CommandCounters());
  }

  /**
   * Gives every command a `CommandLatency` (metrics on: `--metrics-port`). Call before serving;
   * from then on each answered call also costs a bucket search and a few additions.
   */
  enableLatency(): void {
    this.timing = true;
    for (const counters of this.byName.values()) counters.latency ??= new CommandLatency();
  }

  /** The counters of the command named `name` (a name of the table; others get fresh ones). */
  of(name: string): CommandCounters {
    // A pipeline mostly repeats one command (as CommandLookup also assumes): its counters are
    // kept at hand, so most requests skip the Map (1.5% of the main thread under SET -P16).
    if (name === this.lastName) return this.lastCounters!;
    let counters = this.byName.get(name);
    if (counters === undefined) {
      counters = new CommandCounters();
      if (this.timing) counters.latency = new CommandLatency();
      this.byName.set(name, counters);
    }
    this.lastName = name;
    this.lastCounters = counters;
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
 * time from `startedAt` (a `performance.now()` reading taken just before the handler ran) to
 * `endedAt` (now, unless given: a BurstClock's reading) and,
 * if `reply` is an error, a failure. Allocates nothing.
 */
export function countCall(
  counters: CommandCounters,
  startedAt: number,
  reply: RespValue,
  endedAt = performance.now(),
): void {
  countTimed(counters, (endedAt - startedAt) * 1000, reply.kind === 'error');
}

/**
 * Counts one call that ran for `usec` microseconds (EXEC counts its queued commands so);
 * `failed`: it answered an error. Allocates nothing.
 */
export function countTimed(counters: CommandCounters, usec: number, failed: boolean): void {
  counters.calls++;
  counters.usec += usec;
  if (failed) counters.failedCalls++;
  const latency = counters.latency;
  if (latency !== undefined) latency.observe(usec / 1_000_000, failed);
}

/**
 * Counts `calls` calls answered together in `usec` microseconds, none failed: each waited for
 * the whole run, as a pipelined GET answered in a store batch does. Allocates nothing.
 */
export function countBatch(counters: CommandCounters, calls: number, usec: number): void {
  counters.calls += calls;
  counters.usec += usec;
  counters.latency?.observeBatch(calls, usec / 1_000_000);
}

/** Counts one call refused before its handler ran (wrong arity, NOAUTH). */
export function countRefused(counters: CommandCounters): void {
  counters.rejectedCalls++;
  counters.latency?.refuse();
}
