// Owns measuring tasks in alternating passes: each task runs once a round, the tasks taking
// turns (a, b, …, a, b, …), so that a drift in the machine's speed (this 2-core VM's fast and
// slow phases) falls on every task alike; each task is then reported by its median pass.

import type { Measurement } from './measure.js';

/** One task's passes, in the order they ran, and the one with the median rate. */
export interface AlternatedRuns {
  readonly passes: readonly Measurement[];
  readonly median: Measurement;
}

/**
 * Runs `tasks` in `rounds` rounds, each task once a round in the order given. A task may be
 * synchronous or asynchronous; tasks never overlap. Resolves with each task's passes.
 */
export async function alternate(
  tasks: readonly (() => Measurement | Promise<Measurement>)[],
  rounds: number,
): Promise<AlternatedRuns[]> {
  const passes: Measurement[][] = tasks.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < tasks.length; k++) passes[k]!.push(await tasks[k]!());
  }
  return passes.map((p) => ({ passes: p, median: medianRun(p) }));
}

/** The pass with the median rate (of an even count, the lower middle one). */
export function medianRun(passes: readonly Measurement[]): Measurement {
  if (passes.length === 0) throw new Error('medianRun: no passes');
  const sorted = [...passes].sort((a, b) => a.perSec - b.perSec);
  return sorted[(sorted.length - 1) >> 1]!;
}

/** "median of N alternating passes (low–high)", with the rates rounded, for a figure's `how`. */
export function passesText(runs: AlternatedRuns, unit: string): string {
  const rates = runs.passes.map((p) => p.perSec);
  const low = Math.round(Math.min(...rates)).toLocaleString('en-US');
  const high = Math.round(Math.max(...rates)).toLocaleString('en-US');
  return `median of ${rates.length} alternating passes (${low}–${high} ${unit})`;
}
