// Owns sharing one open Store with other processes over their IPC channels: shareStore answers
// a forked child's (or a node:cluster worker's) requests from this process's store, and
// connectSharedStore is that child's RemoteStore for it.

import { KvError, Store, serializeError } from '../index.js';
import { RemoteStore } from './ipc-client.js';
import { performRequest } from './ipc-dispatch.js';
import { parentLink } from './ipc-link.js';
import { type IpcEnvelope, type IpcReply, type IpcRequest, isIpcEnvelope } from './ipc-messages.js';

/**
 * The IPC channel to one child process, as this process sees it: a `ChildProcess` from
 * `child_process.fork` or a `Worker` from `node:cluster` both are one.
 */
export interface StoreChannel {
  /** Sends a message to the child. */
  send(message: object, callback: (error: Error | null) => void): boolean;
  /** Listens to the child's messages. */
  on(event: 'message', listener: (message: unknown) => void): unknown;
  /** Stops listening. */
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * Answers the store requests of the child process at the other end of `channel` from `store`,
 * an open Store of this process, until the returned function is called or the child goes. The
 * child uses the store through `connectSharedStore()`: the same calls, results and errors as
 * `spawnStore`'s RemoteStore, applied in the order the child issued them, in the same batches as
 * this process's own calls. The child's `close()` ends only its own use; this process closes the
 * store. The channel must use `serialization: 'advanced'` (`fork`'s option, or
 * `cluster.setupPrimary({ serialization: 'advanced' })`) so that bytes travel as bytes. Other
 * messages on the channel are left to the application. Call on the thread that opened `store`.
 * Throws `KV_INVALID_ARGUMENT` if `store` is not a Store or `channel` has no send, on and off.
 */
export function shareStore(store: Store, channel: StoreChannel): () => void {
  if (!(store instanceof Store)) {
    throw new KvError('KV_INVALID_ARGUMENT', 'shareStore takes an open Store first');
  }
  const methods = channel as unknown as Record<string, unknown> | null | undefined;
  if (!['send', 'on', 'off'].every((name) => typeof methods?.[name] === 'function')) {
    throw new KvError(
      'KV_INVALID_ARGUMENT',
      'shareStore takes a channel to a child (a ChildProcess or a cluster Worker) second',
    );
  }
  const listener = (message: unknown): void => {
    if (!isIpcEnvelope(message) || !('op' in message.kvdStore)) return;
    const request: IpcRequest = message.kvdStore;
    const answer: Promise<unknown> =
      request.op === 'close' ? Promise.resolve(undefined) : performRequest(store, request);
    answer.then(
      (value) => reply(channel, { id: request.id, ok: true, value } as IpcReply),
      (error: unknown) =>
        reply(channel, { id: request.id, ok: false, error: serializeError(error) }),
    );
  };
  channel.on('message', listener);
  return () => channel.off('message', listener);
}

/**
 * In a process forked by one that called `shareStore` for it: a RemoteStore for the parent's
 * store. Resolves once the parent has answered (with the store's directory). Rejects with
 * `KV_INVALID_ARGUMENT` if this process has no IPC channel or its channel does not use
 * `advanced` serialization, and with `KV_INTERNAL` if the channel closes first. Calls made
 * through it reject with `KV_INTERNAL` once the parent is gone. An idle RemoteStore keeps no
 * process alive beyond what the IPC channel itself does; `close()` stops its listening.
 */
export async function connectSharedStore(): Promise<RemoteStore> {
  if (typeof process.send !== 'function') {
    throw new KvError('KV_INVALID_ARGUMENT', 'this process has no IPC channel to a parent');
  }
  return RemoteStore.connect(parentLink());
}

/** Sends a reply; a failed send means the child is gone, which leaves nothing to answer. */
function reply(channel: StoreChannel, message: IpcReply): void {
  const envelope: IpcEnvelope = { kvdStore: message };
  try {
    channel.send(envelope, () => {});
  } catch (error) {
    // The value could not be cloned (no Store result does that); answer with the error.
    channel.send(
      { kvdStore: { id: message.id, ok: false, error: serializeError(error) } },
      () => {},
    );
  }
}
