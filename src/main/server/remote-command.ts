// Owns running one request on the main thread for a client a network thread keeps (a request of
// REMOTE_COMMANDS: connection setup, whole-keyspace and server-state reads; or any other, answered
// only if refused at lookup): looked up, checked (arity, NOAUTH) and counted as a connection
// would, run against the client's session here, and its reply encoded for the thread to send.

import type { Buffer } from 'node:buffer';
import type { ClientSession } from './client-session.js';
import type { CommandStore, ServerContext } from './command-context.js';
import { countCall, countRefused } from './command-stats.js';
import { errorReply } from './commands/arguments.js';
import type { CommandSpec } from './commands/command-spec.js';
import { NOAUTH } from './request-gate.js';
import { refusalAtLookup } from './request-refusal.js';
import type { RespValue } from './resp-value.js';
import { RespWriter } from './resp-writer.js';

/** The reply to `args` for `spec`, which lookup let through: NOAUTH, or the handler's, counted. */
async function run(
  server: ServerContext,
  store: CommandStore,
  client: ClientSession,
  spec: CommandSpec,
  args: Buffer[],
): Promise<RespValue> {
  if (!client.authenticated && !spec.flags.includes('no-auth')) {
    countRefused(server.commandStats.of(spec.name));
    return NOAUTH;
  }
  const startedAt = performance.now();
  let reply: RespValue;
  try {
    reply = await spec.handler({ store, client, server }, args);
  } catch (cause) {
    reply = errorReply(cause, server.log);
  }
  countCall(server.commandStats.of(spec.name), startedAt, reply);
  return reply;
}

/**
 * Runs `args` for `client` and resolves with its reply's bytes, in an ArrayBuffer of their own
 * (so the reply can be transferred to the thread, not copied); with `refusedOnly`, only if
 * lookup refuses it (an unknown command or subcommand, a wrong arity), else resolves with
 * undefined, having run and counted nothing. Never rejects. Main thread.
 */
export async function runRemoteCommand(
  server: ServerContext,
  store: CommandStore,
  client: ClientSession,
  args: Buffer[],
  refusedOnly: boolean,
): Promise<Uint8Array | undefined> {
  const spec = server.commandLookup.find(args[0]!);
  const refused = refusalAtLookup(server.commandStats, spec, args);
  if (refused === undefined && refusedOnly) return undefined;
  server.counters.commandsProcessed++;
  const writer = new RespWriter();
  writer.write(refused ?? (await run(server, store, client, spec!, args)), client.protocol);
  const parts = writer.take();
  let length = 0;
  for (const part of parts) length += part.length;
  const reply = new Uint8Array(length); // not from Buffer's shared pool
  let at = 0;
  for (const part of parts) {
    reply.set(part, at);
    at += part.length;
  }
  return reply;
}
