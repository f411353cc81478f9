// Owns the messages between a parent's RemoteStore (ipc-client.ts) and the kvd child process
// (ipc-child.ts): one request per Store call, one reply per request, matched by id. Both sides
// import these types; nothing else defines an IPC message shape.

import type {
  BackupOptions,
  BackupResult,
  BatchOp,
  Bytes,
  CompactionResult,
  ExpireCondition,
  SerializedError,
  SetOptions,
  SetWithOptions,
  StoreOptions,
  StoreStats,
} from '../index.js';

/** What the child is told at start, as JSON in its one argv argument: where and how to open. */
export interface IpcChildConfig {
  readonly dir: string;
  readonly options: StoreOptions;
}

/**
 * The id of the child's first reply, which answers the open it was started with (success, or
 * the `KvError` of `Store.open`). Requests from the parent count from 1.
 */
export const IPC_OPEN_ID = 0;

/** Each operation's arguments, as the parent's `Store` call received them. */
export interface IpcArgs {
  set: { readonly key: Bytes; readonly value: Bytes; readonly options?: SetOptions | undefined };
  get: { readonly key: Bytes };
  getMany: { readonly keys: readonly Bytes[] };
  has: { readonly key: Bytes };
  delete: { readonly key: Bytes };
  batch: { readonly ops: readonly BatchOp[] };
  incrBy: { readonly key: Bytes; readonly delta: number | bigint };
  append: { readonly key: Bytes; readonly value: Bytes };
  setWith: { readonly key: Bytes; readonly value: Bytes; readonly options: SetWithOptions };
  getDelete: { readonly key: Bytes };
  expire: {
    readonly key: Bytes;
    readonly expiresAt: number;
    readonly condition?: ExpireCondition | readonly ExpireCondition[] | undefined;
  };
  persist: { readonly key: Bytes };
  keys: Record<never, never>;
  clear: Record<never, never>;
  flush: Record<never, never>;
  stats: Record<never, never>;
  compact: Record<never, never>;
  backup: { readonly dir: string; readonly options?: BackupOptions | undefined };
  /** Closes the store (flush, sync, unlock); the child exits once this is answered. */
  close: Record<never, never>;
}

/**
 * Each operation's result as it arrives in the parent. Structured clone turns a `Buffer` into a
 * `Buffer` or a plain `Uint8Array` depending on the Node version; the client rebuilds Buffers.
 */
export interface IpcResults {
  set: undefined;
  get: Uint8Array | undefined;
  getMany: (Uint8Array | undefined)[];
  has: boolean;
  delete: boolean;
  batch: undefined;
  incrBy: bigint;
  append: number;
  setWith: { readonly written: boolean; readonly previous: Uint8Array | undefined };
  getDelete: Uint8Array | undefined;
  expire: boolean;
  persist: boolean;
  keys: Uint8Array[];
  clear: number;
  flush: undefined;
  stats: StoreStats;
  compact: CompactionResult;
  backup: BackupResult;
  close: undefined;
}

/** An operation name. */
export type IpcOp = keyof IpcArgs;

/** A request from the parent: `{ id, op, ...args }`, discriminated by `op`. */
export type IpcRequest<Op extends IpcOp = IpcOp> = {
  [O in Op]: { readonly id: number; readonly op: O } & IpcArgs[O];
}[Op];

/** The child's answer to request `id` (or to the open, `IPC_OPEN_ID`). */
export type IpcReply =
  | { readonly id: number; readonly ok: true; readonly value: IpcResults[IpcOp] }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };
