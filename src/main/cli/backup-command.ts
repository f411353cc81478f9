// Owns the `kvd backup` subcommand: open a store that no other process holds, write a backup
// of it (`Store.backup`: sealed files hard-linked where possible, the rest copied, renamed into
// place once complete), print what was written as text or JSON on stdout, close, and set the
// exit code. A running daemon is backed up with its BGSAVE command instead.

import { type Command, InvalidArgumentError } from 'commander';
import { type BackupResult, KvError } from '../index.js';
import { checkStoreExists } from './existing-store.js';

/** The parsed flags of `kvd backup`. */
interface BackupFlags {
  readonly dir: string;
  readonly to: string;
  readonly json?: boolean;
  readonly copy?: boolean;
  readonly replace?: boolean;
  readonly bytesPerSecond?: number;
}

/**
 * Registers `kvd backup` on `program`. Main thread. The action never throws: failures are
 * reported on stderr as `(error) CODE: message` with exit code 1.
 */
export function addBackupCommand(program: Command): void {
  program
    .command('backup')
    .summary('write a consistent copy of a store that nothing has open, then exit')
    .description(
      'Opens the store (it must not be open elsewhere: a store a daemon serves is refused with ' +
        'KV_LOCKED; send that daemon BGSAVE instead) and writes a copy of it to --to, which ' +
        'must not exist or be an empty directory: sealed segments, hint files and key runs are ' +
        'hard-linked where the file system allows it, the rest copied. The copy is staged ' +
        'beside --to and renamed into place once complete, and opens as a normal store.',
    )
    .option('-d, --dir <path>', 'store directory', './data')
    .requiredOption('--to <path>', 'where to write the backup')
    .option('--copy', 'copy every file (no hard links shared with the store)')
    .option('--replace', 'move an earlier backup at --to to <to>.old instead of refusing')
    .option(
      '--bytes-per-second <n>',
      'copy at most this many bytes a second (hard links are not paced; default: no limit)',
      (value: string) => {
        const n = Number(value);
        if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
          throw new InvalidArgumentError('--bytes-per-second takes a whole number of bytes');
        }
        return n;
      },
    )
    .option('--json', 'print the result as JSON')
    .action(async (flags: BackupFlags) => {
      process.exitCode = await backupMain(flags);
    });
}

async function backupMain(flags: BackupFlags): Promise<number> {
  process.env.KVD_LOG_LEVEL ??= 'warn';
  const { Store } = await import('../index.js');
  let store: Awaited<ReturnType<typeof Store.open>> | undefined;
  try {
    checkStoreExists(flags.dir);
    store = await Store.open(flags.dir, {
      compaction: { auto: false },
      logger: true, // JSON lines on stderr at KVD_LOG_LEVEL (default warn here)
    });
    const result = await store.backup(flags.to, {
      link: flags.copy !== true,
      replace: flags.replace === true,
      bytesPerSecond: flags.bytesPerSecond ?? 0,
    });
    await store.close();
    process.stdout.write(
      flags.json === true ? `${JSON.stringify(result)}\n` : describeBackup(store.dir, result),
    );
    return 0;
  } catch (error) {
    await store?.close().catch(() => {});
    const code = error instanceof KvError ? error.code : 'KV_INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`(error) ${code}: ${message}\n`);
    return 1;
  }
}

/** The result as one line of text for a person. */
export function describeBackup(dir: string, result: BackupResult): string {
  return (
    `kvd backup ${dir} -> ${result.dir}: ${result.files} files (${result.linked} linked, ` +
    `${result.copied} copied), ${result.bytes} bytes, up to sequence ${result.sequence}\n`
  );
}
