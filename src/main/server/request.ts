// Owns one request of a connection from parsing to its reply: its arguments and command, running
// it (its command's direct form or its handler), the reply once known, the protocol and close
// flag it is answered with, and its INFO commandstats timing. A request is also the store's read
// or write target for the commands the connection serves directly (GET, plain SET), so those
// cost no promise or closure per request.

import type { ReadTarget } from '../read-queue.js';
import type { WriteTarget } from '../write-queue.js';
import type { CommandContext, ConnectionStore } from './command-context.js';
import { type CommandCounters, countCall } from './command-stats.js';
import { errorReply } from './commands/arguments.js';
import type { CommandSpec, DirectForm } from './commands/command-spec.js';
import { OK, type RespValue } from './resp-value.js';
import type { RespProtocol } from './resp-writer.js';

/**
 * `spec`'s handler's reply to `args`, or the promise of it; an error it throws becomes its error
 * reply (a promise's rejection is the caller's to turn into one).
 */
export function callHandler(
  spec: CommandSpec,
  context: CommandContext,
  args: readonly Buffer[],
): RespValue | Promise<RespValue> {
  try {
    return spec.handler(context, args);
  } catch (cause) {
    return errorReply(cause, context.server.log);
  }
}

/** What a request reports its outcome to: its connection. */
export interface RequestOwner {
  readonly context: CommandContext;
  /** The request's store work finished with `value` as its reply. */
  settle(request: Request, value: RespValue): void;
}

type DirectRead = Extract<DirectForm, { kind: 'read' }>;

/** Arguments of a reply that answers no request (a protocol error). */
const NO_ARGS: Buffer[] = [];

/** One request, in request order. Main thread. `value` stays undefined until it completes. */
export class Request implements ReadTarget, WriteTarget {
  value: RespValue | undefined = undefined;
  close = false;
  /** INFO commandstats: the running command's counters and when it started (async replies). */
  counters: CommandCounters | undefined = undefined;
  startedAt = 0;
  /** Whether `startedAt` is a BurstClock reading (a direct GET or SET), so its end is too. */
  burstTimed = false;

  constructor(
    private readonly owner: RequestOwner,
    /** Its arguments, the command name first. */
    readonly args: Buffer[],
    readonly spec: CommandSpec | undefined,
    /** Its reply if it cannot run at all (unknown command, wrong arity). */
    readonly early: RespValue | undefined,
    public protocol: RespProtocol,
  ) {}

  /** A reply queued in order that answers no request (a protocol error, then close). */
  static closing(owner: RequestOwner, reply: RespValue, protocol: RespProtocol): Request {
    const request = new Request(owner, NO_ARGS, undefined, undefined, protocol);
    request.value = reply;
    request.close = true;
    return request;
  }

  /** Whether its command's direct form serves it (GET, plain SET): `startDirect`, not `run`. */
  get isDirect(): boolean {
    const direct = this.spec?.direct;
    return direct !== undefined && (direct.kind === 'read' || direct.applies(this.args));
  }

  /**
   * Starts a request its command's direct form serves (`isDirect`): the store answers the
   * request itself, as its target (through the owner's `settle`, which calls `finish`); it may
   * do so at once.
   */
  startDirect(store: ConnectionStore): void {
    const context = this.owner.context;
    const stats = context.server.commandStats;
    // No handler runs, so nothing about the session changes.
    this.protocol = context.client.protocol;
    this.counters = stats.of(this.spec!.name);
    // Answered in a later burst (the store's batch): timed by bursts, like its end.
    this.startedAt = stats.burstClock.now();
    this.burstTimed = true;
    if (this.spec!.direct!.kind === 'read') store.getFor(this);
    else store.setFor(this, this.args[1]!, this.args[2]!);
  }

  /**
   * Runs its command's handler. Returns true if its reply comes later (through the owner's
   * `settle`, which calls `finish`), false if it has it now (`value`, counted). The reply is in
   * the protocol the session speaks after the handler (HELLO 3 answers in RESP3).
   */
  run(): boolean {
    const spec = this.spec!;
    const context = this.owner.context;
    const counters = context.server.commandStats.of(spec.name);
    const startedAt = performance.now();
    const result = callHandler(spec, context, this.args);
    this.protocol = context.client.protocol;
    if (!(result instanceof Promise)) {
      this.value = result;
      countCall(counters, startedAt, result);
      return false;
    }
    this.counters = counters;
    this.startedAt = startedAt;
    result.then(
      (value) => this.owner.settle(this, value),
      (cause: unknown) => this.owner.settle(this, errorReply(cause, context.server.log)),
    );
    return true;
  }

  /** Takes the reply of a request whose reply came later (`start`), counted. */
  finish(value: RespValue): void {
    this.value = value;
    const counters = this.counters;
    if (counters === undefined) return;
    const clock = this.owner.context.server.commandStats.burstClock;
    countCall(counters, this.startedAt, value, this.burstTimed ? clock.now() : performance.now());
  }

  /** The key a direct read reads (GET key). */
  get readKey(): Buffer {
    return this.args[1]!;
  }

  /** Only for a request started as a direct read: its spec's `direct` is a `read` form. */
  readDone(value: Buffer | undefined): void {
    const direct = this.spec!.direct as DirectRead;
    this.owner.settle(this, direct.reply(this.owner.context, value));
  }

  readFailed(error: unknown): void {
    this.owner.settle(this, errorReply(error, this.owner.context.server.log));
  }

  writeDone(): void {
    this.owner.settle(this, OK);
  }

  writeFailed(error: unknown): void {
    this.owner.settle(this, errorReply(error, this.owner.context.server.log));
  }
}
