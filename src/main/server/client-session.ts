// Owns one client's session state as commands see it: id, name, protocol version, whether it
// has authenticated, library info, its transaction (MULTI, WATCH), a request to close after
// the current reply, and its socket for bytes that are not replies (a replica's stream).

import type { Socket } from 'node:net';
import { TransactionState } from './commands/transactions/transaction-state.js';
import type { Subscriptions } from './pubsub.js';
import type { RespProtocol } from './resp-writer.js';

/** A client's socket for bytes that are not replies (`ClientSession.raw`). */
export interface RawSocket {
  /** False when the socket wants `drained()` first (or is closed). */
  write(bytes: Buffer): boolean;
  drained(): Promise<void>;
  close(): void;
  /** Bytes written that the socket has not sent yet. */
  pending(): number;
}

/**
 * A client socket's peer (`ip:port`, or `unix:<unixPath>` for the Unix socket) and this server's
 * end (`ip:port`, or '' for the Unix socket), as CLIENT LIST's addr and laddr name them.
 */
export function socketAddresses(
  socket: Socket,
  unixPath: string | undefined,
): { readonly address: string; readonly local: string } {
  return {
    address:
      socket.remoteAddress !== undefined
        ? `${socket.remoteAddress}:${socket.remotePort}`
        : `unix:${unixPath ?? ''}`,
    local: socket.localAddress !== undefined ? `${socket.localAddress}:${socket.localPort}` : '',
  };
}

/** `socket` as a RawSocket; `isClosed` says whether its connection has closed. */
export function rawSocket(socket: Socket, isClosed: () => boolean): RawSocket {
  return {
    write: (bytes) => !isClosed() && socket.write(bytes),
    drained: () =>
      new Promise((resolve) => {
        socket.once('drain', resolve);
        socket.once('close', resolve);
      }),
    close: () => socket.destroy(),
    pending: () => socket.writableLength,
  };
}

/**
 * The per-connection state commands read and change. Main thread. The connection reads
 * `protocol` when it starts a command (its reply is encoded in that version) and
 * `closeRequested` after it (QUIT, SHUTDOWN).
 */
export class ClientSession {
  /** Client name set by CLIENT SETNAME or HELLO SETNAME; undefined when unset. */
  name: string | undefined;
  /** RESP version: 2 until HELLO 3. */
  protocol: RespProtocol = 2;
  /** Whether the client may run commands (always true when no password is set). */
  authenticated: boolean;
  /** Set by CLIENT SETINFO LIB-NAME / LIB-VER. */
  libName = '';
  libVersion = '';
  /** When the connection was accepted (ms since the epoch). */
  readonly createdAt: number;
  /** Whether this is a replica's master client (it may write when clients may not). */
  isMaster = false;
  /** Whether replies are dropped: a replica after PSYNC (REPLCONF ACK gets no reply). */
  muted = false;
  /**
   * The client's socket for bytes that are not replies (a replica's RDB file and stream), set by
   * the connection: `write` is false when the socket wants `drained()` first (or is closed).
   */
  raw: RawSocket = {
    write: () => false,
    drained: () => Promise.resolve(),
    close: () => {},
    pending: () => 0,
  };
  /** Run once when the connection closes. */
  readonly closeHooks: (() => void)[] = [];
  /** Channels and patterns it listens to (pubsub.ts); undefined until its first SUBSCRIBE. */
  subscriptions: Subscriptions | undefined;
  /**
   * The thread that serves it, as Redis 8's CLIENT LIST names it (`io-thread`): 0 the main
   * thread, n the nth network thread (network-threads.ts).
   */
  ioThread = 0;
  /** How often it moved from the main thread back to a network thread (thread-return.ts). */
  threadReturns = 0;
  /** REPLCONF listening-port: where a replica says it listens (INFO's slaveN port). */
  replicaPort = 0;
  /** REPLCONF ip-address: the address a replica announces (INFO's slaveN ip), if it does. */
  replicaAnnouncedIp: string | undefined;
  /** REPLCONF capa eof: the replica takes a diskless RDB (`$EOF:<mark>`). */
  replicaCapaEof = false;
  /** The open transaction (MULTI … EXEC) and the watched keys. */
  readonly transaction = new TransactionState();
  private closing = false;

  constructor(
    /** Unique per server, from 1, as CLIENT ID reports. */
    readonly id: number,
    /** The peer, `ip:port` or the Unix socket path. */
    readonly address: string,
    passwordRequired: boolean,
    /** This server's end of the connection, `ip:port` (CLIENT LIST's laddr); '' if none. */
    readonly localAddress = '',
    /**
     * The session the client had on a network thread, when it comes back to the main thread:
     * its name, library, authentication, protocol and age carry over.
     */
    carried?: ClientSession,
  ) {
    this.authenticated = carried?.authenticated ?? !passwordRequired;
    this.createdAt = carried?.createdAt ?? Date.now();
    if (carried !== undefined) {
      this.protocol = carried.protocol;
      this.name = carried.name;
      this.libName = carried.libName;
      this.libVersion = carried.libVersion;
      this.threadReturns = carried.threadReturns;
    }
  }

  /**
   * The kind of client, as CLIENT KILL TYPE and CLIENT LIST name it: a replica's link to its
   * master, a replica of this server (after PSYNC), a listener (SUBSCRIBE), or any other.
   */
  get type(): 'master' | 'replica' | 'pubsub' | 'normal' {
    if (this.isMaster) return 'master';
    if (this.muted) return 'replica';
    const s = this.subscriptions;
    return s && s.channels.size + s.patterns.size > 0 ? 'pubsub' : 'normal';
  }

  /** Asks the connection to close once the reply to the current command is written. */
  closeAfterReply(): void {
    this.closing = true;
  }

  /** Whether `closeAfterReply` was called. */
  get closeRequested(): boolean {
    return this.closing;
  }
}
