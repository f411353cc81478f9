// SELECT index: kvd has one database; SELECT 0 is `+OK`, any other index an error.

import { parseInteger } from '../../../index.js';
import { error, OK } from '../../resp-value.js';
import { NOT_AN_INTEGER } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const OUT_OF_RANGE = error('ERR DB index is out of range');

/** SELECT. */
export const selectCommand: CommandSpec = {
  name: 'select',
  arity: 2,
  flags: ['fast'],
  kind: 'none',
  keys: NO_KEYS,
  handler: (_ctx, args) => {
    const index = parseInteger(args[1]!);
    if (index === undefined) return NOT_AN_INTEGER;
    return index === 0n ? OK : OUT_OF_RANGE;
  },
};
