// Owns what a connection does with a request while its client has a transaction open (the one
// hook connection.ts calls): queue it and answer +QUEUED, or answer the error that fails the
// transaction; MULTI, EXEC, DISCARD, WATCH and QUIT act at once, as in Redis.

import type { ClientSession } from '../../client-session.js';
import { error, type RespValue, simple } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';
import { notQueueable, runsAfterCommit, transactionalForm } from './transactional-forms.js';

const QUEUED = simple('QUEUED');
const TOO_LARGE = error('ERR Transaction too large: its queued commands pass 1 GiB (kvd)');

/** Commands that act at once even inside a transaction, as in Redis. */
const ACT_AT_ONCE = new Set(['multi', 'exec', 'discard', 'watch', 'quit', 'reset']);

/**
 * Whether a request for `spec` would be taken by the client's open transaction (queued or
 * refused) instead of running. Such a request touches no store, so the connection orders it
 * like a `none` command. Main thread.
 */
export function heldByTransaction(session: ClientSession, spec: CommandSpec | undefined): boolean {
  return session.transaction.open && (spec === undefined || !ACT_AT_ONCE.has(spec.name));
}

/**
 * While the client has a transaction open: the reply to a request that the transaction takes.
 * `early` is the request's error if it cannot run at all (unknown command, wrong arity): it
 * fails the transaction, whatever the command, as in Redis. A command that cannot be queued
 * fails it too; any other is queued, `+QUEUED`. Undefined when no transaction is open or the
 * command acts at once: the connection then runs the request as usual. Main thread; call it
 * when the request's turn comes, so MULTI and EXEC earlier on the connection have run.
 */
export function queueInTransaction(
  session: ClientSession,
  args: readonly Buffer[],
  spec: CommandSpec | undefined,
  early: RespValue | undefined,
): RespValue | undefined {
  const transaction = session.transaction;
  if (!transaction.open) return undefined;
  if (early !== undefined || spec === undefined) {
    // EXEC refused (a wrong arity) discards the transaction, as Redis's EXECABORT says.
    if (spec?.name === 'exec') transaction.end();
    else transaction.fail();
    return early;
  }
  if (ACT_AT_ONCE.has(spec.name)) return undefined;
  const form = transactionalForm(spec);
  if (form === undefined) {
    transaction.fail();
    return error(notQueueable(spec));
  }
  const afterCommit = runsAfterCommit(spec.name);
  return transaction.queue({ name: spec.name, form, args, afterCommit }) ? QUEUED : TOO_LARGE;
}
