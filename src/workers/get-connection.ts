// Owns one client on a network thread: it answers the client's plain GETs and the read commands
// of thread-commands.ts (MGET, EXISTS, GETRANGE, TTL, …) from the shared index, in order, once the
// client is authenticated; sends any other request to the main thread with the complete ones
// that follow it (writes, AUTH, HELLO, SCAN, KEYS among them: remote-command.ts), reading nothing
// more until their replies are back; and hands the socket back to the main thread from the first
// request the main thread does not run for it (MULTI, SUBSCRIBE, QUIT, …), an inline request, a
// protocol error, or a GET whose read failed, with the bytes from there on, or once the client
// mostly writes or waits for each reply (client-habits.ts). Replies already written are sent
// before the socket moves, so the client sees every reply in order. It reads on only as its
// socket drains.

import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { GetRun, writeGetReplies } from '../main/server/get-replies.js';
import { requestStart } from '../main/server/plain-gets.js';
import type { RespParserLimits } from '../main/server/resp-parser.js';
import { type RespProtocol, RespWriter } from '../main/server/resp-writer.js';
import { TurnEndCork } from '../main/server/turn-end-sends.js';
import { type GetRequestScan, SCAN_GET, SCAN_INCOMPLETE } from '../shared/get-request-scan.js';
import {
  REMOTE_BATCH_MAX_BYTES as BATCH_BYTES,
  REMOTE_BATCH_MAX_REQUESTS as BATCH_REQUESTS,
  type NetworkClientState,
} from '../shared/network-messages.js';
import type { RecordReader } from '../shared/record-reader.js';
import { ClientHabits } from './client-habits.js';
import { followingRequests, remoteRequest } from './remote-request.js';
import { COMMAND_GET, type ThreadCommands } from './thread-commands.js';

/** What a connection needs from its thread. */
export interface GetConnectionHost {
  readonly reader: RecordReader;
  /** Answers the commands of THREAD_COMMANDS but GET. */
  readonly commands: ThreadCommands;
  readonly scan: GetRequestScan;
  readonly idleTimeoutMs: number;
  /** The main thread's request limits. */
  readonly parserLimits: RespParserLimits;
  /**
   * Counts `calls` of the `command`th of THREAD_COMMANDS answered in `usec` microseconds, which
   * found `hits` keys and missed `misses`.
   */
  count(command: number, calls: number, hits: number, misses: number, usec: number): void;
  /**
   * Has the main thread run `requests` (each one's arguments) for the client, in order, up to the
   * first it does not run for a thread's client; their replies come to `ran`.
   */
  run(connection: GetConnection, requests: Buffer[][]): void;
  /**
   * Whether the machine's cores are busy (core-load.ts): a client that waits for each reply goes
   * to the main thread only then.
   */
  coresBusy(): boolean;
  /** The socket is to move: `bytes` is what the main thread must parse first. */
  handBack(connection: GetConnection, socket: Socket, bytes: Buffer): void;
  /** The socket closed here. */
  gone(connection: GetConnection): void;
}

/**
 * Reply bytes answered in one go before the connection looks at its socket again: it reads on
 * only once the kernel has taken what was written (the socket's 'drain'), so a client that
 * pipelines GETs and does not read its replies holds at most about this much (plus one value).
 */
export const REPLY_BUDGET_BYTES = 512 * 1024;

/** Reply bytes held back while requests are with the main thread, to go with their replies. */
const HELD_REPLY_BYTES = 64 * 1024;

/** One client of a network thread. Network thread only. */
export class GetConnection {
  /** Bytes read and not yet taken as a request (an unfinished GET). */
  private pending: Buffer | undefined;
  /** Writes not yet handed to the kernel; the socket moves only once this is 0. */
  private unflushed = 0;
  /** Set once the socket is to move (or the thread is closing): nothing more is read. */
  private leaving = false;
  private whenFlushed: (() => void) | undefined;
  /** Its socket, corked while it answers until the turn's end, or held so (`uncork`). */
  private readonly corking: TurnEndCork;
  /** Requests are with the main thread (`run`): nothing more is parsed until `ran`. */
  private awaitingMain = false;
  /** The bytes of the requests with the main thread, to hand back from any it does not run. */
  private sent: Buffer | undefined;
  /** Where each request with the main thread ends in `sent`. */
  private sentEnds: number[] = [];
  /** Replies wait for the socket to drain: nothing more is parsed until it has. */
  private blocked = false;
  /** A read threw while answering (the main thread answers that GET). */
  private readFailed = false;
  private readonly keys: Buffer[] = [];
  /** GET replies, encoded into the thread's reply slab (resp-writer.ts). */
  private readonly replies = new RespWriter();
  private readonly run = new GetRun();
  /** What it has been sending: when the main thread would serve it better. */
  private readonly habits = new ClientHabits();

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly host: GetConnectionHost,
    /** Whether the client may read: false until AUTH succeeds when a password is required. */
    private authenticated: boolean,
    /** The protocol the client speaks: RESP2 until a HELLO 3 (run by the main thread). */
    private protocol: RespProtocol = 2,
  ) {
    this.corking = new TurnEndCork(
      socket,
      () => this.awaitingMain && !this.leaving && socket.writableLength < HELD_REPLY_BYTES,
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => host.gone(this));
    if (host.idleTimeoutMs > 0) {
      socket.setTimeout(host.idleTimeoutMs);
      socket.on('timeout', () => socket.destroy());
    }
  }

  /** Whether it waits for its socket to drain before it reads on. */
  get waitingForDrain(): boolean {
    return this.blocked;
  }

  /** Reply bytes written and not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  /** Its state now, for `KvdServer.allClients`. */
  state(): NetworkClientState {
    const pending = this.pending;
    const waiting = this.awaitingMain ? this.sentEnds.length : 0;
    return {
      id: this.id,
      pendingReplies: waiting,
      inFlight: waiting,
      paused: this.socket.isPaused(),
      outputBlocked: this.blocked,
      outputBytes: this.socket.writableLength,
      inputBytes: pending?.length ?? 0,
      inputBufferBytes: pending?.buffer.byteLength ?? 0,
    };
  }

  /** Closes the socket at once (CLIENT KILL). */
  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Shutdown: answers nothing more, sends what was answered, then ends the socket. What the
   * client still sends is read and dropped, so its FIN is seen and the socket closes.
   */
  end(): void {
    this.leaving = true;
    this.whenFlushed = undefined;
    this.socket.end();
    this.socket.resume();
  }

  /**
   * The main thread's replies to the first `answered` requests `run` sent, and whether the client
   * is authenticated after them and in which protocol: the replies are sent on, and parsing goes
   * on; or, if it answered fewer than all, the client goes back to it from the next one on.
   */
  ran(reply: Buffer, answered: number, authenticated: boolean, protocol: RespProtocol): void {
    if (this.leaving) return;
    this.awaitingMain = false;
    const sent = this.sent!;
    const ends = this.sentEnds;
    this.sent = undefined;
    this.sentEnds = [];
    this.authenticated = authenticated;
    this.protocol = protocol;
    this.habits.ranByMainThread(answered);
    // Sent with the replies before it, held since, and of what follows (goOn), in one write.
    this.cork();
    try {
      this.ranOn(reply, answered, sent, ends);
    } finally {
      this.uncork();
    }
  }

  private cork(): void {
    this.corking.cork();
  }

  /**
   * What was written since `cork` goes at the turn's end with the thread's other replies, unless
   * requests are with the main thread then: the replies before them are held (up to
   * HELD_REPLY_BYTES) and go with theirs, in one write.
   */
  private uncork(): void {
    this.corking.release();
  }

  /** `ran`, with the socket corked. */
  private ranOn(reply: Buffer, answered: number, sent: Buffer, ends: readonly number[]): void {
    if (reply.length > 0) this.send(reply);
    if (answered < ends.length) {
      // The client goes to the main thread from the first request it did not run on.
      const from = sent.subarray(answered === 0 ? 0 : ends[answered - 1]);
      const rest = this.pending;
      this.pending = undefined;
      this.leave(rest === undefined ? from : Buffer.concat([from, rest]));
      return;
    }
    // A reply the socket has not taken (a large KEYS or SCAN) is sent before anything more is read.
    if (this.socket.writableNeedDrain) {
      const rest = this.pending;
      this.pending = undefined;
      this.waitForDrain(rest);
    } else this.goOn();
  }

  private onData(chunk: Buffer): void {
    if (this.leaving) return;
    const b = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    if (this.awaitingMain || this.blocked) {
      this.pending = b;
      return;
    }
    this.habits.readStarts();
    this.take(b);
    // A client that waits for each reply goes to the main thread while the cores are busy, once
    // nothing of it is left here.
    const lone = this.habits.readEnds();
    const idle = !this.leaving && !this.awaitingMain && !this.blocked && this.pending === undefined;
    if (lone && idle && this.host.coresBusy()) this.leave(Buffer.alloc(0));
  }

  /** Reads and parses on (after `ran` or 'drain'), unless something else still waits. */
  private goOn(): void {
    if (this.leaving || this.awaitingMain || this.blocked) return;
    this.socket.resume();
    const rest = this.pending;
    this.pending = undefined;
    if (rest !== undefined) this.take(rest);
  }

  /** Takes the requests in `b`, a reply budget at a time, until they wait or are all taken. */
  private take(b: Buffer): void {
    // Every reply written here goes to the kernel in one write, not one per run of requests.
    this.cork();
    try {
      for (let rest: Buffer | undefined = b; rest !== undefined; ) rest = this.takeSome(rest);
    } finally {
      this.uncork();
    }
  }

  /**
   * Answers the plain GETs at the start of `b` (none before AUTH: the main thread refuses them)
   * up to the reply budget, then decides what the rest needs. Returns the bytes to take at once
   * (the budget was reached and the socket took every reply), or undefined.
   */
  private takeSome(b: Buffer): Buffer | undefined {
    const scan = this.host.scan;
    const keys = this.keys;
    let p = 0;
    let outcome = SCAN_INCOMPLETE;
    while (p < b.length && this.authenticated) {
      outcome = scan.scan(b, p, b.length);
      if (outcome !== SCAN_GET) break;
      keys.push(b.subarray(scan.keyStart, scan.keyEnd));
      p = scan.next;
    }
    // A GET whose read threw, and what follows it, go to the main thread, which answers it
    // (with its error) as it would any client's.
    const answered = keys.length > 0 ? this.answer(keys) : 0;
    if (answered < keys.length) {
      const rest = this.requestsFrom(b, keys, answered);
      keys.length = 0;
      if (this.readFailed) this.leave(rest);
      else return this.socket.writableNeedDrain ? this.waitForDrain(rest) : rest;
      return undefined;
    }
    keys.length = 0;
    const rest = p < b.length ? b.subarray(p) : undefined;
    if (this.socket.writableNeedDrain) return this.waitForDrain(rest);
    if (rest === undefined) return undefined;
    const remote =
      outcome === SCAN_INCOMPLETE && this.authenticated
        ? 'incomplete'
        : remoteRequest(rest, this.host.parserLimits, !this.authenticated);
    if (remote === 'incomplete') this.pending = rest;
    else if (remote === undefined) this.leave(rest);
    else if (remote.local && this.answerHere(remote.args)) {
      const after = remote.length < rest.length ? rest.subarray(remote.length) : undefined;
      if (this.socket.writableNeedDrain) return this.waitForDrain(after);
      return after;
    } else if (this.habits.mostlyForMain) {
      this.leave(rest); // it mostly sends what the main thread runs: served there from here on
    } else {
      // Any other request, or a command of the thread's own that it did not answer (a wrong
      // arity, an argument it refuses, a read that threw), goes to the main thread, with the
      // complete requests after it (once authenticated: AUTH changes the parser's limits).
      const requests = [remote.args];
      const ends = [remote.length];
      if (this.authenticated && remote.length < rest.length) {
        const limits = this.host.parserLimits;
        followingRequests(rest, remote.length, limits, requests, ends, BATCH_REQUESTS, BATCH_BYTES);
      }
      const end = ends[ends.length - 1]!;
      this.awaitingMain = true;
      this.socket.pause();
      if (end < rest.length) this.pending = rest.subarray(end);
      this.sent = rest.subarray(0, end);
      this.sentEnds = ends;
      this.habits.sent(requests.length);
      this.host.run(this, requests);
    }
    return undefined;
  }

  /** Reads nothing more until the socket has drained; `rest` is taken then. */
  private waitForDrain(rest: Buffer | undefined): undefined {
    this.blocked = true;
    this.pending = rest;
    this.socket.pause();
    this.socket.once('drain', () => {
      this.blocked = false;
      this.goOn();
    });
    return undefined;
  }

  /**
   * Reads and answers `keys` in order, in one write; returns how many it answered: fewer than
   * all once the replies reach `REPLY_BUDGET_BYTES`, or when a read throws (damage or an I/O
   * error, which the main thread reports: `readFailed`).
   */
  private answer(keys: readonly Buffer[]): number {
    const started = performance.now();
    const run = this.run;
    writeGetReplies(this.host.reader, keys, this.replies, REPLY_BUDGET_BYTES, run, this.protocol);
    // A GET whose read threw is answered by the main thread, which reads it again.
    if (run.failed) this.readFailed = true;
    const done = run.answered;
    // Counted before the replies go: a client that has its reply sees it in INFO.
    const usec = (performance.now() - started) * 1000;
    this.host.count(COMMAND_GET, done, run.hits, done - run.hits, usec);
    this.habits.answered(done);
    for (const part of this.replies.take()) this.send(part);
    return done;
  }

  /**
   * Answers `args` (a command of thread-commands.ts) here; returns false, answering nothing, if
   * the main thread must (`ThreadCommands.answer`).
   */
  private answerHere(args: readonly Buffer[]): boolean {
    const started = performance.now();
    const name = args[0]!.toString('latin1').toLowerCase();
    const answer = this.host.commands.answer(name, args, this.protocol);
    if (answer === undefined) return false;
    const usec = (performance.now() - started) * 1000;
    this.host.count(answer.command, 1, answer.hits, answer.misses, usec);
    this.habits.answered(1);
    this.send(answer.reply);
    return true;
  }

  /** Writes `out`, counted until the kernel has it. */
  private send(out: Buffer): void {
    this.unflushed++;
    this.socket.write(out, () => {
      this.unflushed--;
      if (this.unflushed === 0) this.whenFlushed?.();
    });
  }

  /** The bytes of `b` from the request of the `from`th GET in `keys` (views into `b`) on. */
  private requestsFrom(b: Buffer, keys: readonly Buffer[], from: number): Buffer {
    return b.subarray(requestStart(b, keys[from]!));
  }

  /** Stops reading; once every reply is sent, hands the socket and `rest` to the thread. */
  private leave(rest: Buffer): void {
    this.leaving = true;
    this.socket.pause();
    const move = (): void => {
      if (this.socket.destroyed) return;
      // Bytes the stream read after the pause are the main thread's too.
      const later: Buffer[] = [];
      for (let chunk = this.socket.read() as Buffer | null; chunk !== null; ) {
        later.push(chunk);
        chunk = this.socket.read() as Buffer | null;
      }
      const bytes = later.length === 0 ? rest : Buffer.concat([rest, ...later]);
      this.host.handBack(this, this.socket, bytes);
    };
    if (this.unflushed === 0) move();
    else this.whenFlushed = move;
  }
}
