// ECHO message: the message as a bulk string.

import { bulk } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

/** ECHO. */
export const echoCommand: CommandSpec = {
  name: 'echo',
  arity: 2,
  flags: ['fast'],
  kind: 'none',
  keys: NO_KEYS,
  handler: (_ctx, args) => bulk(args[1]!),
};
