// Owns the strings family's list: every command on a key's string value (README: "strings").
// A new string command is one file in this folder exporting its `CommandSpec`, plus one line here.

import type { CommandSpec } from '../command-spec.js';
import { appendCommand } from './append.js';
import { getCommand } from './get.js';
import { getdelCommand } from './getdel.js';
import { getexCommand } from './getex.js';
import { getrangeCommand, substrCommand } from './getrange.js';
import { getsetCommand } from './getset.js';
import { decrbyCommand, decrCommand, incrbyCommand, incrCommand } from './incr.js';
import { incrbyfloatCommand } from './incrbyfloat.js';
import { lcsCommand } from './lcs.js';
import { mgetCommand } from './mget.js';
import { msetCommand } from './mset.js';
import { msetnxCommand } from './msetnx.js';
import { setCommand } from './set.js';
import { psetexCommand, setexCommand } from './setex.js';
import { setnxCommand } from './setnx.js';
import { setrangeCommand } from './setrange.js';
import { strlenCommand } from './strlen.js';

/** The strings family, registered by `command-table.ts`. */
export const STRING_COMMANDS: readonly CommandSpec[] = [
  appendCommand,
  decrCommand,
  decrbyCommand,
  getCommand,
  getdelCommand,
  getexCommand,
  getrangeCommand,
  getsetCommand,
  incrCommand,
  incrbyCommand,
  incrbyfloatCommand,
  lcsCommand,
  mgetCommand,
  msetCommand,
  msetnxCommand,
  psetexCommand,
  setCommand,
  setexCommand,
  setnxCommand,
  setrangeCommand,
  strlenCommand,
  substrCommand,
];
