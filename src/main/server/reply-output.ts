// Owns what a connection sends: its replies encoded in request order, handed to the socket
// corked and sent in one write at the turn's end (turn-end-sends.ts), held back while the
// connection's writes are in flight, and the socket's backpressure (a write the socket could not
// take blocks output until 'drain').

import type { Socket } from 'node:net';
import type { RequestQueue } from './request-queue.js';
import { RespWriter } from './resp-writer.js';
import { TurnEndCork } from './turn-end-sends.js';

/** Reply bytes a connection holds back while its writes are in flight (`holdsWhile`). */
const HELD_REPLY_BYTES = 64 * 1024;

/** One connection's outgoing side. Main thread. */
export class ReplyOutput {
  /** Encodes replies; the plain-GET path writes into it too. */
  readonly writer = new RespWriter();
  /** The socket did not take the last write: nothing more is parsed until it drains. */
  blocked = false;
  /** Its socket, corked by a pump until the turn's end, or held so since (`holdsWhile`). */
  private readonly cork: TurnEndCork;
  /** The last pump's replies are to be sent at the turn's end (not held). */
  private sendDue = false;

  constructor(
    private readonly socket: Socket,
    /** Called once its replies went to the socket at a turn's end. */
    onSent: () => void,
  ) {
    this.cork = new TurnEndCork(socket, () => !this.sendDue, onSent);
  }

  /** Whether replies written wait in the socket (for the turn's end, or held). */
  get corked(): boolean {
    return this.cork.corked;
  }

  /** A pump starts: its replies go to the kernel in one write (or later, with more). */
  startPump(): void {
    this.cork.cork();
  }

  /** A pump ends: its replies go at the turn's end, with the turn's others, unless held (`holdsWhile`). */
  endPump(hold: boolean): void {
    this.sendDue = !hold;
    if (!hold) this.cork.release();
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
