// Owns running one request on the main thread for a client a network thread keeps (a
// connection-setup request, REMOTE_COMMANDS): looked up, checked (arity, NOAUTH) and counted as
// a connection would, run against the client's session here, and its reply encoded for the
// thread to send.

import { Buffer } from 'node:buffer';
import type { ClientSession } from './client-session.js';
import type { CommandStore, ServerContext } from './command-context.js';
import { countCall, countRefused } from './command-stats.js';
import { errorReply, unknownCommand, wrongArity } from './commands/arguments.js';
import { arityAllows } from './commands/command-spec.js';
import { NOAUTH } from './request-gate.js';
import type { RespValue } from './resp-value.js';
import { RespWriter } from './resp-writer.js';

/** Runs `args` for `client` and resolves with its reply's bytes. Never rejects. Main thread. */
export async function runRemoteCommand(
  server: ServerContext,
  store: CommandStore,
  client: ClientSession,
  args: Buffer[],
): Promise<Buffer> {
  server.counters.commandsProcessed++;
  const spec = server.commandLookup.find(args[0]!);
  let reply: RespValue;
  if (!spec) {
    server.commandStats.unknownCalls++;
    reply = unknownCommand(args);
  } else if (!arityAllows(spec.arity, args.length)) {
    countRefused(server.commandStats.of(spec.name));
    reply = wrongArity(spec.name);
  } else if (!client.authenticated && !spec.flags.includes('no-auth')) {
    countRefused(server.commandStats.of(spec.name));
    reply = NOAUTH;
  } else {
    const startedAt = performance.now();
    try {
      reply = await spec.handler({ store, client, server }, args);
    } catch (cause) {
      reply = errorReply(cause, server.log);
    }
    countCall(server.commandStats.of(spec.name), startedAt, reply);
  }
  const writer = new RespWriter();
  writer.write(reply, client.protocol);
  return Buffer.concat(writer.take());
}
