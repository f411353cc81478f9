// Owns running, on the main thread, a run of requests a network thread's client sent and the
// thread does not answer itself, while the client stays on its thread: which requests the main
// thread runs for it (`runsForThreadClient`), and running them in order, refused, checked (NOAUTH,
// READONLY) and counted as the client's own connection would, their replies encoded into one
// buffer for the thread to send. The first request it does not run ends the run: the client goes
// back to the main thread from it on.

import type { Buffer } from 'node:buffer';
import type { ClientSession } from './client-session.js';
import type { CommandStore, ServerContext } from './command-context.js';
import { countCall } from './command-stats.js';
import { errorReply } from './commands/arguments.js';
import { type CommandKind, type CommandSpec, waitsForInFlight } from './commands/command-spec.js';
import { callHandler } from './request.js';
import { answerWithoutRunning } from './request-gate.js';
import { refusalAtLookup } from './request-refusal.js';
import type { RespValue } from './resp-value.js';
import { type RespProtocol, RespWriter } from './resp-writer.js';

/**
 * The requests of the connection and server families the main thread runs for a network
 * thread's client, by command name (lower case) and, for CLIENT and CONFIG, subcommand:
 * - what client libraries send as they connect (AUTH when a password is set; ioredis: CLIENT
 *   SETINFO, then INFO for its ready check; go-redis 9 and Lettuce: HELLO 3; SELECT 0 where
 *   a database is named; CONFIG GET, as BullMQ checks maxmemory-policy);
 * - the other reads of the server's state: TIME, LASTSAVE, ROLE, COMMAND, CLIENT
 *   INFO/LIST/HELP (and CLIENT NO-EVICT, which changes nothing).
 * None of them changes more than the client's name, library fields, authentication and
 * protocol, which the main thread's session for the client holds.
 */
const SESSION_COMMANDS: ReadonlyMap<string, ReadonlySet<string> | undefined> = new Map<
  string,
  ReadonlySet<string> | undefined
>([
  ['auth', undefined],
  ['hello', undefined],
  ['info', undefined],
  ['ping', undefined],
  ['echo', undefined],
  ['select', undefined],
  ['client', new Set(['setinfo', 'setname', 'getname', 'id', 'info', 'list', 'help', 'no-evict'])],
  ['config', new Set(['get', 'help'])],
  ['time', undefined],
  ['lastsave', undefined],
  ['role', undefined],
  ['command', undefined],
  ['publish', undefined],
]);

/**
 * The command families whose every command the main thread runs for a network thread's client:
 * the store's reads and writes (strings, bitmaps, the keyspace). Their handlers touch the store
 * and nothing of the connection, and a write's reply waits for its acknowledgment as on the
 * client's own connection, so a read the thread answers after it sees it.
 */
const STORE_GROUPS: ReadonlySet<string> = new Set(['string', 'bitmap', 'generic']);

/**
 * Whether the main thread runs `args` (for `spec`) for a network thread's client, which stays
 * on its thread: a command of the store's families or of SESSION_COMMANDS. Anything else
 * (MULTI, WATCH, SUBSCRIBE, QUIT, RESET, scripts, CONFIG SET, WAIT, …) needs the client's own
 * connection: the client goes back to the main thread from it on.
 */
export function runsForThreadClient(
  server: ServerContext,
  spec: CommandSpec,
  args: readonly Buffer[],
): boolean {
  if (STORE_GROUPS.has(server.commandGroups.get(spec.name) ?? '')) return true;
  if (!SESSION_COMMANDS.has(spec.name)) return false;
  const subcommands = SESSION_COMMANDS.get(spec.name);
  return subcommands === undefined || subcommands.has(args[1]!.toString('latin1').toLowerCase());
}

/** What running a thread client's requests gave. */
export interface RemoteReplies {
  /** The replies of the first `answered` requests, in order, in an ArrayBuffer of their own. */
  readonly reply: Uint8Array;
  /** How many requests were answered; the client goes back from the next one on, if any. */
  readonly answered: number;
}

/** One answered request: its reply (or the promise of it) and the protocol to encode it in. */
interface Answer {
  value: RespValue | Promise<RespValue>;
  protocol: RespProtocol;
}

/** The handler's reply to `args`, counted when it settles; never throws or rejects. */
function start(
  server: ServerContext,
  store: CommandStore,
  client: ClientSession,
  spec: CommandSpec,
  args: readonly Buffer[],
): RespValue | Promise<RespValue> {
  const counters = server.commandStats.of(spec.name);
  const startedAt = performance.now();
  const result = callHandler(spec, { store, client, server }, args);
  if (!(result instanceof Promise)) {
    countCall(counters, startedAt, result);
    return result;
  }
  return result
    .catch((cause: unknown) => errorReply(cause, server.log))
    .then((value) => {
      countCall(counters, startedAt, value);
      return value;
    });
}

/**
 * Runs `requests` for `client`, in order, as its connection would: each refused at lookup (an
 * unknown command, a wrong arity) or before running (NOAUTH, READONLY), or run if
 * `runsForThreadClient`; reads alongside reads and writes alongside writes (one group commit),
 * anything else once everything before it has settled. Stops at the first request it does not
 * run, having run and counted nothing of it. Resolves with the replies; never rejects. Main
 * thread.
 */
export async function runRemoteRequests(
  server: ServerContext,
  store: CommandStore,
  client: ClientSession,
  requests: readonly (readonly Buffer[])[],
): Promise<RemoteReplies> {
  const answers: Answer[] = [];
  let inFlight: Promise<RespValue>[] = [];
  let phase: CommandKind = 'none';
  for (const args of requests) {
    const spec = server.commandLookup.find(args[0]!);
    const refused = refusalAtLookup(server.commandStats, spec, args);
    if (refused === undefined && !runsForThreadClient(server, spec!, args)) break;
    server.counters.commandsProcessed++;
    // Refused before running (NOAUTH, READONLY, NOREPLICAS), counted, as the connection does.
    const early = answerWithoutRunning({ spec, args, early: refused }, client, server);
    if (early !== undefined) {
      answers.push({ value: early, protocol: client.protocol });
      continue;
    }
    const kind = spec!.kind;
    if (waitsForInFlight(kind, phase, inFlight.length)) {
      await Promise.all(inFlight);
      inFlight = [];
    }
    const value = start(server, store, client, spec!, args);
    // After the handler: HELLO 3 answers in RESP3.
    answers.push({ value, protocol: client.protocol });
    if (value instanceof Promise) {
      inFlight.push(value);
      phase = kind;
    }
  }
  const writer = new RespWriter();
  for (const answer of answers) writer.write(await answer.value, answer.protocol);
  const parts = writer.take();
  let length = 0;
  for (const part of parts) length += part.length;
  const reply = new Uint8Array(length); // not from Buffer's shared pool: it is transferred
  let at = 0;
  for (const part of parts) {
    reply.set(part, at);
    at += part.length;
  }
  return { reply, answered: answers.length };
}
