// Turns bench/results/latest.json into BENCHMARKS.md: machine, command, targets (met / NOT
// met), then every scenario's figures and kvd ÷ peer ratios. Run by run.ts after a run, or
// alone: node dist-bench/bench/report.js [results.json] [BENCHMARKS.md].

import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { readAnalysis } from './lib/analysis.js';
import { renderReport } from './lib/report-markdown.js';
import type { BenchResults } from './lib/results.js';

/** Reads a results file and writes its report. */
export function writeReport(resultsPath: string, reportPath: string): void {
  const results = JSON.parse(readFileSync(resultsPath, 'utf8')) as BenchResults;
  writeFileSync(reportPath, renderReport(results, readAnalysis()));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [resultsPath = 'bench/results/latest.json', reportPath = 'BENCHMARKS.md'] =
    process.argv.slice(2);
  writeReport(resultsPath, reportPath);
  console.log(`wrote ${reportPath} from ${resultsPath}`);
}
