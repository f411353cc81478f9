// Owns the `kvd repair` subcommand: open a store that no other process holds with
// `repair: true` (salvage every intact record, set damaged stretches aside, rebuild hints and
// the index snapshot), print what was lost (key names where they can still be read) as text or
// JSON on stdout, close, and set the exit code.

import type { Command } from 'commander';
import { KvError, type RepairReport } from '../index.js';
import { checkStoreExists } from './existing-store.js';
import { progressBar } from './progress-bar.js';

/**
 * Registers `kvd repair` on `program`. Main thread. The action never throws: failures are
 * reported on stderr as `(error) CODE: message` with exit code 1.
 */
export function addRepairCommand(program: Command): void {
  program
    .command('repair')
    .summary('salvage a damaged store (offline): keep every intact record, set damage aside')
    .description(
      'Opens the store (it must not be open elsewhere) after reading every segment whole: every ' +
        'intact record is kept (an atomic batch only whole), each damaged stretch is saved to a ' +
        'NNNNNN.log.damaged-<offset> file beside its segment and removed from it, a segment ' +
        'whose header cannot be read is set aside as NNNNNN.log.damaged, and the index, hint ' +
        'files and index snapshot are rebuilt. Prints what was lost, with key names where they ' +
        'can still be read.',
    )
    .option('-d, --dir <path>', 'store directory', './data')
    .option('--json', 'print the report as JSON')
    .action(async (options: { dir: string; json?: boolean }) => {
      process.exitCode = await repairMain(options.dir, options.json === true);
    });
}

async function repairMain(dir: string, json: boolean): Promise<number> {
  process.env.KVD_LOG_LEVEL ??= 'error';
  const { Store } = await import('../index.js');
  const recovering = progressBar('recovering', process.stderr, process.stderr.isTTY === true);
  try {
    checkStoreExists(dir);
    const store = await Store.open(dir, {
      repair: true,
      compaction: { auto: false },
      logger: true, // JSON lines on stderr at KVD_LOG_LEVEL (default error here)
      onRecoveryProgress: (done, total) => recovering.update(done, total),
    });
    recovering.stop();
    const stats = await store.stats();
    await store.close();
    const report = stats.recovery.repair!;
    process.stdout.write(
      json ? `${JSON.stringify(report)}\n` : describeRepair(store.dir, report, stats.keys),
    );
    return 0;
  } catch (error) {
    recovering.stop();
    const code = error instanceof KvError ? error.code : 'KV_INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`(error) ${code}: ${message}\n`);
    return 1;
  }
}

/** The report as lines of text for a person. */
export function describeRepair(dir: string, report: RepairReport, keys: number): string {
  const lines = [
    `kvd repair ${dir}: ${report.segmentsChecked} segments read, ${report.segmentsRepaired} rewritten, ${report.setAside.length} set aside; ${keys} keys now`,
  ];
  if (report.damaged.length === 0) lines.push('nothing was damaged; nothing was lost');
  for (const d of report.damaged) {
    lines.push(
      `${d.file} at offset ${d.offset}: ${d.bytes} bytes set aside in ${d.savedTo} (${d.reason})`,
    );
    if (d.lostKeys.length > 0) lines.push(`  lost records of: ${d.lostKeys.join(', ')}`);
    else lines.push('  no key name could be read from it');
  }
  if (report.lostKeys.length > 0) {
    lines.push(
      `${report.lostKeys.length} key names in the lost records (a key may still have an older or newer value elsewhere):`,
      ...report.lostKeys.map((k) => `  ${k}`),
    );
  }
  return `${lines.join('\n')}\n`;
}
