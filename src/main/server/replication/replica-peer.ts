// Owns one replica connected to this master: where it listens, how far it has acknowledged, and
// its part of the stream: held back while its full resync's RDB file is sent, then written as
// the stream grows. A replica that falls too far behind is dropped (Redis's
// `client-output-buffer-limit replica`): it reconnects and continues from the backlog, or makes
// a full resync, instead of making the master hold an ever-growing stream for it.

import type { ClientSession } from '../client-session.js';

/**
 * How much stream a replica may leave unsent: past `hardBytes` it is dropped at once; past
 * `softBytes` for `softSeconds` in a row, too. 0 turns a limit off. Redis's defaults.
 */
export interface ReplicaBufferLimit {
  /** Unsent bytes past which the replica is dropped at once (0: no limit). */
  readonly hardBytes: number;
  /** Unsent bytes past which, for `softSeconds` in a row, it is dropped (0: no limit). */
  readonly softBytes: number;
  /** How long the soft limit may be passed. */
  readonly softSeconds: number;
}

export const DEFAULT_REPLICA_BUFFER_LIMIT: ReplicaBufferLimit = {
  hardBytes: 256 * 1024 * 1024,
  softBytes: 64 * 1024 * 1024,
  softSeconds: 60,
};

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
  private heldBytes = 0;
  private overSoftSince: number | undefined;
  private closed = false;

  constructor(
    readonly session: ClientSession,
    private readonly limit: ReplicaBufferLimit = DEFAULT_REPLICA_BUFFER_LIMIT,
    /** Called once, with the reason, when the replica is dropped for its backlog of stream. */
    private readonly onOverLimit: (why: string) => void = () => {},
  ) {
    session.closeHooks.push(() => {
      this.closed = true;
      this.held = [];
      this.heldBytes = 0;
    });
  }

  /** Whether its connection has closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The address INFO and ROLE report: the one it announced, else its connection's. */
  get ip(): string {
    if (this.session.replicaAnnouncedIp !== undefined) return this.session.replicaAnnouncedIp;
    const address = this.session.address;
    return address.slice(0, Math.max(0, address.lastIndexOf(':'))) || address;
  }

  /** Stream bytes held for it or not yet taken by its socket. */
  get unsentBytes(): number {
    return this.heldBytes + this.session.raw.pending();
  }

  /** Sends stream bytes now, or holds them until the RDB file is sent. */
  stream(bytes: Buffer): void {
    if (this.closed) return;
    if (this.state === 'sync') {
      this.held.push(bytes);
      this.heldBytes += bytes.length;
    } else {
      this.session.raw.write(bytes);
    }
    this.checkLimit();
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
    this.heldBytes = 0;
    for (const bytes of held) this.session.raw.write(bytes);
  }

  /** Drops the replica when what it leaves unsent passes the limits. */
  private checkLimit(): void {
    const { hardBytes, softBytes, softSeconds } = this.limit;
    const unsent = this.unsentBytes;
    let why: string | undefined;
    if (hardBytes > 0 && unsent > hardBytes) {
      why = `${unsent} bytes of stream unsent, past the hard limit of ${hardBytes}`;
    } else if (softBytes > 0 && unsent > softBytes) {
      const now = Date.now();
      this.overSoftSince ??= now;
      if (now - this.overSoftSince >= softSeconds * 1000) {
        why = `${unsent} bytes of stream unsent, past the soft limit of ${softBytes} for ${softSeconds} s`;
      }
    } else {
      this.overSoftSince = undefined;
    }
    if (why === undefined) return;
    this.closed = true;
    this.held = [];
    this.heldBytes = 0;
    this.onOverLimit(why);
    this.session.raw.close();
  }
}
