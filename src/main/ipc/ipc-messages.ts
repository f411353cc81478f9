// Owns the messages between a RemoteStore (ipc-client.ts) and the process that runs its Store:
// the kvd child (ipc-child.ts) or a process sharing its own store (ipc-share.ts). One request per
// Store call, one reply per request, matched by id. Nothing else defines an IPC message shape.

import type {
  BackupOptions,
  BackupResult,
  BatchOp,
  Bytes,
  CompactionResult,
  ExpireCondition,
  RangeOptions,
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
  /** One page of a range scan (at most `IPC_RANGE_PAGE` entries, from one snapshot). */
  range: { readonly options: RangeOptions };
  clear: Record<never, never>;
  flush: Record<never, never>;
  stats: Record<never, never>;
  compact: Record<never, never>;
  backup: { readonly dir: string; readonly options?: BackupOptions | undefined };
  /** The store's directory; the first request over a shared store's channel. */
  describe: Record<never, never>;
  /**
   * Closes the store (flush, sync, unlock); the child exits once this is answered. Over a shared
   * store's channel it only ends that caller's use: the store's owner closes the store.
   */
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
  range: { readonly key: Uint8Array; readonly value?: Uint8Array | undefined }[];
  clear: number;
  flush: undefined;
  stats: StoreStats;
  compact: CompactionResult;
  backup: BackupResult;
  /** `bytes` is `DESCRIBE_PROBE`: with `json` serialization it would arrive as a plain object. */
  describe: { readonly dir: string; readonly bytes: Uint8Array };
  close: undefined;
}

/** The bytes a `describe` reply carries, to show the channel keeps bytes as bytes. */
export const DESCRIBE_PROBE = Uint8Array.of(0, 255);

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

/**
 * How a shared store's requests and replies travel on a channel that also carries the
 * application's own messages (a `node:cluster` worker's, say): wrapped under this one key, so
 * each side takes only its own messages.
 */
export interface IpcEnvelope {
  readonly kvdStore: IpcRequest | IpcReply;
}

/** Whether a message from a shared channel is one of kvd's (an `IpcEnvelope`). */
export function isIpcEnvelope(message: unknown): message is IpcEnvelope {
  return typeof message === 'object' && message !== null && 'kvdStore' in message;
}
