// Owns the strings family's list: every command on a key's string value (README: "strings").
// A new string command is one file in this folder exporting its `CommandSpec`, plus one line here.

import type { CommandSpec } from '../command-spec.js';
import { appendCommand } from './append.js';
import { getCommand } from './get.js';
import { getdelCommand } from './getdel.js';
import { decrbyCommand, decrCommand, incrbyCommand, incrCommand } from './incr.js';
import { mgetCommand } from './mget.js';
import { msetCommand } from './mset.js';
import { setCommand } from './set.js';
import { strlenCommand } from './strlen.js';

/** The strings family, registered by `command-table.ts`. */
export const STRING_COMMANDS: readonly CommandSpec[] = [
  appendCommand,
  decrCommand,
  decrbyCommand,
  getCommand,
  getdelCommand,
  incrCommand,
  incrbyCommand,
  mgetCommand,
  msetCommand,
  setCommand,
  strlenCommand,
];
