// Owns the benchmark's configuration: CLI flags, their environment fallbacks and defaults.

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

/** Every scenario id, in the order a full run executes them. */
export const SCENARIO_IDS = [
  'anchor',
  'load',
  'hits',
  'hits-loaded',
  'misses',
  'parallel',
  'always',
  'reopen',
  'reopen-modes',
  'memory',
  'breakdown',
  'compaction-space',
  'compression-space',
  'compaction-load',
  'expiry',
  'range',
  'snapshot',
  'redis',
  'keyv',
  'replication',
] as const;

export type ScenarioId = (typeof SCENARIO_IDS)[number];

export interface BenchConfig {
  /** Keys of dataset A (~16 B keys, 100 B values). */
  readonly keys: number;
  /** Keys of dataset B (~16 B keys, 4 KiB values). */
  readonly bigKeys: number;
  /** Measured time per timed task, in ms (warm-up and latency passes come on top). */
  readonly timeMs: number;
  /** Scenarios to run, in run order. */
  readonly only: readonly ScenarioId[];
  /** Client threads (or client loops) of the parallel scenario. */
  readonly clients: number;
  /** kvd reader pool threads. */
  readonly readers: number;
  /** Where the run's JSON goes. */
  readonly out: string;
  /** Where the Markdown report goes ('' = do not write one). */
  readonly report: string;
  /** Also print each scenario's JSON to stdout. */
  readonly printJson: boolean;
}

const HELP = `usage: npm run bench -- [options]
  --keys N        dataset A size, 100 B values (default 1000000; env KVD_BENCH_KEYS)
  --big-keys N    dataset B size, 4 KiB values (default 100000; env KVD_BENCH_BIG_KEYS)
  --time MS       measured time per task (default 2000; env KVD_BENCH_TIME)
  --only a,b      scenarios: ${SCENARIO_IDS.join(',')} (default all; env KVD_BENCH_ONLY)
  --clients N     parallel scenario: client threads / loops (default 2)
  --readers N     kvd reader pool size (default: available parallelism)
  --out PATH      results JSON (default bench/results/latest.json)
  --report PATH   Markdown report (default BENCHMARKS.md; --report '' to skip)
  --json          also print each scenario's JSON`;

/** Parses `argv` (without node and script). Throws with the usage text on a bad flag. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): BenchConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      keys: { type: 'string' },
      'big-keys': { type: 'string' },
      time: { type: 'string' },
      only: { type: 'string' },
      clients: { type: 'string' },
      readers: { type: 'string' },
      out: { type: 'string' },
      report: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  return {
    keys: positiveInt('keys', values.keys ?? env.KVD_BENCH_KEYS, 1_000_000),
    bigKeys: positiveInt('big-keys', values['big-keys'] ?? env.KVD_BENCH_BIG_KEYS, 100_000),
    timeMs: positiveInt('time', values.time ?? env.KVD_BENCH_TIME, 2000),
    only: parseOnly(values.only ?? env.KVD_BENCH_ONLY),
    clients: positiveInt('clients', values.clients, 2),
    readers: positiveInt('readers', values.readers, Math.max(1, availableParallelism())),
    out: values.out ?? 'bench/results/latest.json',
    report: values.report ?? 'BENCHMARKS.md',
    printJson: values.json ?? false,
  };
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`--${name} must be a positive integer\n${HELP}`);
  return n;
}

function parseOnly(raw: string | undefined): ScenarioId[] {
  if (raw === undefined || raw.trim() === '') return [...SCENARIO_IDS];
  const wanted = raw.split(',').map((s) => s.trim());
  for (const id of wanted) {
    if (!(SCENARIO_IDS as readonly string[]).includes(id))
      throw new Error(`unknown scenario "${id}"\n${HELP}`);
  }
  return SCENARIO_IDS.filter((id) => wanted.includes(id));
}
