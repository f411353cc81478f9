// Owns the shape of one entry of the command table: name, arity (Redis convention), flags, how
// it orders against other commands of the same connection, key positions, and the handler.

import type { CommandContext } from '../command-context.js';
import type { RespValue } from '../resp-value.js';

/**
 * How a command is ordered against the other commands of its connection:
 * - `read`: reads the store; runs alongside other reads, after every earlier write has settled;
 * - `write`: writes the store; runs alongside other writes (one group commit), after every
 *   earlier read has settled, so a pipelined GET never sees a later SET;
 * - `exclusive`: reads, then writes from what it read (EXEC, RENAME, SETRANGE, …); runs alone,
 *   after every earlier request has settled, and no later `read`, `write` or `exclusive`
 *   request starts before it settles;
 * - `none`: touches only the session or server state; runs as soon as its turn comes.
 */
export type CommandKind = 'read' | 'write' | 'exclusive' | 'none';

/**
 * Handles one request. `args[0]` is the command name as sent. Returns the reply, or a promise
 * of it; a thrown or rejected error becomes an error reply (`KvError`: `-CODE message`).
 */
export type CommandHandler = (
  ctx: CommandContext,
  args: readonly Buffer[],
) => RespValue | Promise<RespValue>;

/**
 * A form of a command the connection serves without a promise per request, handing the request
 * itself to the store as the read's or the write's target (the hottest commands):
 * - `read`: reads the key `args[1]` (`Store.getFor`); `reply` turns the value into the reply;
 * - `put`: when `applies(args)`, stores `args[2]` under `args[1]` with no expiry
 *   (`Store.setFor`) and answers +OK.
 * Everything else about the command (EXEC, MULTI queueing) still goes through `handler`,
 * which must give the same replies.
 */
export type DirectForm =
  | {
      readonly kind: 'read';
      reply(ctx: CommandContext, value: Buffer | undefined): RespValue;
    }
  | { readonly kind: 'put'; applies(args: readonly Buffer[]): boolean };

/** One command of the table. */
export interface CommandSpec {
  /** Lower-case name. */
  readonly name: string;
  /** Argument count including the name; negative: at least that many (Redis convention). */
  readonly arity: number;
  /** Flags as COMMAND reports them (`write`, `readonly`, `fast`, `no-auth`, …). */
  readonly flags: readonly string[];
  readonly kind: CommandKind;
  /** First key, last key (-1: the last argument) and step, as COMMAND reports them; 0 0 0: no keys. */
  readonly keys: readonly [first: number, last: number, step: number];
  readonly handler: CommandHandler;
  /** Served without a promise per request when present (GET, plain SET). */
  readonly direct?: DirectForm;
  /**
   * A container's subcommands (CLIENT, CONFIG, COMMAND, OBJECT), lower case, each with its arity
   * (the container and the subcommand counted). The connection refuses an unknown subcommand or
   * a wrong arity before the command runs or is queued (`subcommandRefusal`), as Redis does, so
   * such a request inside MULTI fails the transaction.
   */
  readonly subcommands?: ReadonlyMap<string, number>;
  /** One line on what it does, for COMMAND DOCS (a generic line when absent). */
  readonly summary?: string;
}

/**
 * Whether a request of `kind` must wait for the `inFlight` requests of its connection, all of
 * kind `phase`, to settle before it starts (the order `CommandKind` describes).
 */
export function waitsForInFlight(kind: CommandKind, phase: CommandKind, inFlight: number): boolean {
  return kind !== 'none' && inFlight > 0 && (kind !== phase || kind === 'exclusive');
}

/** No key positions. */
export const NO_KEYS = [0, 0, 0] as const;

/** Whether `argc` arguments (name included) satisfy `arity`. */
export function arityAllows(arity: number, argc: number): boolean {
  return arity >= 0 ? argc === arity : argc >= -arity;
}
