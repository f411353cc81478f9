// DEL key [key ...]: how many of the keys existed. The deletes are issued in one tick, so they
// reach the writer as one group commit; they are not one atomic batch (each key's delete is its
// own record), because the reply needs each key's existence.

import type { CommandContext } from '../../command-context.js';
import { integer, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

async function del(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const deletes: Promise<boolean>[] = [];
  for (let i = 1; i < args.length; i++) deletes.push(ctx.store.delete(args[i]!));
  let existed = 0;
  for (const outcome of await Promise.all(deletes)) if (outcome) existed++;
  return integer(existed);
}

/** DEL. */
export const delCommand: CommandSpec = {
  name: 'del',
  arity: -2,
  flags: ['write'],
  kind: 'write',
  keys: [1, -1, 1],
  handler: del,
  summary: 'Deletes one or more keys. Returns how many existed.',
};
