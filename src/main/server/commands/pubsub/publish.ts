// PUBLISH channel message (answers how many clients got it) and PUBSUB CHANNELS [pattern] |
// NUMSUB [channel…] | NUMPAT.

import type { CommandContext } from '../../command-context.js';
import { array, bulk, error, integer, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

function publish(ctx: CommandContext, args: readonly Buffer[]): RespValue {
  return integer(ctx.server.pubsub.publish(args[1]!, args[2]!));
}

function pubsub(ctx: CommandContext, args: readonly Buffer[]): RespValue {
  const hub = ctx.server.pubsub;
  switch (args[1]!.toString().toLowerCase()) {
    case 'channels':
      if (args.length > 3) break;
      return array(hub.activeChannels(args[2]).map((name) => bulk(name)));
    case 'numsub':
      return array(args.slice(2).flatMap((name) => [bulk(name), integer(hub.listeners(name))]));
    case 'numpat':
      if (args.length !== 2) break;
      return integer(hub.patternCount);
  }
  return error(
    `ERR unknown subcommand or wrong number of arguments for '${args[1]!.toString()}'. Try PUBSUB HELP.`,
  );
}

/** PUBLISH. */
export const publishCommand: CommandSpec = {
  name: 'publish',
  arity: 3,
  flags: ['pubsub', 'loading', 'stale', 'fast'],
  kind: 'none',
  keys: NO_KEYS,
  handler: publish,
  summary: 'Posts a message to a channel; answers how many clients received it.',
};

/** PUBSUB. */
export const pubsubCommand: CommandSpec = {
  name: 'pubsub',
  arity: -2,
  flags: ['pubsub', 'loading', 'stale'],
  kind: 'none',
  keys: NO_KEYS,
  handler: pubsub,
  summary: 'Lists active channels, their listeners, and the patterns listened to.',
};
