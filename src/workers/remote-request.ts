// Owns deciding, on a network thread, where a client's request that is not a plain GET is
// served, and reading its arguments: answered here (thread-commands.ts), or sent to the main
// thread, which runs it for the client or sends the client back to itself (remote-command.ts);
// at most REMOTE_REQUEST_MAX_BYTES. The full RESP parser reads it, so what is run is exactly what
// the main thread would have parsed.

import { RespParser, type RespParserLimits } from '../main/server/resp-parser.js';
import { REMOTE_REQUEST_MAX_BYTES } from '../shared/network-messages.js';
import { isThreadCommand } from './thread-commands.js';

/** A request the thread serves: its arguments, its length in bytes, and where it runs. */
export interface RemoteRequest {
  readonly args: Buffer[];
  readonly length: number;
  /** True: answered on the thread (`isThreadCommand`); false: sent to the main thread. */
  readonly local: boolean;
}

/**
 * The request at the start of `bytes` and where it is served (here once authenticated:
 * `isThreadCommand`; else by the main thread); 'incomplete' if
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
  return { args, length, local: isThreadCommand(name) && !unauthenticated };
}

/**
 * Gathers the complete requests in `bytes` from `from` on (they follow a request sent to the main
 * thread, `bytes` starting with it, and go with it): appends each one's arguments to `requests`
 * and its end (an offset in `bytes`) to `ends`, until `requests` holds `maxRequests` or `bytes`
 * up to the last one's end reach `maxBytes`, or at the first request that is not a complete
 * multibulk one or that the thread answers itself (a GET, a read of THREAD_COMMANDS), left for
 * later. Parsed with the main thread's `limits` (the client is authenticated).
 */
export function followingRequests(
  bytes: Buffer,
  from: number,
  limits: RespParserLimits,
  requests: Buffer[][],
  ends: number[],
  maxRequests: number,
  maxBytes: number,
): void {
  const parser = new RespParser(limits);
  const following = bytes.subarray(from);
  parser.push(following);
  while (requests.length < maxRequests && from + parser.unparsedAt < maxBytes) {
    const at = parser.unparsedAt;
    if (following[at] !== 42) return; // an inline request goes back: '*' starts a multibulk
    let args: Buffer[] | undefined;
    try {
      args = parser.next();
    } catch {
      return; // a protocol error: taken up (and sent back) once what is before it is answered
    }
    if (args === undefined || args.length === 0) return;
    const name = args[0]!.toString('latin1').toLowerCase();
    if (name === 'get' || isThreadCommand(name)) return;
    requests.push(args);
    ends.push(from + (parser.unparsedAt <= at ? following.length : parser.unparsedAt));
  }
}
