// Owns the two channels a RemoteStore talks over: to a kvd child it forked (spawnStore), whose
// messages are bare requests and replies, and to the parent process that shares its store
// (connectSharedStore), whose channel also carries the application's messages, so kvd's are
// wrapped in an envelope. Either way: send a request, deliver each reply, report the end.

import type { ChildProcess } from 'node:child_process';
import { type IpcReply, type IpcRequest, isIpcEnvelope } from './ipc-messages.js';

/** Where a RemoteStore's requests go and where its replies come from. */
export interface IpcLink {
  /** The process that runs the store. */
  readonly pid: number;
  /**
   * Whether that process runs the store for this caller alone (a spawned child: closing the
   * RemoteStore closes the store) or shares it (closing only ends this caller's use).
   */
  readonly ownsStore: boolean;
  /** Starts listening: each reply goes to `onReply`; `onGone` once no reply can come any more. */
  start(onReply: (reply: IpcReply) => void, onGone: (reason: string) => void): void;
  /** Sends a request; `done` gets the error if it could not go. Throws if it cannot be cloned. */
  send(request: IpcRequest, done: (error: Error | null) => void): void;
  /** Stops listening (a shared channel; a child's link ends when the child exits). */
  detach(): void;
}

/** The link to a kvd child forked by spawnStore. */
export function childLink(child: ChildProcess): IpcLink {
  return {
    pid: child.pid ?? -1,
    ownsStore: true,
    start(onReply, onGone) {
      child.on('message', onReply);
      // A spawn failure arrives as 'error' (then 'close'); later errors are failed sends, which
      // reject their own call. Listening keeps either from becoming an uncaught exception.
      child.on('error', () => {});
      // 'close' comes after the exit *and* the end of the channel: no reply can follow it.
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) =>
        onGone(`the kvd child process ${child.pid} exited (code ${code}, signal ${signal})`),
      );
    },
    send(request, done) {
      child.send(request, done);
    },
    detach() {},
  };
}

/**
 * The link to this process's parent, which shares its store over the IPC channel it forked this
 * process with (`shareStore`). Throws if this process has no IPC channel.
 */
export function parentLink(): IpcLink {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('this process has no IPC channel to a parent');
  let listeners: { message(m: unknown): void; disconnect(): void } | undefined;
  return {
    pid: process.ppid,
    ownsStore: false,
    start(onReply, onGone) {
      listeners = {
        message: (message) => {
          if (isIpcEnvelope(message) && 'ok' in message.kvdStore) onReply(message.kvdStore);
        },
        disconnect: () => onGone(`the channel to the parent process ${process.ppid} closed`),
      };
      process.on('message', listeners.message);
      process.once('disconnect', listeners.disconnect);
    },
    send(request, done) {
      send({ kvdStore: request }, undefined, {}, done);
    },
    detach() {
      if (!listeners) return;
      process.off('message', listeners.message);
      process.off('disconnect', listeners.disconnect);
      listeners = undefined;
    },
  };
}
