// Owns the bits family's list: the commands that treat a string value as an array of bits
// (README: "bits"). A new bit command is one file in this folder exporting its `CommandSpec`,
// plus one line here.

import type { CommandSpec } from '../command-spec.js';
import { bitcountCommand } from './bitcount.js';
import { bitfieldCommand, bitfieldRoCommand } from './bitfield.js';
import { bitopCommand } from './bitop.js';
import { bitposCommand } from './bitpos.js';
import { getbitCommand } from './getbit.js';
import { setbitCommand } from './setbit.js';

/** The bits family, registered by `command-table.ts`. */
export const BIT_COMMANDS: readonly CommandSpec[] = [
  bitcountCommand,
  bitfieldCommand,
  bitfieldRoCommand,
  bitopCommand,
  bitposCommand,
  getbitCommand,
  setbitCommand,
];
