// Owns the `kvd compact` subcommand: open a store that no other process holds, merge every
// sealed segment with a progress bar on a terminal (stderr), print what it did as JSON on
// stdout, close (which writes the index snapshot), and set the exit code.

import type { Command } from 'commander';
import { KvError } from '../index.js';
import { checkStoreExists } from './existing-store.js';
import { progressBar } from './progress-bar.js';

/**
 * Registers `kvd compact` on `program`. Main thread. The action never throws: failures are
 * reported on stderr as `(error) CODE: message` with exit code 1.
 */
export function addCompactCommand(program: Command): void {
  program
    .command('compact')
    .summary('merge every sealed segment of a store now (offline), then exit')
    .description(
      'Opens the store (it must not be open elsewhere: a running daemon compacts itself, or ' +
        'takes the COMPACT command), merges every sealed segment into merged ones holding only ' +
        'live records, and prints what it did as JSON. Shows a progress bar when stderr is a ' +
        'terminal.',
    )
    .option('-d, --dir <path>', 'store directory', './data')
    .action(async (options: { dir: string }) => {
      process.exitCode = await compactMain(options.dir);
    });
}

async function compactMain(dir: string): Promise<number> {
  process.env.KVD_LOG_LEVEL ??= 'warn';
  const { Store } = await import('../index.js');
  let store: Awaited<ReturnType<typeof Store.open>> | undefined;
  const terminal = process.stderr.isTTY === true;
  const bar = progressBar('compacting', process.stderr, terminal);
  const recovering = progressBar('recovering', process.stderr, terminal);
  try {
    checkStoreExists(dir);
    store = await Store.open(dir, {
      compaction: { auto: false, bytesPerSecond: 0 },
      logger: true, // JSON lines on stderr at KVD_LOG_LEVEL (default warn here)
      onRecoveryProgress: (done, total) => recovering.update(done, total),
    });
    recovering.stop();
    const result = await store.compact((p) => bar.update(p.bytesRead, p.bytesTotal));
    bar.stop();
    await store.close();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (error) {
    recovering.stop();
    bar.stop();
    await store?.close().catch(() => {});
    const code = error instanceof KvError ? error.code : 'KV_INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`(error) ${code}: ${message}\n`);
    return 1;
  }
}
