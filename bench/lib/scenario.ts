// Owns the contract between run.ts and a scenario file, and the checks every read loop uses.

import type { BenchConfig, ScenarioId } from './config.js';
import type { Fixtures } from './fixtures.js';
import type { Measurement } from './measure.js';
import type { ResultBuilder } from './results.js';
import type { TempDirs } from './temp-dirs.js';

export interface ScenarioContext {
  readonly config: BenchConfig;
  readonly temp: TempDirs;
  readonly fixtures: Fixtures;
}

/** One benchmark scenario: one file in bench/scenarios exports one of these as `scenario`. */
export interface Scenario {
  readonly id: ScenarioId;
  readonly title: string;
  /** Measures, recording figures, ratios and notes in `out`. Closes everything it opens. */
  run(context: ScenarioContext, out: ResultBuilder): Promise<void>;
}

/** Throws unless every key probed was found (a hit loop that misses measures nothing). */
export function expectAllFound(label: string, m: Measurement): Measurement {
  if (m.found !== m.keys) throw new Error(`${label}: found ${m.found} of ${m.keys} present keys`);
  return m;
}

/** Throws if any absent key was found. */
export function expectNoneFound(label: string, m: Measurement): Measurement {
  if (m.found !== 0) throw new Error(`${label}: found ${m.found} of ${m.keys} absent keys`);
  return m;
}

/** Builds a figure id: scenario, dataset (if any), engine, variant, dot-separated. */
export function figureId(
  scenario: ScenarioId,
  dataset: string | undefined,
  engine: string,
  variant: string,
): string {
  return [scenario, dataset, engine, variant].filter((p) => p !== undefined).join('.');
}
