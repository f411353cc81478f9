// Owns what a connection sends: its replies encoded in request order, handed to the socket in
// one write per pump (corked), held back while the connection's writes are in flight, and the
// socket's backpressure (a write the socket could not take blocks output until 'drain').

import type { Socket } from 'node:net';
import type { RequestQueue } from './request-queue.js';
import { RespWriter } from './resp-writer.js';

/** Reply bytes a connection holds back while its writes are in flight (`holdsWhile`). */
const HELD_REPLY_BYTES = 64 * 1024;

/** One connection's outgoing side. Main thread. */
export class ReplyOutput {
  /** Encodes replies; the plain-GET path writes into it too. */
  readonly writer = new RespWriter();
  /** The socket did not take the last write: nothing more is parsed until it drains. */
  blocked = false;
  /** The socket is corked: by a pump running, or held so since one (`holdsWhile`). */
  corked = false;

  constructor(private readonly socket: Socket) {}

  /** A pump starts: its replies go to the kernel in one write (or later, with more). */
  cork(): void {
    if (this.corked) return;
    this.socket.cork();
    this.corked = true;
  }

  /** A pump ends: the socket is uncorked unless its replies are held (`holdsWhile`). */
  endPump(hold: boolean): void {
    if (hold) return;
    this.corked = false;
    this.socket.uncork();
  }

  /**
   * Whether the replies written stay corked after the pump, to go with those of the writes in
   * flight (acknowledged within milliseconds) in one write, as Redis sends a pipeline's replies:
   * up to HELD_REPLY_BYTES, while `writesInFlight`; the caller says no behind a read or a
   * command that may block (WAIT).
   */
  holdsWhile(writesInFlight: boolean, closed: boolean): boolean {
    return (
      writesInFlight && !this.blocked && !closed && this.socket.writableLength < HELD_REPLY_BYTES
    );
  }

  /**
   * Encodes the replies at the front of `replies` that are ready, in order, and hands them to
   * the socket in one go; nothing is encoded once the socket `closed` or while the client is
   * `muted`. Returns true when one of them asked the connection to close after it (nothing after
   * it is answered; the queue is emptied).
   */
  send(replies: RequestQueue, closed: boolean, muted: boolean): boolean {
    const discard = closed || muted;
    let closeAfter = false;
    for (let request = replies.peek(); request?.value !== undefined; ) {
      replies.shift();
      if (!discard) this.writer.write(request.value, request.protocol);
      if (request.close) {
        closeAfter = true;
        replies.clear();
        break;
      }
      request = replies.peek();
    }
    // Corked by the pump: the parts go in one write.
    const parts = this.writer.take();
    if (parts.length === 0 || closed || !this.socket.writable) return closeAfter;
    let ok = true;
    for (const part of parts) ok = this.socket.write(part);
    if (!ok) this.blocked = true;
    return closeAfter;
  }
}
