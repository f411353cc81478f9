// Owns one benchmark run: every selected scenario in one process, one after another on the
// same machine state; a table per scenario, then the results JSON and BENCHMARKS.md.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readAnalysis } from './analysis.js';
import { type BenchConfig, parseConfig, type ScenarioId } from './config.js';
import { Fixtures } from './fixtures.js';
import { describeMachine } from './machine.js';
import { renderReport } from './report-markdown.js';
import { type BenchResults, ResultBuilder, type ScenarioResult } from './results.js';
import type { Scenario } from './scenario.js';
import { renderScenario, renderTable } from './table.js';
import { evaluateTargets } from './targets.js';
import { TempDirs } from './temp-dirs.js';

const SCENARIOS: Record<ScenarioId, () => Promise<{ scenario: Scenario }>> = {
  anchor: () => import('../scenarios/anchor.js'),
  load: () => import('../scenarios/load.js'),
  hits: () => import('../scenarios/hits.js'),
  'hits-loaded': () => import('../scenarios/hits-loaded.js'),
  misses: () => import('../scenarios/misses.js'),
  parallel: () => import('../scenarios/parallel.js'),
  always: () => import('../scenarios/always.js'),
  reopen: () => import('../scenarios/reopen.js'),
  'reopen-modes': () => import('../scenarios/reopen-modes.js'),
  memory: () => import('../scenarios/memory.js'),
  breakdown: () => import('../scenarios/breakdown.js'),
  'compaction-space': () => import('../scenarios/compaction-space.js'),
  'compression-space': () => import('../scenarios/compression-space.js'),
  'compaction-load': () => import('../scenarios/compaction-load.js'),
  expiry: () => import('../scenarios/expiry.js'),
  range: () => import('../scenarios/range.js'),
  snapshot: () => import('../scenarios/snapshot.js'),
  redis: () => import('../scenarios/redis.js'),
  keyv: () => import('../scenarios/keyv.js'),
  replication: () => import('../scenarios/replication.js'),
};

/** Runs the benchmark for command-line `argv`; resolves with the process exit code. */
export async function runBench(argv: readonly string[]): Promise<number> {
  let config: BenchConfig;
  try {
    config = parseConfig(argv, process.env);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const machine = describeMachine();
  const command =
    process.env.npm_lifecycle_event === 'bench'
      ? `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`
      : `node ${process.argv.slice(1).join(' ')}`;
  console.log(`kvd bench: ${command}`);
  console.log(
    `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load average ${machine.loadAverage}; ` +
      `A = ${config.keys.toLocaleString('en-US')} keys × 100 B, B = ${config.bigKeys.toLocaleString('en-US')} keys × 4 KiB, ` +
      `${config.timeMs} ms a task; scenarios: ${config.only.join(', ')}\n`,
  );

  const start = performance.now();
  const temp = new TempDirs();
  const fixtures = new Fixtures(config, temp);
  const scenarios: ScenarioResult[] = [];
  let failed = false;
  try {
    for (const id of config.only) {
      const { scenario } = await SCENARIOS[id]();
      const out = new ResultBuilder();
      const began = performance.now();
      let error: string | undefined;
      try {
        await scenario.run({ config, temp, fixtures }, out);
      } catch (caught) {
        failed = true;
        error = caught instanceof Error ? (caught.stack ?? caught.message) : String(caught);
      }
      const result: ScenarioResult = {
        id,
        title: scenario.title,
        notes: out.notes,
        figures: out.figures,
        ratios: out.ratios,
        seconds: (performance.now() - began) / 1000,
        ...(error ? { error } : {}),
      };
      scenarios.push(result);
      console.log(renderScenario(result));
      if (error) console.error(`scenario ${id} FAILED: ${error}\n`);
      if (config.printJson) console.log(`${JSON.stringify(result)}\n`);
    }
  } finally {
    temp.removeAll();
  }

  const targets = evaluateTargets(scenarios, config);
  const results: BenchResults = {
    schema: 1,
    machine,
    command,
    config,
    scenarios,
    targets,
    seconds: (performance.now() - start) / 1000,
  };
  console.log(
    renderTable(
      ['target', 'measured', 'status'],
      targets.map((t) => [t.text, t.measured, t.status]),
    ),
  );
  mkdirSync(dirname(config.out), { recursive: true });
  writeFileSync(config.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${config.out}`);
  if (config.report !== '') {
    writeFileSync(config.report, renderReport(results, readAnalysis()));
    console.log(`wrote ${config.report}`);
  }
  console.log(`total ${results.seconds.toFixed(0)} s`);
  return failed ? 1 : 0;
}
