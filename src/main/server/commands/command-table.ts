// Owns the command table: every command kvd answers, by lower-case name. A new command is one
// file in this folder exporting a `CommandSpec`, plus one line here.

import { appendCommand } from './append.js';
import { authCommand } from './auth.js';
import { clientCommand } from './client.js';
import { commandCommand } from './command.js';
import type { CommandSpec } from './command-spec.js';
import { compactCommand } from './compact.js';
import { configCommand } from './config.js';
import { dbsizeCommand } from './dbsize.js';
import { delCommand } from './del.js';
import { echoCommand } from './echo.js';
import { existsCommand } from './exists.js';
import {
  expireatCommand,
  expireSecondsCommand,
  pexpireatCommand,
  pexpireCommand,
} from './expire.js';
import { flushallCommand, flushdbCommand } from './flushall.js';
import { getCommand } from './get.js';
import { getdelCommand } from './getdel.js';
import { helloCommand } from './hello.js';
import { decrbyCommand, decrCommand, incrbyCommand, incrCommand } from './incr.js';
import { infoCommand } from './info.js';
import { keysCommand } from './keys.js';
import { mgetCommand } from './mget.js';
import { msetCommand } from './mset.js';
import { persistCommand } from './persist.js';
import { pingCommand } from './ping.js';
import { quitCommand } from './quit.js';
import { scanCommand } from './scan.js';
import { selectCommand } from './select.js';
import { setCommand } from './set.js';
import { shutdownCommand } from './shutdown.js';
import { statsCommand } from './stats.js';
import { strlenCommand } from './strlen.js';
import { pttlCommand, ttlCommand } from './ttl.js';
import { typeCommand } from './type.js';

const COMMANDS: readonly CommandSpec[] = [
  appendCommand,
  authCommand,
  decrCommand,
  decrbyCommand,
  expireSecondsCommand,
  expireatCommand,
  getdelCommand,
  incrCommand,
  incrbyCommand,
  keysCommand,
  persistCommand,
  pexpireCommand,
  pexpireatCommand,
  pttlCommand,
  scanCommand,
  ttlCommand,
  clientCommand,
  commandCommand,
  compactCommand,
  configCommand,
  dbsizeCommand,
  delCommand,
  echoCommand,
  existsCommand,
  flushallCommand,
  flushdbCommand,
  getCommand,
  helloCommand,
  infoCommand,
  mgetCommand,
  msetCommand,
  pingCommand,
  quitCommand,
  selectCommand,
  setCommand,
  shutdownCommand,
  statsCommand,
  strlenCommand,
  typeCommand,
];

/** Builds the command table. Pure. */
export function createCommandTable(): ReadonlyMap<string, CommandSpec> {
  return new Map(COMMANDS.map((spec) => [spec.name, spec]));
}
