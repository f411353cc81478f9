// RENAME and RENAMENX source destination: moves the source's value and expiry to the destination
// (RENAME replaces it; RENAMENX only if it does not exist) and deletes the source, as one atomic
// batch conditioned on both keys' versions (`atomically`, in its turn on both keys): a write to
// either key in between makes the batch refuse, and the move is planned again from a fresh read,
// so no value is lost or duplicated. `exclusive`: its read comes after every earlier request of
// the connection has settled (a pipelined SET before it is seen) and before any later one.

import type { CommandContext } from '../../command-context.js';
import { atomicallyInTurn } from '../../key-turns.js';
import { error, integer, OK, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

const NO_SUCH_KEY = error('ERR no such key');

async function rename(
  ctx: CommandContext,
  args: readonly Buffer[],
  onlyIfAbsent: boolean,
): Promise<RespValue> {
  const source = args[1]!;
  const destination = args[2]!;
  const moved = onlyIfAbsent ? integer(1) : OK;
  const kept = onlyIfAbsent ? integer(0) : OK;
  if (source.equals(destination)) {
    // Nothing moves; a missing source is still an error.
    return ctx.store.entrySync(source) === undefined ? NO_SUCH_KEY : kept;
  }
  return atomicallyInTurn(ctx.store, [source, destination], ([from, to]) => {
    if (from === undefined) return { writes: [], reply: NO_SUCH_KEY };
    if (onlyIfAbsent && to !== undefined) return { writes: [], reply: kept };
    return {
      writes: [
        { type: 'delete', key: source },
        { type: 'set', key: destination, value: from.value, expiresAt: from.expiresAt },
      ],
      reply: moved,
    };
  });
}

/** RENAME source destination. */
export const renameCommand: CommandSpec = {
  name: 'rename',
  arity: 3,
  flags: ['write'],
  kind: 'exclusive',
  keys: [1, 2, 1],
  handler: (ctx, args) => rename(ctx, args, false),
  summary: 'Renames a key, overwriting the destination and keeping the expiry.',
};

/** RENAMENX source destination. */
export const renamenxCommand: CommandSpec = {
  name: 'renamenx',
  arity: 3,
  flags: ['write', 'fast'],
  kind: 'exclusive',
  keys: [1, 2, 1],
  handler: (ctx, args) => rename(ctx, args, true),
  summary: 'Renames a key only when the destination does not exist.',
};
