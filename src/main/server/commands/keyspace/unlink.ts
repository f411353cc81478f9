// UNLINK key [key ...]: DEL under Redis's other name. Redis frees the values of UNLINK's keys in
// another thread; kvd never frees values on the command's thread (a delete is one tombstone), so
// both are the same command here.

import type { CommandSpec } from '../command-spec.js';
import { delCommand } from './del.js';

/** UNLINK. */
export const unlinkCommand: CommandSpec = {
  ...delCommand,
  name: 'unlink',
  flags: ['write', 'fast'],
  summary: 'Deletes one or more keys (as DEL). Returns how many existed.',
};
