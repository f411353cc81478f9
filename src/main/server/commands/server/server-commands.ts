// Owns the server family's list: commands about the daemon and the store as a whole (INFO,
// CONFIG, COMMAND, TIME, SAVE, BGSAVE, LASTSAVE, SHUTDOWN, REPLICAOF/SLAVEOF, ROLE, REPLCONF, PSYNC/SYNC, WAIT, the scripting commands kvd refuses, and kvd's
// own STATS and COMPACT; README: "server"). A new server command is one file in this folder
// exporting its `CommandSpec`, plus one line here.

import type { CommandSpec } from '../command-spec.js';
import { bgsaveCommand } from './bgsave.js';
import { commandCommand } from './command.js';
import { compactCommand } from './compact.js';
import { configCommand } from './config.js';
import {
  evalCommand,
  evalRoCommand,
  evalshaCommand,
  evalshaRoCommand,
  fcallCommand,
  fcallRoCommand,
} from './eval.js';
import { functionCommand } from './function.js';
import { infoCommand } from './info.js';
import { lastsaveCommand } from './lastsave.js';
import { psyncCommand, syncCommand } from './psync.js';
import { replconfCommand } from './replconf.js';
import { replicaofCommand, slaveofCommand } from './replicaof.js';
import { roleCommand } from './role.js';
import { saveCommand } from './save.js';
import { scriptCommand } from './script.js';
import { shutdownCommand } from './shutdown.js';
import { statsCommand } from './stats.js';
import { timeCommand } from './time.js';
import { waitCommand } from './wait.js';

/** The server family, registered by `command-table.ts`. */
export const SERVER_COMMANDS: readonly CommandSpec[] = [
  bgsaveCommand,
  commandCommand,
  compactCommand,
  configCommand,
  evalCommand,
  evalRoCommand,
  evalshaCommand,
  evalshaRoCommand,
  fcallCommand,
  fcallRoCommand,
  functionCommand,
  infoCommand,
  lastsaveCommand,
  psyncCommand,
  replconfCommand,
  replicaofCommand,
  roleCommand,
  saveCommand,
  scriptCommand,
  shutdownCommand,
  slaveofCommand,
  statsCommand,
  syncCommand,
  timeCommand,
  waitCommand,
];
