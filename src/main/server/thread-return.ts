// Owns when a client that a network thread handed to the main thread goes back to a network
// thread: once it pipelines the thread's reads again (RETURN_READS reads in a row that each
// brought two requests or more, most of them commands a thread answers), and nothing of it is
// left that only the main thread holds (`staysOnMainThread`). Without it, a client handed back
// once (for waiting on each reply, or for one MULTI, WATCH or SUBSCRIBE) stayed on the main
// thread for good, and a long-lived daemon drifted towards one thread. connection.ts counts and
// asks; network-threads.ts moves the socket.

import type { Socket } from 'node:net';
import { THREAD_COMMANDS } from '../../shared/network-messages.js';
import type { ClientSession } from './client-session.js';
import type { CommandSpec } from './commands/command-spec.js';
import type { RespParser } from './resp-parser.js';

/**
 * Reads in a row, each of two requests or more and mostly the thread's commands, after which a
 * client handed back goes to a network thread again. Doubled at each return after the first
 * (up to RETURN_READS << MAX_DOUBLINGS), so a client whose habits alternate moves less and less
 * often: each move costs a copy of its fd and two thread messages.
 */
export const RETURN_READS = 16;
const MAX_DOUBLINGS = 6;

const THREAD_COMMAND_NAMES: ReadonlySet<string> = new Set(THREAD_COMMANDS);

/** Moves a main-thread client's socket to a network thread; false if it cannot (nothing changed). */
export type MoveToThread = (socket: Socket, session: ClientSession, bytes: Buffer) => boolean;

/** What one returnable client has been sending. Main thread; one per connection. */
export class ThreadReturn {
  /** Requests the current read brought, and of them those a network thread does not answer. */
  private requests = 0;
  private forMain = 0;
  /** Reads in a row that brought two requests or more, most of them the thread's. */
  private pipelinedReads = 0;
  private readonly readsNeeded: number;
  /** Between `readStarts` and `readEnds`. */
  private reading = false;

  constructor(
    /** How often the client went back to a thread before (`ClientSession.threadReturns`). */
    returns: number,
    private readonly move: MoveToThread,
  ) {
    this.readsNeeded = RETURN_READS << Math.min(returns, MAX_DOUBLINGS);
  }

  /**
   * A read's bytes are about to be parsed: the read before is counted, with every request
   * parsed since it came (a pump after its write settled may parse the rest of its bytes). A
   * read of two requests or more, most of them the thread's, adds one; a read of one request,
   * or of mostly requests the main thread runs, starts the count again; a read that completed
   * no request does not count.
   */
  readStarts(): void {
    if (this.requests > 0) {
      this.pipelinedReads = this.pipelines() ? this.pipelinedReads + 1 : 0;
      this.requests = 0;
      this.forMain = 0;
    }
    this.reading = true;
  }

  /** A request was parsed (`spec` undefined: an unknown command). */
  parsed(spec: CommandSpec | undefined): void {
    this.requests++;
    if (spec === undefined || !THREAD_COMMAND_NAMES.has(spec.name)) this.forMain++;
  }

  /** `count` plain GETs were answered (a network thread's commands). */
  answeredGets(count: number): void {
    this.requests += count;
  }

  /** The read's bytes are parsed, as far as they can be now. */
  readEnds(): void {
    this.reading = false;
  }

  /**
   * Whether the client pipelines the thread's reads: RETURN_READS reads in a row (doubled by its
   * returns), the last one's requests so far included, and not in the middle of a read. It goes
   * once nothing of it is left on the main thread (its last requests may still be in flight or
   * unparsed at the end of the read that made it due).
   */
  get due(): boolean {
    if (this.reading) return false;
    if (this.requests === 0) return this.pipelinedReads >= this.readsNeeded;
    return this.pipelines() && this.pipelinedReads + 1 >= this.readsNeeded;
  }

  /** Whether the requests of the current read so far are two or more, most of them the thread's. */
  private pipelines(): boolean {
    return this.requests >= 2 && this.forMain * 2 < this.requests;
  }

  /**
   * Moves the client, whose every request is answered, to a network thread with the bytes it
   * sent that are not parsed yet, if nothing of it is left here: every reply taken by the kernel,
   * nothing read into its socket's buffer, no request half parsed, nothing only the main thread
   * serves (`staysOnMainThread`). Returns whether it moved (its socket is then destroyed).
   */
  moveIfFree(socket: Socket, session: ClientSession, parser: RespParser): boolean {
    const rest = parser.restBetweenRequests;
    const unsent = socket.writableLength > 0 || socket.readableLength > 0;
    if (rest === undefined || unsent || staysOnMainThread(session)) return false;
    return this.move(socket, session, rest);
  }
}

/**
 * Whether `session` holds something only the main thread serves, so it may not move to a network
 * thread: AUTH still owed, a transaction or watched keys, subscriptions, a replication link, or
 * a close asked for.
 */
export function staysOnMainThread(session: ClientSession): boolean {
  const subscriptions = session.subscriptions;
  return (
    !session.authenticated ||
    session.muted ||
    session.isMaster ||
    session.closeRequested ||
    session.transaction.open ||
    session.transaction.watchedCount > 0 ||
    (subscriptions !== undefined && subscriptions.channels.size + subscriptions.patterns.size > 0)
  );
}
