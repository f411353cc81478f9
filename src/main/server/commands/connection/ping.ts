// PING [message]: `+PONG`, or the message as a bulk string.

import { bulk, simple } from '../../resp-value.js';
import { wrongArity } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const PONG = simple('PONG');

/** PING. */
export const pingCommand: CommandSpec = {
  name: 'ping',
  arity: -1,
  flags: ['fast'],
  kind: 'none',
  keys: NO_KEYS,
  handler: (_ctx, args) => {
    if (args.length > 2) return wrongArity('ping');
    return args.length === 2 ? bulk(args[1]!) : PONG;
  },
};
