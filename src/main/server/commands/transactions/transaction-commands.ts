// Owns the transactions family's list: MULTI, EXEC, DISCARD, WATCH and UNWATCH (README:
// "transactions"). Which other commands may be queued, and how each runs inside EXEC, is
// transactional-forms.ts.

import type { CommandSpec } from '../command-spec.js';
import { discardCommand } from './discard.js';
import { execCommand } from './exec.js';
import { multiCommand } from './multi.js';
import { unwatchCommand, watchCommand } from './watch.js';

/** The transactions family, registered by `command-table.ts`. */
export const TRANSACTION_COMMANDS: readonly CommandSpec[] = [
  discardCommand,
  execCommand,
  multiCommand,
  unwatchCommand,
  watchCommand,
];
