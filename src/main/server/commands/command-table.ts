// Owns the command table: every command kvd answers, by lower-case name, gathered from the
// command families. A family is one folder here (`strings/`, `keyspace/`, …) whose
// `<family>-commands.ts` lists its commands, one file each; a new family is one line below.

import { BIT_COMMANDS } from './bits/bits-commands.js';
import type { CommandSpec } from './command-spec.js';
import { CONNECTION_COMMANDS } from './connection/connection-commands.js';
import { KEYSPACE_COMMANDS } from './keyspace/keyspace-commands.js';
import { PUBSUB_COMMANDS } from './pubsub/pubsub-commands.js';
import { SERVER_COMMANDS } from './server/server-commands.js';
import { STRING_COMMANDS } from './strings/string-commands.js';
import { TRANSACTION_COMMANDS } from './transactions/transaction-commands.js';

/** Every family's commands, in the order COMMAND lists them. */
const FAMILIES: readonly (readonly CommandSpec[])[] = [
  STRING_COMMANDS,
  BIT_COMMANDS,
  KEYSPACE_COMMANDS,
  CONNECTION_COMMANDS,
  SERVER_COMMANDS,
  TRANSACTION_COMMANDS,
  PUBSUB_COMMANDS,
];

/**
 * Each family's group as COMMAND DOCS reports it (Redis's group names); a family missing here
 * reports `generic`. A new family adds its line here too.
 */
const GROUPS = new Map<readonly CommandSpec[], string>([
  [STRING_COMMANDS, 'string'],
  [BIT_COMMANDS, 'bitmap'],
  [KEYSPACE_COMMANDS, 'generic'],
  [CONNECTION_COMMANDS, 'connection'],
  [SERVER_COMMANDS, 'server'],
  [TRANSACTION_COMMANDS, 'transactions'],
  [PUBSUB_COMMANDS, 'pubsub'],
]);

/**
 * Builds the command table. Pure. Throws an `Error` if two commands share a name (a mistake in
 * the families' lists, which a Map would otherwise hide by keeping the last).
 */
export function createCommandTable(): ReadonlyMap<string, CommandSpec> {
  const table = new Map<string, CommandSpec>();
  for (const spec of FAMILIES.flat()) {
    if (table.has(spec.name)) throw new Error(`two commands are named ${spec.name}`);
    table.set(spec.name, spec);
  }
  return table;
}

/** Each command's group (COMMAND DOCS, ACL categories), by lower-case name. Pure. */
export function createCommandGroups(): ReadonlyMap<string, string> {
  const groups = new Map<string, string>();
  for (const family of FAMILIES) {
    for (const spec of family) groups.set(spec.name, GROUPS.get(family) ?? 'generic');
  }
  return groups;
}
