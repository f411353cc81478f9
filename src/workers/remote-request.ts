// Owns deciding, on a network thread, where a client's request that is not a plain GET is
// served, and reading its arguments: answered here (thread-commands.ts), run by the main thread
// (REMOTE_COMMANDS), or any other, which the main thread answers only if it refuses it at lookup
// (else the client goes back); at most REMOTE_REQUEST_MAX_BYTES. The full RESP parser reads it,
// so what is run is exactly what the main thread would have parsed.

import { RespParser, type RespParserLimits } from '../main/server/resp-parser.js';
import { REMOTE_COMMANDS, REMOTE_REQUEST_MAX_BYTES } from '../shared/network-messages.js';
import { isThreadCommand } from './thread-commands.js';

/** A request the thread serves: its arguments, its length in bytes, and where it runs. */
export interface RemoteRequest {
  readonly args: Buffer[];
  readonly length: number;
  /** True: answered on the thread (`isThreadCommand`); false: run by the main thread. */
  readonly local: boolean;
  /**
   * Any other request: the main thread answers it only if it refuses it at lookup (an unknown
   * command or subcommand, a wrong arity: nothing changes), else the client goes back.
   */
  readonly refusedOnly: boolean;
}

/**
 * The request at the start of `bytes` and where it is served (here once authenticated:
 * `isThreadCommand`; by the main thread; by the main thread if it refuses it); 'incomplete' if
 * more bytes are needed; undefined if the client must go back to the main thread at once (an
 * inline request, a protocol error, a request longer than REMOTE_REQUEST_MAX_BYTES).
 * Parsed with the main thread's `limits` (its stricter ones before AUTH when `unauthenticated`),
 * so a request it would refuse as a protocol error goes back to it at once, for it to answer.
 */
export function remoteRequest(
  bytes: Buffer,
  limits: RespParserLimits,
  unauthenticated = false,
): RemoteRequest | 'incomplete' | undefined {
  if (bytes[0] !== 42) return undefined; // inline requests go back: '*' starts a multibulk
  const parser = new RespParser(limits);
  parser.unauthenticated = unauthenticated;
  const seen = bytes.subarray(0, REMOTE_REQUEST_MAX_BYTES);
  parser.push(seen);
  let args: Buffer[] | undefined;
  try {
    args = parser.next();
  } catch {
    return undefined; // the main thread answers the protocol error and closes
  }
  if (args === undefined) return seen.length < REMOTE_REQUEST_MAX_BYTES ? 'incomplete' : undefined;
  if (args.length === 0) return undefined;
  const name = args[0]!.toString('latin1').toLowerCase();
  const length = seen.length - parser.bufferedBytes;
  if (isThreadCommand(name) && !unauthenticated)
    return { args, length, local: true, refusedOnly: false };
  const subcommands = REMOTE_COMMANDS.get(name);
  const remote =
    REMOTE_COMMANDS.has(name) &&
    (subcommands === undefined || subcommands.has(args[1]?.toString('latin1').toLowerCase() ?? ''));
  return { args, length, local: false, refusedOnly: !remote };
}
