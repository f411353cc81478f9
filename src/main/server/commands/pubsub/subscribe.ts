// SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE and PUNSUBSCRIBE: the client's channels and patterns
// (pubsub.ts); one reply per name, as Redis sends them (pushes in RESP3).

import type { CommandContext } from '../../command-context.js';
import type { RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const FLAGS = ['pubsub', 'noscript', 'loading', 'stale'];

function spec(
  name: string,
  arity: number,
  summary: string,
  handler: (ctx: CommandContext, args: readonly Buffer[]) => RespValue,
): CommandSpec {
  return { name, arity, flags: FLAGS, kind: 'none', keys: NO_KEYS, handler, summary };
}

/** SUBSCRIBE channel… */
export const subscribeCommand = spec(
  'subscribe',
  -2,
  'Listens for messages published to channels.',
  (ctx, args) => ctx.server.pubsub.subscribe(ctx.client, args.slice(1), false),
);

/** UNSUBSCRIBE [channel…] */
export const unsubscribeCommand = spec(
  'unsubscribe',
  -1,
  'Stops listening to channels (all without names).',
  (ctx, args) => ctx.server.pubsub.unsubscribe(ctx.client, args.slice(1), false),
);

/** PSUBSCRIBE pattern… */
export const psubscribeCommand = spec(
  'psubscribe',
  -2,
  'Listens for messages published to channels matching glob patterns.',
  (ctx, args) => ctx.server.pubsub.subscribe(ctx.client, args.slice(1), true),
);

/** PUNSUBSCRIBE [pattern…] */
export const punsubscribeCommand = spec(
  'punsubscribe',
  -1,
  'Stops listening to patterns (all without names).',
  (ctx, args) => ctx.server.pubsub.unsubscribe(ctx.client, args.slice(1), true),
);
