// The benchmark entry (`npm run bench`): see lib/runner.ts for the run and bench/README.md
// for what it measures.

// Stores opened in this process log nothing (no logger option); processes it starts that log
// (the daemon) read KVD_LOG_LEVEL from the environment they inherit: quiet them to warnings.
process.env.KVD_LOG_LEVEL ??= 'warn';

const { runBench } = await import('./lib/runner.js');
process.exitCode = await runBench(process.argv.slice(2));
