// Owns the server family's list: commands about the daemon and the store as a whole (INFO,
// CONFIG, COMMAND, SHUTDOWN, and kvd's own STATS and COMPACT; README: "server"). A new server
// command is one file in this folder exporting its `CommandSpec`, plus one line here.

import type { CommandSpec } from '../command-spec.js';
import { commandCommand } from './command.js';
import { compactCommand } from './compact.js';
import { configCommand } from './config.js';
import { infoCommand } from './info.js';
import { shutdownCommand } from './shutdown.js';
import { statsCommand } from './stats.js';

/** The server family, registered by `command-table.ts`. */
export const SERVER_COMMANDS: readonly CommandSpec[] = [
  commandCommand,
  compactCommand,
  configCommand,
  infoCommand,
  shutdownCommand,
  statsCommand,
];
