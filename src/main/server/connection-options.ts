// Owns the shapes a connection is made and reported with: its limits (`ConnectionOptions`,
// from the server's settings) and its state for INFO, CLIENT LIST, tests and logs
// (`ConnectionInfo`).

import type { RespParserLimits } from './resp-parser.js';

/** Per-connection limits. */
export interface ConnectionOptions {
  readonly parserLimits: RespParserLimits;
  /** Requests parsed but not yet answered before the connection stops reading. */
  readonly maxPendingReplies: number;
  /** Close a connection idle this long (ms); 0: never. */
  readonly idleTimeoutMs: number;
}

/** A connection's state, for INFO, tests and logs. */
export interface ConnectionInfo {
  /** The client's id (CLIENT ID), unique per server. */
  readonly id: number;
  /** The peer, `ip:port`, or `unix:<path>` on the Unix socket. */
  readonly address: string;
  /** The name CLIENT SETNAME gave it, if any. */
  readonly name: string | undefined;
  /** The thread that serves it: 0 the main thread, n the nth network thread. */
  readonly thread: number;
  /** Requests parsed and not yet answered. */
  readonly pendingReplies: number;
  /** Requests whose store work has not settled. */
  readonly inFlight: number;
  /** Whether the socket is paused (not reading). */
  readonly paused: boolean;
  /** Whether the last socket write returned false (waiting for 'drain'). */
  readonly outputBlocked: boolean;
  /** Reply bytes the socket has queued and the kernel has not taken. */
  readonly outputBytes: number;
  /** Request bytes read and not yet parsed into a request. */
  readonly inputBytes: number;
  /** Bytes of memory the request parser's buffers keep alive (`RespParser.retainedBytes`). */
  readonly inputBufferBytes: number;
}
