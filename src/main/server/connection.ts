// Owns one client connection: parse requests, start them in order (reads alongside reads, writes
// alongside writes, EXEC alone, never a read overtaking an earlier write or the reverse), answer
// in request order however the work completes, and apply backpressure both ways.

import type { Socket } from 'node:net';
import { ClientSession, rawSocket, socketAddresses } from './client-session.js';
import type { CommandContext, ConnectionStore, ServerContext } from './command-context.js';
import { type CommandKind, waitsForInFlight } from './commands/command-spec.js';
import { heldByTransaction } from './commands/transactions/queueing.js';
import type { ConnectionInfo, ConnectionOptions } from './connection-options.js';
import { type Pumpable, pumpSoon } from './pump-queue.js';
import { ReplyOutput } from './reply-output.js';
import { Request, type RequestOwner } from './request.js';
import { answerWithoutRunning } from './request-gate.js';
import { RequestQueue } from './request-queue.js';
import { refusalAtLookup } from './request-refusal.js';
import { RespParser, RespProtocolError } from './resp-parser.js';
import { error, type RespValue } from './resp-value.js';
import type { ThreadReturn } from './thread-return.js';

/**
 * One client. Main thread. Created by the server for each accepted socket; it owns the socket
 * from then on and tells the server when it closes (`onClose`).
 */
export class Connection implements RequestOwner, Pumpable {
  readonly session: ClientSession;
  private readonly parser: RespParser;
  private readonly output: ReplyOutput;
  readonly context: CommandContext;
  /** Every request whose reply is owed, in order; and those not started yet. */
  private readonly replies = new RequestQueue();
  private readonly waiting = new RequestQueue();
  /** Requests started whose promise has not settled, all of kind `phase`. */
  private inFlight = 0;
  private phase: CommandKind = 'none';
  /** Parsing stopped at a limit while complete requests may still be buffered. */
  private inputStalled = false;
  /** Parsing stopped at a plain GET until the write in flight settles (`holdsForPlainGets`). */
  private heldForPlainGets = false;
  /** No more requests are parsed (QUIT, protocol error, shutdown, socket gone). */
  private stopReading = false;
  private closed = false;
  /** `end()` was called: the socket drains its replies, then closes. */
  private ending = false;
  private pumping = false;
  private pumpScheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly socket: Socket,
    id: number,
    private readonly server: ServerContext,
    private readonly store: ConnectionStore,
    private readonly options: ConnectionOptions,
    private readonly onClose: (connection: Connection) => void,
    carried?: ClientSession, // its session on a network thread, when it comes back from one
    /** Counts what a client handed back sends, to move it to a thread again (thread-return.ts). */
    private readonly returning?: ThreadReturn,
  ) {
    const { address, local } = socketAddresses(socket, server.settings.unixPath);
    this.session = new ClientSession(id, address, server.settings.passwordRequired, local, carried);
    this.parser = new RespParser(options.parserLimits);
    this.output = new ReplyOutput(socket, () => {
      // A return that was due waited for these replies to be sent.
      if (this.returning?.due === true) this.returnToThread(this.returning);
    });
    this.parser.unauthenticated = !this.session.authenticated;
    this.context = { store, client: this.session, server };
    this.session.raw = rawSocket(socket, () => this.closed);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.output.blocked = false;
      this.pump();
    });
    socket.on('error', (err: Error) =>
      server.log.debug({ err, client: id }, 'client socket error'),
    );
    socket.on('close', () => this.handleClose());
    if (options.idleTimeoutMs > 0) {
      socket.setTimeout(options.idleTimeoutMs);
      socket.on('timeout', () => {
        server.log.info(
          { client: id, address, idleMs: options.idleTimeoutMs },
          'closing idle client',
        );
        socket.destroy();
      });
    }
  }

  /** Counts and state, for INFO and tests. */
  info(): ConnectionInfo {
    return {
      id: this.session.id,
      address: this.session.address,
      name: this.session.name,
      thread: this.session.ioThread,
      pendingReplies: this.replies.size,
      inFlight: this.inFlight,
      paused: this.socket.isPaused(),
      outputBlocked: this.output.blocked,
      outputBytes: this.socket.writableLength,
      inputBytes: this.parser.bufferedBytes,
      inputBufferBytes: this.parser.retainedBytes,
    };
  }

  /**
   * Graceful shutdown, first half: reads no more requests and resolves once every request
   * already parsed has been answered (its reply handed to the socket).
   */
  drain(): Promise<void> {
    this.stopReading = true;
    this.updateReading();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.notifyIdle();
    });
  }

  /**
   * Graceful shutdown, second half (also QUIT and protocol errors): ends the socket once its
   * queued replies are sent. Incoming bytes are read and dropped from now on, so the peer's
   * FIN is seen and the socket closes.
   */
  end(): void {
    this.stopReading = true;
    this.ending = true;
    if (this.closed) return;
    this.socket.end();
    this.socket.resume();
  }

  /** Closes the socket at once. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Whether the socket has closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  private onData(chunk: Buffer): void {
    if (this.stopReading) return;
    const returning = this.returning;
    returning?.readStarts();
    this.parser.push(chunk);
    this.pump();
    returning?.readEnds();
    if (returning?.due === true) this.returnToThread(returning);
  }

  /** Moves the client to a network thread (thread-return.ts) if every request is answered. */
  private returnToThread(returning: ThreadReturn): void {
    const answered = this.isIdle() && this.replies.size === 0 && !this.output.corked;
    const reading = !this.stopReading && !this.inputStalled && !this.heldForPlainGets;
    if (!answered || !reading || this.closed) return;
    if (!returning.moveIfFree(this.socket, this.session, this.parser)) return;
    this.stopReading = true; // its socket is destroyed; its fd's copy lives on there
    this.parser.release();
    this.onClose(this);
  }

  /** Parses what it may, starts what it can, sends what is ready, and pauses or resumes. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    const clock = this.server.commandStats.burstClock;
    clock.forget();
    // The pump's replies go to the kernel in one write (`holdsReplies`: or later, with more).
    this.output.startPump();
    try {
      do {
        // Replies first: answering frees room under maxPendingReplies for more requests.
        this.writeReplies();
        this.parseRequests();
        this.startWaiting();
        this.writeReplies();
        // Requests that answered at once (PING, errors) may have freed room again.
      } while (this.inputStalled && this.canParse());
      this.updateReading();
      this.notifyIdle();
    } finally {
      this.output.endPump(this.holdsReplies());
      clock.forget();
      this.pumping = false;
    }
    // Its last requests, in flight at the end of the read that made its return due, are answered.
    if (this.returning?.due === true) this.returnToThread(this.returning);
  }

  /** Whether the pump's replies stay corked: while writes, not reads or WAIT, are in flight. */
  private holdsReplies(): boolean {
    return this.output.holdsWhile(this.inFlight > 0 && this.phase === 'write', this.closed);
  }

  /** Whether parsing may go on: reading, output not blocked, room under maxPendingReplies. */
  private canParse(): boolean {
    return (
      !this.stopReading &&
      !this.heldForPlainGets &&
      !this.output.blocked &&
      this.replies.size < this.options.maxPendingReplies
    );
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // After the current microtasks: the replies that settle together are sent together.
    pumpSoon(this);
  }

  /** The pump `schedulePump` asked for (`pumpSoon`). */
  runScheduledPump(): void {
    this.pumpScheduled = false;
    this.pump();
  }

  private parseRequests(): void {
    this.heldForPlainGets = false;
    while (!this.stopReading) {
      if (this.output.blocked || this.replies.size >= this.options.maxPendingReplies) {
        this.inputStalled = true;
        return;
      }
      if (this.answerPlainGets()) continue;
      if (this.holdsForPlainGets()) {
        this.heldForPlainGets = true;
        return;
      }
      let args: Buffer[] | undefined;
      try {
        args = this.parser.next();
      } catch (cause) {
        if (!(cause instanceof RespProtocolError)) throw cause;
        this.protocolError(cause);
        return;
      }
      this.inputStalled = false;
      if (args === undefined) return;
      this.dispatch(args);
    }
  }

  /**
   * Answers the plain GETs next in the input at once (plain-gets.ts) when nothing else is owed
   * to the client: returns whether it answered any.
   */
  private answerPlainGets(): boolean {
    const owes = this.replies.size > 0 || this.waiting.size > 0 || this.inFlight !== 0;
    const answered = owes
      ? 0
      : (this.server.plainGets?.answerNext(this.parser, this.output.writer, this.session) ?? 0);
    if (answered === 0) return false;
    this.returning?.answeredGets(answered);
    this.writeReplies();
    return true;
  }

  /**
   * Whether the next request, a plain GET, waits unparsed (reading paused) until the write in
   * flight settles: parsed now, it would wait anyway, on the general path; then the plain-GET
   * path answers it.
   */
  private holdsForPlainGets(): boolean {
    return (
      this.inFlight > 0 &&
      (this.phase === 'write' || this.phase === 'exclusive') &&
      this.server.plainGets?.startsNext(this.parser, this.session) === true
    );
  }

  private dispatch(args: Buffer[]): void {
    this.server.counters.commandsProcessed++;
    const spec = this.server.commandLookup.find(args[0]!);
    this.returning?.parsed(spec);
    const early = refusalAtLookup(this.server.commandStats, spec, args);
    const request = new Request(this, args, spec, early, this.session.protocol);
    this.replies.push(request);
    this.waiting.push(request);
    // Start at once when possible: a pipelined AUTH must run before the next request is parsed
    // with the stricter pre-AUTH limits.
    this.startWaiting();
  }

  /** Starts waiting requests in order while each is compatible with what is in flight. */
  private startWaiting(): void {
    while (this.waiting.size > 0 && !this.session.closeRequested) {
      const request = this.waiting.peek()!;
      // A request the open transaction takes (queued or refused) touches no store.
      const held = request.early !== undefined || heldByTransaction(this.session, request.spec);
      const kind = held || !request.spec ? 'none' : request.spec.kind;
      if (waitsForInFlight(kind, this.phase, this.inFlight)) break;
      this.waiting.shift();
      this.start(request, kind);
    }
  }

  private start(request: Request, kind: CommandKind): void {
    const answered = answerWithoutRunning(request, this.session, this.server);
    if (answered !== undefined || request.spec === undefined) {
      this.answer(request, answered);
      return;
    }
    if (request.isDirect) {
      // Counted in flight first: the store may answer it at once (`settle`).
      this.inFlight++;
      this.phase = kind;
      request.startDirect(this.store);
      return;
    }
    if (request.run()) {
      this.inFlight++;
      this.phase = kind;
    }
    this.parser.unauthenticated = !this.session.authenticated;
    if (this.session.closeRequested) {
      request.close = true;
      this.stopReading = true;
    }
  }

  /** Answers a request that ran no handler (in the protocol the session speaks now). */
  private answer(request: Request, value: RespValue | undefined): void {
    request.value = value;
    request.protocol = this.session.protocol;
  }

  /** A request's store work finished (its promise, or the store calling it as a target). */
  settle(request: Request, value: RespValue): void {
    request.finish(value);
    this.inFlight--;
    this.schedulePump();
  }

  /** Encodes the replies that are ready, in order, and hands them to the socket in one go. */
  private writeReplies(): void {
    if (this.output.send(this.replies, this.closed, this.session.muted)) this.end();
  }

  /** Reads while nothing holds it back: limits, a full socket buffer, or the end of reading. */
  private updateReading(): void {
    if (this.closed || this.ending) return;
    const read =
      !this.stopReading && !this.output.blocked && !this.inputStalled && !this.heldForPlainGets;
    if (read && this.socket.isPaused()) this.socket.resume();
    else if (!read && !this.socket.isPaused()) this.socket.pause();
  }

  private protocolError(cause: RespProtocolError): void {
    this.server.counters.protocolErrors++;
    this.server.log.info(
      { client: this.session.id, address: this.session.address, reason: cause.message },
      'protocol error; closing the connection',
    );
    this.stopReading = true;
    this.parser.release(); // nothing more is parsed: the unfinished request is dropped
    // Queued behind the replies still owed, like any other reply.
    const reply = error(`ERR Protocol error: ${cause.message}`);
    this.replies.push(Request.closing(this, reply, this.session.protocol));
  }

  /** Nothing in flight, nothing startable waiting, and every settled reply handed to the socket. */
  private isIdle(): boolean {
    return (
      this.inFlight === 0 &&
      !this.pumpScheduled &&
      (this.waiting.size === 0 || this.session.closeRequested)
    );
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private handleClose(): void {
    this.closed = true;
    this.stopReading = true;
    // Gone now, not when this object is collected (requests in flight still reference it).
    this.parser.release();
    this.onClose(this);
    this.notifyIdle();
    for (const hook of this.session.closeHooks.splice(0)) hook();
  }
}
