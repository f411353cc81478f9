// Owns the `kvd repl` subcommand: its options, and the process around a REPL session: open
// the store, wire stdin/stdout and signals to `runRepl`, close the store, set the exit code.

import { type Command, InvalidArgumentError, Option } from 'commander';
import { type Durability, KvError } from '../index.js';
import { progressBar } from './progress-bar.js';
import { DEFAULT_SENTINEL, runRepl } from './repl.js';

/** The parsed options of `kvd repl`. */
interface ReplCommandOptions {
  readonly dir: string;
  readonly sentinel: string;
  readonly durability: Durability;
}

const DURABILITIES: readonly Durability[] = ['always', 'everysec', 'no'];

/**
 * Registers `kvd repl` on `program`. Main thread. The action never throws: a store that cannot
 * be opened or closed is reported on stderr as `(error) CODE: message` with exit code 1.
 */
export function addReplCommand(program: Command): void {
  program
    .command('repl')
    .summary('interactive shell on a store (SET, GET, DEL, EXISTS, STATS, COMPACT, HELP, EXIT)')
    .description(
      'Interactive shell on a store: SET, GET, DEL, EXISTS, STATS, COMPACT, HELP, EXIT. Reads commands ' +
        'from stdin (prompts only on a terminal) and prints replies on stdout; logs go to ' +
        'stderr (KVD_LOG_LEVEL, default warn here).',
    )
    .option('-d, --dir <path>', 'store directory (created if missing)', './data')
    .addOption(
      new Option('--sentinel <line>', 'line that ends a multi-line SET value')
        .default(DEFAULT_SENTINEL)
        .argParser(parseSentinel),
    )
    .addOption(
      new Option('--durability <mode>', 'when writes reach the disk')
        .choices(DURABILITIES)
        .default('everysec'),
    )
    .action(async (options: ReplCommandOptions) => {
      process.exitCode = await replMain(options);
    });
}

async function replMain(options: ReplCommandOptions): Promise<number> {
  // Before the store opens: its logger (logger: true) reads the level then.
  process.env.KVD_LOG_LEVEL ??= 'warn';
  const { Store } = await import('../index.js');
  const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  let store: Awaited<ReturnType<typeof Store.open>>;
  const bar = progressBar('recovering', process.stdout, terminal);
  try {
    store = await Store.open(options.dir, {
      durability: options.durability,
      logger: true,
      onRecoveryProgress: (done, total) => bar.update(done, total),
    });
  } catch (error) {
    reportFatal(error);
    return 1;
  } finally {
    bar.stop();
  }
  if (terminal) {
    process.stdout.write(`kvd on ${store.dir}. Type HELP for commands, EXIT or Ctrl-D to quit.\n`);
  }
  const stopping = new AbortController();
  const stop = (): void => stopping.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let exitCode = 0;
  try {
    await runRepl(
      store,
      { input: process.stdin, output: process.stdout, terminal, signal: stopping.signal },
      options.sentinel,
    );
  } catch (error) {
    reportFatal(error);
    exitCode = 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  try {
    await store.close();
  } catch (error) {
    reportFatal(error);
    exitCode = 1;
  }
  return exitCode;
}

function parseSentinel(value: string): string {
  if (value === '' || /[\r\n]/.test(value)) {
    throw new InvalidArgumentError('the sentinel must be a non-empty single line');
  }
  return value;
}

function reportFatal(error: unknown): void {
  const code = error instanceof KvError ? error.code : 'KV_INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`(error) ${code}: ${message}\n`);
}
