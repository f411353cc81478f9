// Owns when a thread's answered replies reach the kernel: together, at the end of the event
// loop's turn (its check phase, after every I/O callback of the turn ran), not each as its
// connection finishes. A turn answers many connections, one I/O callback each; a reply written at
// once wakes a client that waits for it, which takes it, asks again and sleeps, so the next
// reply wakes it again: a wake-up per reply, paid by the server's write (on a VM, an interrupt to
// the other vCPU). Written together, the first wakes the client and the rest find it awake.
// Measured in bench/ANALYSIS.md, "Replies sent at the turn's end".

import type { Socket } from 'node:net';
import { RunQueue } from './run-queue.js';

/** A connection whose replies wait, corked, for the turn's end. */
export interface TurnEndSender {
  /** Hands its corked replies to the kernel now, unless it holds them for more. */
  sendCorked(): void;
}

/** Senders due at this turn's end, in the order they asked, sent from one `setImmediate`. */
const due = new RunQueue<TurnEndSender>(
  (run) => setImmediate(run),
  (sender) => sender.sendCorked(),
);

/**
 * Has `sender.sendCorked()` run at the end of this turn, with every other sender that asks
 * before then (or while they are sent). The caller asks once a turn (a sender listed twice is
 * sent twice).
 */
export function sendAtTurnEnd(sender: TurnEndSender): void {
  due.add(sender);
}

/**
 * A socket corked while replies are written to it and uncorked at the turn's end, unless its
 * owner holds the replies then (`holds`: they go later with more, in one write).
 */
export class TurnEndCork implements TurnEndSender {
  /** The socket is corked: replies written since `cork` wait (for the turn's end, or held). */
  corked = false;
  /** It is listed for the turn's end. */
  private listed = false;

  constructor(
    private readonly socket: Socket,
    /** Whether the replies stay corked past the turn's end (asked then). */
    private readonly holds: () => boolean,
    /** Called after its replies went to the socket at a turn's end. */
    private readonly onSent?: () => void,
  ) {}

  /** Replies written from now on wait. */
  cork(): void {
    if (this.corked) return;
    this.socket.cork();
    this.corked = true;
  }

  /** The replies written so far go at the turn's end (unless held then). */
  release(): void {
    if (!this.corked || this.listed) return;
    this.listed = true;
    sendAtTurnEnd(this);
  }

  sendCorked(): void {
    this.listed = false;
    if (!this.corked || this.holds()) return;
    this.corked = false;
    this.socket.uncork();
    this.onSent?.();
  }
}
