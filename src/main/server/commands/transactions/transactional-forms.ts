// Owns which commands may be queued between MULTI and EXEC, and how each runs inside EXEC: most
// run their own handler against the transaction's store (TransactionStore over the view); a
// command that needs something else gets a form of its own here. A command not listed is
// refused at queue time (the transaction then fails with EXECABORT): it never runs outside the
// transaction's batch. A few commands act on the server itself (its role, settings and clients):
// they run once, in their order, after the batch has committed (Sentinel sends REPLICAOF,
// CONFIG REWRITE and CLIENT KILL in one transaction).

import { OK } from '../../resp-value.js';
import type { CommandHandler, CommandSpec } from '../command-spec.js';

/**
 * How a queued command runs inside EXEC: a handler called with the transaction's context,
 * whose `store` reads and writes through the transaction's view (so it sees the
 * transaction's earlier writes, and its own writes reach the store only in EXEC's batch).
 */
export type TransactionalForm = CommandHandler;

/** Marks a command whose own handler is its transactional form. */
const HANDLER = 'handler';

/**
 * Every command that may be queued, with its form. A command joins with `HANDLER` only if its
 * handler touches nothing but keyed `CommandStore` methods (get, set, setWith, incrBy, append,
 * getDelete, delete, has, getMany, entrySync, version, expirySync, expire, persist, batch,
 * `atomically`) and the keyspace counters; a handler that needs the whole keyspace
 * (KEYS, SCAN, DBSIZE, FLUSHALL, RANDOMKEY), the server's state (INFO, COMPACT, CONFIG, …) or
 * would change the connection under EXEC's reply (AUTH, HELLO) is not listed. Adding a command is one line here, or one
 * small function over the view when its handler will not do.
 */
const FORMS = new Map<string, typeof HANDLER | TransactionalForm>([
  // strings
  ['append', HANDLER],
  ['decr', HANDLER],
  ['decrby', HANDLER],
  ['get', HANDLER],
  ['getdel', HANDLER],
  ['getex', HANDLER],
  ['getrange', HANDLER],
  ['getset', HANDLER],
  ['incr', HANDLER],
  ['incrby', HANDLER],
  ['incrbyfloat', HANDLER],
  ['lcs', HANDLER],
  ['mget', HANDLER],
  ['mset', HANDLER],
  ['msetnx', HANDLER],
  ['psetex', HANDLER],
  ['set', HANDLER],
  ['setex', HANDLER],
  ['setnx', HANDLER],
  ['setrange', HANDLER],
  ['strlen', HANDLER],
  ['substr', HANDLER],
  // bits
  ['bitcount', HANDLER],
  ['bitfield', HANDLER],
  ['bitfield_ro', HANDLER],
  ['bitop', HANDLER],
  ['bitpos', HANDLER],
  ['getbit', HANDLER],
  ['setbit', HANDLER],
  // keyspace
  ['copy', HANDLER],
  ['del', HANDLER],
  ['exists', HANDLER],
  ['expire', HANDLER],
  ['expireat', HANDLER],
  ['expiretime', HANDLER],
  ['object', HANDLER],
  ['persist', HANDLER],
  ['pexpire', HANDLER],
  ['pexpireat', HANDLER],
  ['pexpiretime', HANDLER],
  ['pttl', HANDLER],
  ['rename', HANDLER],
  ['renamenx', HANDLER],
  ['touch', HANDLER],
  ['ttl', HANDLER],
  ['type', HANDLER],
  ['unlink', HANDLER],
  // connection and server: no store (SELECT changes only the session, as in Redis)
  ['command', HANDLER],
  ['echo', HANDLER],
  ['ping', HANDLER],
  ['select', HANDLER],
  ['time', HANDLER],
  // UNWATCH inside MULTI is queued and does nothing, as in Redis: EXEC has already unwatched.
  ['unwatch', () => OK],
]);

/**
 * Commands that act on the server rather than the store, run by EXEC after its batch has
 * committed (never again on a retry, never if a watched key aborts it): their own handlers,
 * with the client's real context. BGSAVE's backup therefore holds every write of its
 * transaction, also those queued after it (Redis forks at BGSAVE's place in EXEC, so there the
 * later ones are not in the save).
 */
const AFTER_COMMIT = new Set(['bgsave', 'client', 'config', 'replicaof', 'slaveof']);
for (const name of AFTER_COMMIT) FORMS.set(name, HANDLER);

/** Whether EXEC runs `name` after its batch has committed (see AFTER_COMMIT). */
export function runsAfterCommit(name: string): boolean {
  return AFTER_COMMIT.has(name);
}

/** Commands Redis itself never queues (its `no-multi` flag), refused in its words. */
const NEVER_QUEUED = new Set(['save', 'shutdown']);

/** The form `spec` runs in inside EXEC, or undefined if it cannot be queued. */
export function transactionalForm(spec: CommandSpec): TransactionalForm | undefined {
  const form = FORMS.get(spec.name);
  return form === HANDLER ? spec.handler : form;
}

/** The error text for a command that cannot be queued (it fails the transaction). */
export function notQueueable(spec: CommandSpec): string {
  if (NEVER_QUEUED.has(spec.name)) return 'ERR Command not allowed inside a transaction';
  return `ERR Command not allowed inside a transaction (kvd does not queue '${spec.name}' yet)`;
}
