// Owns the Node.js flags kvd's threads start with (writer, readers, compaction workers): kvd's
// own choice, never a copy of the host's, whose flags may not apply to a worker (a script run
// with `node --input-type=module -e …` made every worker fail to start).

/**
 * Host flags a thread does take on: profiling, which writes one file per thread, so that
 * `node --cpu-prof` profiles kvd's threads too (CONTRIBUTING.md, "Benchmark and profile").
 * Each is a flag alone, or a flag and its value (`--flag=value` or `--flag value`).
 */
const PROFILING_FLAGS: ReadonlySet<string> = new Set(['--cpu-prof', '--heap-prof']);
const PROFILING_FLAGS_WITH_VALUE: ReadonlySet<string> = new Set([
  '--cpu-prof-dir',
  '--cpu-prof-interval',
  '--heap-prof-dir',
  '--heap-prof-interval',
]);

/**
 * The execArgv of a kvd thread: the host's profiling flags (only those, from `hostArgv`,
 * default `process.execArgv`), then `extra`. Caller's thread.
 */
export function threadExecArgv(
  extra: readonly string[] = [],
  hostArgv: readonly string[] = process.execArgv,
): string[] {
  const argv: string[] = [];
  for (let i = 0; i < hostArgv.length; i++) {
    const arg = hostArgv[i]!;
    const name = arg.split('=', 1)[0]!;
    if (PROFILING_FLAGS.has(arg)) argv.push(arg);
    else if (PROFILING_FLAGS_WITH_VALUE.has(name)) {
      if (arg.includes('=')) argv.push(arg);
      else if (i + 1 < hostArgv.length) argv.push(arg, hostArgv[++i]!);
    }
  }
  return [...argv, ...extra];
}
