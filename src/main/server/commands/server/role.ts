// ROLE: the server's replication role, as Redis answers it: `master offset replicas` or
// `slave host port state offset`.

import type { CommandContext } from '../../command-context.js';
import type { RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

function role(ctx: CommandContext): RespValue {
  return ctx.server.replication.roleReply();
}

/** ROLE. */
export const roleCommand: CommandSpec = {
  name: 'role',
  arity: 1,
  flags: ['noscript', 'loading', 'stale', 'fast'],
  kind: 'none',
  keys: NO_KEYS,
  handler: role,
  summary: "Returns the server's replication role.",
};
