#!/usr/bin/env -S node --max-semi-space-size=4 --expose-gc
// Owns the `kvd` binary's entry (the package's `bin`): builds the commander program and
// registers each subcommand, which lives in its own `*-command.ts` file: `repl`, `compact`,
// `repair` and `backup` in cli/, `serve` in server/ (the daemon owns its flags).

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { addBackupCommand } from './cli/backup-command.js';
import { addCompactCommand } from './cli/compact-command.js';
import { installCrashLogging } from './cli/crash-log.js';
import { addRepairCommand } from './cli/repair-command.js';
import { addReplCommand } from './cli/repl-command.js';
import { addServeCommand } from './server/serve-command.js';

installCrashLogging();

const packageJson = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

const program = new Command('kvd')
  .description('kvd: a persistent append-only-log key-value store')
  .version(packageJson.version)
  .showHelpAfterError();

addReplCommand(program);
addServeCommand(program);
addCompactCommand(program);
addRepairCommand(program);
addBackupCommand(program);

await program.parseAsync(process.argv);
