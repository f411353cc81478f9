// Owns one request of a connection from parsing to its reply: its arguments and command, the
// reply once known, the protocol and close flag it is answered with, and its INFO commandstats
// timing. A request is also the store's read or write target for the commands the connection
// serves directly (GET, plain SET), so those cost no promise or closure per request.

import type { ReadTarget } from '../read-queue.js';
import type { WriteTarget } from '../write-queue.js';
import type { CommandContext } from './command-context.js';
import type { CommandCounters } from './command-stats.js';
import { errorReply } from './commands/arguments.js';
import type { CommandSpec, DirectForm } from './commands/command-spec.js';
import { OK, type RespValue } from './resp-value.js';
import type { RespProtocol } from './resp-writer.js';

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
