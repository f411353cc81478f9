// Owns how the daemon's client sockets read: into one read buffer per thread (Node's `onread`),
// each read's bytes then copied into a Buffer of their own and emitted as 'data'. Node's default
// allocates a 64 KiB block for every read and shrinks it to what arrived; bench/ANALYSIS.md,
// "Socket reads into one buffer a thread", measures what that costs a request.

import { Buffer } from 'node:buffer';
import { closeSync } from 'node:fs';
import { type OnReadOpts, Socket, type SocketConstructorOpts } from 'node:net';
import { socketFds } from './file-map.js';

/** Node's own read size: a read takes what fits, the next read the rest. */
const READ_BUFFER_BYTES = 64 * 1024;

/** This thread's read buffer (each worker has its own module instance), made on first use. */
let readBuffer: Buffer | undefined;

/**
 * A socket over the connected stream socket `fd` (TCP or Unix), which it owns from now on,
 * readable and writable, reading at once. Every read lands in this thread's read buffer and is
 * emitted as 'data' in a Buffer of its own, so a listener may keep it, as with Node's reads;
 * pause(), resume(), 'end' and unshift() behave as Node's. Any thread. Throws as
 * `new Socket({ fd })` does for an fd that is not a socket.
 */
export function socketOnFd(fd: number): Socket {
  readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const options: SocketConstructorOpts & { onread: OnReadOpts } = {
    fd,
    readable: true,
    writable: true,
    onread: {
      buffer: readBuffer,
      callback: (bytes: number, buffer: Uint8Array): boolean => {
        // Copied before the next read (of any socket on this thread) overwrites the buffer.
        const chunk = Buffer.allocUnsafe(bytes);
        chunk.set(buffer.subarray(0, bytes));
        socket.emit('data', chunk);
        return true;
      },
    },
  };
  // `onread` is read by the constructor (`net.connect(options)` passes its options to it), though
  // Node's types list it for connect() only.
  const socket = new Socket(options);
  return socket;
}

/**
 * `socket` (just accepted, plain TCP or Unix) as a socket that reads as `socketOnFd`'s do: a
 * new socket over a copy of its fd, `socket` destroyed (the copy keeps the connection open).
 * Returns `socket` itself when it cannot: a TLS socket, no native addon, no fd, or the copy or
 * the new socket failed. Main thread, in the tick that accepted it (before it has read).
 */
export function withOwnReadBuffer(socket: Socket): Socket {
  if ('encrypted' in socket || socketFds === undefined) return socket;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) return socket;
  const copy = socketFds.dupFd(fd);
  if (typeof copy !== 'number') return socket;
  let rewrapped: Socket;
  try {
    rewrapped = socketOnFd(copy);
  } catch {
    closeQuietly(copy);
    return socket;
  }
  socket.destroy();
  return rewrapped;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to give back.
  }
}
