// The benchmark entry (`npm run bench`): see lib/runner.ts for the run and bench/README.md
// for what it measures.

// kvd's logger reads KVD_LOG_LEVEL when its module is first imported, so quiet it before
// anything imports kvd: every other module is imported dynamically, after this line.
process.env.KVD_LOG_LEVEL ??= 'warn';

const { runBench } = await import('./lib/runner.js');
process.exitCode = await runBench(process.argv.slice(2));
