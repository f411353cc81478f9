// PING [message]: `+PONG`, or the message as a bulk string. A RESP2 client that listens to
// channels gets `["pong", message or ""]` instead, as in Redis (its replies share the stream with
// messages, which are arrays too).

import { subscriptionCount } from '../../pubsub.js';
import { array, bulk, simple } from '../../resp-value.js';
import { wrongArity } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const PONG = simple('PONG');
const PONG_WORD = bulk('pong');
const EMPTY = bulk('');

/** PING. */
export const pingCommand: CommandSpec = {
  name: 'ping',
  arity: -1,
  flags: ['fast'],
  kind: 'none',
  keys: NO_KEYS,
  handler: (ctx, args) => {
    if (args.length > 2) return wrongArity('ping');
    if (ctx.client.protocol === 2 && subscriptionCount(ctx.client) > 0) {
      return array([PONG_WORD, args.length === 2 ? bulk(args[1]!) : EMPTY]);
    }
    return args.length === 2 ? bulk(args[1]!) : PONG;
  },
};
