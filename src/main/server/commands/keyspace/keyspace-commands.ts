// Owns the keyspace family's list: commands on keys whatever their value (existence, expiry,
// listing, counting, renaming, copying, inspecting, clearing; README: "keyspace"). A new keyspace
// command is one file in this folder exporting its `CommandSpec`, plus one line here.

import type { CommandSpec } from '../command-spec.js';
import { copyCommand } from './copy.js';
import { dbsizeCommand } from './dbsize.js';
import { delCommand } from './del.js';
import { existsCommand } from './exists.js';
import {
  expireatCommand,
  expireSecondsCommand,
  pexpireatCommand,
  pexpireCommand,
} from './expire.js';
import { expiretimeCommand, pexpiretimeCommand } from './expiretime.js';
import { flushallCommand, flushdbCommand } from './flushall.js';
import { keysCommand } from './keys.js';
import { objectCommand } from './object.js';
import { persistCommand } from './persist.js';
import { randomkeyCommand } from './randomkey.js';
import { renameCommand, renamenxCommand } from './rename.js';
import { scanCommand } from './scan.js';
import { touchCommand } from './touch.js';
import { pttlCommand, ttlCommand } from './ttl.js';
import { typeCommand } from './type.js';
import { unlinkCommand } from './unlink.js';

/** The keyspace family, registered by `command-table.ts`. */
export const KEYSPACE_COMMANDS: readonly CommandSpec[] = [
  copyCommand,
  dbsizeCommand,
  delCommand,
  existsCommand,
  expireSecondsCommand,
  expireatCommand,
  expiretimeCommand,
  flushallCommand,
  flushdbCommand,
  keysCommand,
  objectCommand,
  persistCommand,
  pexpireCommand,
  pexpireatCommand,
  pexpiretimeCommand,
  pttlCommand,
  randomkeyCommand,
  renameCommand,
  renamenxCommand,
  scanCommand,
  touchCommand,
  ttlCommand,
  typeCommand,
  unlinkCommand,
];
