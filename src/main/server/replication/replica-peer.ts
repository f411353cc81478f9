// Owns one replica connected to this master: where it listens, how far it has acknowledged, and
// its part of the stream: held back while its full resync's RDB file is sent, then written as
// the stream grows.

import type { ClientSession } from '../client-session.js';

/** A replica of this master (after its PSYNC). Main thread. */
export class ReplicaPeer {
  /** `sync` while its RDB file is sent; `online` once it gets the stream. */
  state: 'sync' | 'online' = 'sync';
  /** The offset it last acknowledged (REPLCONF ACK); -1: none yet. */
  ackOffset = -1;
  /** When it last acknowledged (ms since the epoch). */
  lastAckAt = Date.now();
  /** Its diskless RDB file is sent: the stream starts at its first ACK. */
  rdbSent = false;
  /** Stream bytes held back while its RDB file is sent. */
  private held: Buffer[] = [];
  private closed = false;

  constructor(readonly session: ClientSession) {
    session.closeHooks.push(() => {
      this.closed = true;
      this.held = [];
    });
  }

  /** Whether its connection has closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** `ip:port` as INFO reports it: the peer's address with the port it listens on. */
  get ip(): string {
    const address = this.session.address;
    return address.slice(0, Math.max(0, address.lastIndexOf(':'))) || address;
  }

  /** Sends stream bytes now, or holds them until the RDB file is sent. */
  stream(bytes: Buffer): void {
    if (this.closed) return;
    if (this.state === 'sync') this.held.push(bytes);
    else this.session.raw.write(bytes);
  }

  /** Writes raw bytes (the RDB file), waiting while the socket is full. */
  async send(bytes: Buffer): Promise<void> {
    if (this.closed) throw new Error('the replica disconnected');
    if (!this.session.raw.write(bytes) && !this.closed) await this.session.raw.drained();
  }

  /** The RDB file is sent: the stream held back follows, then the live stream. */
  goOnline(): void {
    this.state = 'online';
    const held = this.held;
    this.held = [];
    for (const bytes of held) this.session.raw.write(bytes);
  }
}
