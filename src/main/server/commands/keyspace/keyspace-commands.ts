// Owns the keyspace family's list: commands on keys whatever their value (existence, expiry,
// listing, counting, clearing; README: "keyspace"). A new keyspace command is one file in this
// folder exporting its `CommandSpec`, plus one line here.

import type { CommandSpec } from '../command-spec.js';
import { dbsizeCommand } from './dbsize.js';
import { delCommand } from './del.js';
import { existsCommand } from './exists.js';
import {
  expireatCommand,
  expireSecondsCommand,
  pexpireatCommand,
  pexpireCommand,
} from './expire.js';
import { flushallCommand, flushdbCommand } from './flushall.js';
import { keysCommand } from './keys.js';
import { persistCommand } from './persist.js';
import { scanCommand } from './scan.js';
import { pttlCommand, ttlCommand } from './ttl.js';
import { typeCommand } from './type.js';

/** The keyspace family, registered by `command-table.ts`. */
export const KEYSPACE_COMMANDS: readonly CommandSpec[] = [
  dbsizeCommand,
  delCommand,
  existsCommand,
  expireSecondsCommand,
  expireatCommand,
  flushallCommand,
  flushdbCommand,
  keysCommand,
  persistCommand,
  pexpireCommand,
  pexpireatCommand,
  pttlCommand,
  scanCommand,
  ttlCommand,
  typeCommand,
];
