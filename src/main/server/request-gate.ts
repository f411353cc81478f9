// Owns what answers a request before any command runs, in Redis's order: a refusal (a
// subscribed client's command outside pub/sub, a write to a replica), queueing inside
// MULTI, the reply a request got as it was parsed (unknown command, wrong arity), and NOAUTH.

import type { ClientSession } from './client-session.js';
import type { ServerContext } from './command-context.js';
import { countRefused } from './command-stats.js';
import type { CommandSpec } from './commands/command-spec.js';
import { queueInTransaction } from './commands/transactions/queueing.js';
import { error, NO_REPLY, type RespValue } from './resp-value.js';

/** The reply to a command a client may not run before AUTH. */
export const NOAUTH = error('NOAUTH Authentication required.');

/**
 * The reply `request` gets without its command running, or undefined if the command is to run.
 * Queueing it in the session's transaction is done here too. The connection's requests and the
 * ones the main thread runs for a network thread's client (remote-command.ts) both pass here.
 */
export function answerWithoutRunning(
  request: {
    readonly spec: CommandSpec | undefined;
    readonly args: readonly Buffer[];
    readonly early: RespValue | undefined;
  },
  session: ClientSession,
  server: ServerContext,
): RespValue | undefined {
  const spec = request.spec;
  if (spec && !request.early && (server.replication.guardsWrites || session.subscriptions)) {
    const refused =
      server.pubsub.refusal(session, spec.name) ?? server.replication.refusal(session, spec);
    if (refused) return refused;
  }
  const queued = queueInTransaction(session, request.args, spec, request.early);
  if (queued) return queued;
  if (request.early) return request.early;
  // Only a request made to carry a reply has no command, and it always has its reply.
  if (!spec) return NO_REPLY;
  if (!session.authenticated && !spec.flags.includes('no-auth')) {
    countRefused(server.commandStats.of(spec.name));
    return NOAUTH;
  }
  return undefined;
}
