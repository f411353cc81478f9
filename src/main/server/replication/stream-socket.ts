// Owns the socket a replica's master client reads from: the master's command stream is pushed
// in by the link, the replies the connection writes are dropped (a replica never answers its
// master, as in Redis), and each write tells the link that commands have finished.

import { Duplex } from 'node:stream';

/**
 * A Duplex that stands in for a `net.Socket` under a `Connection`: bytes pushed with `feed`
 * arrive as 'data'; bytes written are discarded, after which `onReplies` runs. Main thread.
 */
export class StreamSocket extends Duplex {
  /** As a net.Socket reports its peer (the master's address, for CLIENT LIST and logs). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Set by the link: where to resume the master's socket when this one wants more. */
  onWant: () => void = () => {};
  /** Set by the link: runs after the connection wrote replies (commands finished). */
  onReplies: () => void = () => {};

  constructor(host: string, port: number) {
    super({ allowHalfOpen: false, readableHighWaterMark: 1024 * 1024 });
    this.remoteAddress = host;
    this.remotePort = port;
  }

  /** Hands stream bytes to the connection; false when it has enough queued (pause the source). */
  feed(bytes: Buffer): boolean {
    return this.push(bytes);
  }

  override _read(): void {
    this.onWant();
  }

  override _write(
    _chunk: Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    done();
    this.onReplies();
  }

  override _writev(_chunks: unknown[], done: (error?: Error | null) => void): void {
    done();
    this.onReplies();
  }

  override _final(done: (error?: Error | null) => void): void {
    done();
  }

  /** As net.Socket: nothing to do without a real socket. */
  setNoDelay(): this {
    return this;
  }

  /** As net.Socket: the master client is never closed for being idle. */
  setTimeout(): this {
    return this;
  }
}
