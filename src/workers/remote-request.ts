// Owns deciding, on a network thread, whether a client's request that is not a plain GET can be
// served while the thread keeps the client, and reading its arguments: run by the main thread
// (REMOTE_COMMANDS) or answered here (thread-commands.ts), at most REMOTE_REQUEST_MAX_BYTES. The full RESP parser reads it, so what
// is run is exactly what the main thread would have parsed.

import { RespParser, type RespParserLimits } from '../main/server/resp-parser.js';
import { REMOTE_COMMANDS, REMOTE_REQUEST_MAX_BYTES } from '../shared/network-messages.js';
import { isThreadCommand } from './thread-commands.js';

/** A request the thread serves: its arguments, its length in bytes, and where it runs. */
export interface RemoteRequest {
  readonly args: Buffer[];
  readonly length: number;
  /** True: answered on the thread (`isThreadCommand`); false: run by the main thread. */
  readonly local: boolean;
}

/**
 * The request at the start of `bytes` if the thread serves it (remotely, or here once
 * authenticated: `isThreadCommand`); 'incomplete' if it may be one and more bytes are needed; undefined if the
 * client must go back to the main thread.
 * Parsed with the main thread's `limits` (its stricter ones before AUTH when `unauthenticated`),
 * so a request it would refuse goes back to it at once, for it to answer.
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
  if (isThreadCommand(name)) return unauthenticated ? undefined : { args, length, local: true };
  if (!REMOTE_COMMANDS.has(name)) return undefined;
  const subcommands = REMOTE_COMMANDS.get(name);
  if (subcommands !== undefined) {
    const sub = args[1]?.toString('latin1').toLowerCase();
    if (sub === undefined || !subcommands.has(sub)) return undefined;
  }
  return { args, length, local: false };
}
