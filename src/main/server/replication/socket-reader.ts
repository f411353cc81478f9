// Owns reading a replica's link to its master before the command stream starts: reply lines of
// the handshake and the RDB payload's bytes, awaited one piece at a time, with the socket paused
// while too much is buffered.

import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';

/** Bytes buffered before the socket is paused (resumed when the reader has taken them). */
const HIGH_WATER = 8 * 1024 * 1024;

/** Awaitable reads over a socket's 'data' events. Main thread. */
export class SocketReader {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes > HIGH_WATER) this.socket.pause();
    this.notify();
  };
  private readonly onEnd = (error?: Error): void => {
    this.failure ??= error instanceof Error ? error : new Error('the master closed the connection');
    this.notify();
  };

  constructor(
    private readonly socket: Socket,
    /** Called with the bytes of every chunk received (the link's I/O clock and read offset). */
    private readonly onBytes: (n: number) => void,
  ) {
    socket.on('data', this.onData);
    socket.on('close', this.onEnd);
    socket.on('error', this.onEnd);
  }

  /** The next line without its CRLF (a bare LF also ends one). Rejects if the socket ends. */
  async line(): Promise<string> {
    for (;;) {
      const joined = this.join();
      const lf = joined.indexOf(0x0a);
      if (lf !== -1) {
        const end = lf > 0 && joined[lf - 1] === 0x0d ? lf - 1 : lf;
        this.keep(joined.subarray(lf + 1));
        return joined.toString('latin1', 0, end);
      }
      await this.more();
    }
  }

  /** The next bytes received, at most `max`. Rejects if the socket ends first. */
  async some(max = Number.POSITIVE_INFINITY): Promise<Buffer> {
    while (this.bytes === 0) await this.more();
    const first = this.chunks[0]!;
    if (first.length <= max) {
      this.chunks.shift();
      this.took(first.length);
      return first;
    }
    this.chunks[0] = first.subarray(max);
    this.took(max);
    return first.subarray(0, max);
  }

  /** Stops listening and hands back whatever is buffered. */
  detach(): Buffer[] {
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onEnd);
    const rest = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    return rest;
  }

  private join(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private keep(rest: Buffer): void {
    const taken = this.bytes - rest.length;
    this.chunks = rest.length > 0 ? [rest] : [];
    this.took(taken);
  }

  private took(n: number): void {
    this.bytes -= n;
    this.onBytes(n);
    if (this.bytes <= HIGH_WATER / 2 && this.socket.isPaused()) this.socket.resume();
  }

  private more(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
