// Owns reading bench/ANALYSIS.md, the hand-written explanation (with profiles) of every target
// kvd misses, which the generated BENCHMARKS.md includes after its targets table.

import { existsSync, readFileSync } from 'node:fs';

/** The analysis text, or undefined if the file is absent. Runs from dist-bench/bench/lib/. */
export function readAnalysis(): string | undefined {
  const path = new URL('../../../bench/ANALYSIS.md', import.meta.url);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}
