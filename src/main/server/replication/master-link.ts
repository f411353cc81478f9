// Owns a replica's link to its master, as Redis 7 replicas speak it: the handshake (PING, AUTH,
// REPLCONF listening-port and capa, PSYNC), a full resync (the RDB file, `$<len>` or diskless
// `$EOF:<mark>`, loaded into the store) or a partial one (+CONTINUE), then the command stream,
// applied by a master client and counted in bytes, with REPLCONF ACK every second and on GETACK.
// Reconnects after a broken link, asking to continue from the offset it applied; keeps that
// offset as a checkpoint on disk (replica-checkpoint.ts) so a killed replica continues too.
// Main thread.

import { Buffer } from 'node:buffer';
import { connect, type Socket } from 'node:net';
import type { Logger, Store } from '../../index.js';
import { encodeCommand } from './change-commands.js';
import { RdbLoader } from './rdb-loader.js';
import { isBlindWrite, ReplicaCheckpoint } from './replica-checkpoint.js';
import type { MasterAddress } from './replication-state.js';
import { CommandFrame, scanCommand } from './resp-frames.js';
import { SocketReader } from './socket-reader.js';
import { StreamSocket } from './stream-socket.js';

/** Wait between a lost link and the next attempt. */
const RETRY_MS = 1_000;
/** How often the replica tells the master how far it has applied. */
const ACK_MS = 1_000;
/** How often the applied offset is checkpointed. */
const CHECKPOINT_MS = 1_000;
/** How long a lost link waits for the master client to finish what it was given. */
const SETTLE_MS = 10_000;

/** The client that applies the master's stream (a Connection reading a StreamSocket). */
export interface MasterClient {
  /** Whether every request it read has been answered and nothing is buffered. */
  idle(): boolean;
  /** Closes it. */
  destroy(): void;
  /**
   * Called when someone asks to close it (CLIENT KILL TYPE master): the link then drops the
   * connection to the master and continues with PSYNC once the client has finished what it
   * was given, as Redis does; the client itself is never cut off mid-stream.
   */
  onKillRequest: (() => void) | undefined;
}

/** What a link needs. */
export interface MasterLinkDeps {
  readonly store: Store;
  readonly log: Logger;
  readonly auth: string | undefined;
  /** The ACL user to authenticate as (`AUTH user password`); the default user if undefined. */
  readonly authUser?: string | undefined;
  listeningPort(): number;
  /** The address to announce to the master (REPLCONF ip-address), if not the connection's. */
  readonly announceIp?: string | undefined;
  attach(socket: StreamSocket): MasterClient;
  readonly skippedTypes: Map<string, number>;
  /** The master's id and the offset applied before, to continue from (PSYNC id offset+1). */
  readonly resume?: { readonly replId: string; readonly offset: number } | undefined;
}

/** Where the link is, as ROLE names it. */
export type LinkState = 'connect' | 'connecting' | 'sync' | 'connected';

/** One master and the state of the link to it. */
export class MasterLink {
  /** The master's replication id ('?' until the first sync). */
  masterReplId = '?';
  /** Stream bytes applied: every command before it, outside a transaction, has finished. */
  processedOffset = -1;
  /** Stream bytes received. */
  readOffset = -1;
  state: LinkState = 'connect';
  fullSyncs = 0;
  partialSyncs = 0;
  lastSyncKeys = 0;
  /** When the stream last stopped flowing (ms since the epoch); undefined if it never flowed. */
  downSince: number | undefined;
  private lastIo = Date.now();
  private stopped = false;
  private socket: Socket | undefined;
  private running: Promise<void> | undefined;
  private wakeRetry: (() => void) | undefined;
  // The stream phase.
  private client: MasterClient | undefined;
  private streamSocket: StreamSocket | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private inTransaction = false;
  /** The offset after the last command fed outside a transaction. */
  private safeFed = -1;
  private ackWanted = false;
  private idleWaiter: (() => void) | undefined;
  private readonly checkpoint: ReplicaCheckpoint;
  /** The command being looked at in the stream (reused). */
  private readonly frame = new CommandFrame();
  /** The checkpoint is being removed before a command that is not a blind write is fed. */
  private invalidating = false;

  constructor(
    readonly address: MasterAddress,
    private readonly deps: MasterLinkDeps,
  ) {
    this.checkpoint = new ReplicaCheckpoint(deps.store.dir, deps.store, address, deps.log);
    if (deps.resume) {
      this.masterReplId = deps.resume.replId;
      this.processedOffset = this.readOffset = this.safeFed = deps.resume.offset;
    }
  }

  /** Whether the stream is flowing. */
  get up(): boolean {
    return this.state === 'connected';
  }

  /** Whether a full resync is being received. */
  get syncing(): boolean {
    return this.state === 'sync';
  }

  /** Seconds since the master last sent anything. */
  lastIoSecondsAgo(): number {
    return Math.floor((Date.now() - this.lastIo) / 1000);
  }

  /** Connects, and keeps reconnecting until `stop`. */
  start(): void {
    this.running = this.run();
  }

  /** Drops the link and stops reconnecting; resolves once the last session has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeRetry?.();
    this.socket?.destroy();
    await this.running;
    await this.checkpoint.settled();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.session();
      } catch (error) {
        if (!this.stopped) {
          this.deps.log.warn(
            { err: error, master: this.address },
            'replication link to the master lost',
          );
        }
      }
      await this.endSession();
      if (this.stopped) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_MS);
        this.wakeRetry = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async session(): Promise<void> {
    this.state = 'connecting';
    const socket = connect({ host: this.address.host, port: this.address.port });
    this.socket = socket;
    socket.setNoDelay(true);
    const reader = new SocketReader(socket, () => {
      this.lastIo = Date.now();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const ask = async (...args: string[]): Promise<string> => {
      socket.write(encodeCommand(args));
      return reader.line();
    };
    const pong = await ask('PING');
    if (pong.startsWith('-') && !pong.startsWith('-NOAUTH')) throw new Error(`PING: ${pong}`);
    if (this.deps.auth !== undefined) {
      const user = this.deps.authUser;
      const ok = await (user === undefined
        ? ask('AUTH', this.deps.auth)
        : ask('AUTH', user, this.deps.auth));
      if (!ok.startsWith('+')) throw new Error(`AUTH: ${ok}`);
    }
    await ask('REPLCONF', 'listening-port', String(this.deps.listeningPort()));
    if (this.deps.announceIp !== undefined)
      await ask('REPLCONF', 'ip-address', this.deps.announceIp);
    await ask('REPLCONF', 'capa', 'eof', 'capa', 'psync2');
    const resume = this.processedOffset >= 0 && this.masterReplId !== '?';
    let reply = await ask(
      'PSYNC',
      resume ? this.masterReplId : '?',
      String(resume ? this.processedOffset + 1 : -1),
    );
    // A master waiting to start the sync (Redis's repl-diskless-sync-delay) sends newlines.
    while (reply === '') reply = await reader.line();
    let leftover: Buffer[];
    if (reply.startsWith('+FULLRESYNC')) {
      const [, replId, offset] = reply.split(' ');
      if (!replId || offset === undefined || !/^\d+$/.test(offset))
        throw new Error(`PSYNC: ${reply}`);
      leftover = await this.fullSync(reader, replId, Number(offset));
    } else if (reply.startsWith('+CONTINUE')) {
      const replId = reply.split(' ')[1];
      if (replId) this.masterReplId = replId;
      // The stream starts again right after what was applied (a transaction cut off is resent).
      this.readOffset = this.safeFed = this.processedOffset;
      this.partialSyncs++;
      this.deps.log.info({ master: this.address, offset: this.processedOffset }, 'partial resync');
      leftover = [];
    } else {
      throw new Error(`PSYNC: ${reply}`);
    }
    leftover.push(...reader.detach());
    await this.stream(socket, leftover);
  }

  /** Receives the RDB into the store; resolves with the bytes after it (the stream's start). */
  private async fullSync(reader: SocketReader, replId: string, offset: number): Promise<Buffer[]> {
    this.state = 'sync';
    // The load empties the store: a checkpoint of the old data must not survive it.
    await this.checkpoint.restart();
    this.masterReplId = replId;
    this.processedOffset = -1; // nothing applied of this id until the load is complete
    const started = Date.now();
    const loader = new RdbLoader(this.deps.store, this.deps.log, this.deps.skippedTypes);
    const leftover = await loader.receive(reader);
    this.fullSyncs++;
    this.lastSyncKeys = loader.counts.loaded;
    this.processedOffset = this.readOffset = this.safeFed = offset;
    this.deps.log.info(
      {
        master: this.address,
        keys: loader.counts.loaded,
        expired: loader.counts.expired,
        skipped: Object.fromEntries(loader.counts.skipped),
        ms: Date.now() - started,
      },
      'full resync loaded',
    );
    return leftover;
  }

  /** Applies the command stream until the link breaks. */
  private async stream(socket: Socket, leftover: Buffer[]): Promise<void> {
    this.state = 'connected';
    const streamSocket = new StreamSocket(this.address.host, this.address.port);
    this.streamSocket = streamSocket;
    this.client = this.deps.attach(streamSocket);
    this.client.onKillRequest = () => {
      this.deps.log.info({ master: this.address }, 'link to the master closed by CLIENT KILL');
      socket.destroy();
    };
    this.inTransaction = false;
    streamSocket.onWant = () => socket.resume();
    streamSocket.onReplies = () => this.checkApplied();
    this.pending = Buffer.concat(leftover);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {}); // 'close' follows
    socket.on('data', (chunk: Buffer) => {
      this.lastIo = Date.now();
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      this.consume(socket);
    });
    socket.resume();
    this.consume(socket);
    this.sendAck(socket); // at once: a master holds the stream until the first ACK
    const ack = setInterval(() => this.sendAck(socket), ACK_MS);
    ack.unref();
    const checkpoint = setInterval(() => {
      if (this.invalidating || this.masterReplId === '?' || this.processedOffset < 0) return;
      this.checkpoint.save(this.masterReplId, this.processedOffset);
    }, CHECKPOINT_MS);
    checkpoint.unref();
    try {
      await closed;
    } finally {
      clearInterval(ack);
      clearInterval(checkpoint);
    }
    throw new Error('the master closed the connection');
  }

  /** Feeds whole commands to the master client; takes out the ones meant for the link. */
  private consume(socket: Socket): void {
    if (this.invalidating) return; // resumed once the checkpoint is gone
    const buf = this.pending;
    let pos = 0;
    let run = 0;
    const feed = (end: number): void => {
      if (end > run && !this.streamSocket!.feed(buf.subarray(run, end))) socket.pause();
    };
    const frame = this.frame;
    while (scanCommand(buf, pos, frame)) {
      const end = frame.end;
      if (frame.argc === 0 || frame.argIs(buf, 0, 'replconf')) {
        // Meant for the link (REPLCONF GETACK asks for an ACK), or a keepalive newline.
        feed(pos);
        if (frame.argIs(buf, 1, 'getack')) this.ackWanted = true;
        run = end;
      } else if (!isBlindWrite(buf, frame)) {
        if (this.checkpoint.guarded) {
          this.removeCheckpointFirst(socket);
          break; // fed from `pos` on once the checkpoint is gone
        }
        this.checkpoint.fedUnsafe(this.readOffset + (end - pos));
      } else if (frame.argIs(buf, 0, 'multi')) {
        this.inTransaction = true;
      } else if (frame.argIs(buf, 0, 'exec') || frame.argIs(buf, 0, 'discard')) {
        this.inTransaction = false;
      }
      this.readOffset += end - pos;
      if (!this.inTransaction) this.safeFed = this.readOffset;
      pos = end;
    }
    feed(pos);
    this.pending = buf.subarray(pos);
    this.checkApplied();
  }

  /**
   * Holds the stream while the checkpoint is removed (a replay from it would apply the next
   * command twice), then goes on. A failure drops the link: it is retried.
   */
  private removeCheckpointFirst(socket: Socket): void {
    this.invalidating = true;
    socket.pause();
    this.checkpoint.invalidate().then(
      () => {
        this.invalidating = false;
        if (socket.destroyed) return;
        socket.resume();
        this.consume(socket);
      },
      (error: unknown) => {
        this.invalidating = false;
        this.deps.log.warn({ err: error }, 'could not remove the replica checkpoint');
        socket.destroy();
      },
    );
  }

  /** At a moment the client has finished all it was given: everything fed outside a transaction is applied. */
  private checkApplied(): void {
    if (!this.client?.idle() || (this.streamSocket?.readableLength ?? 0) > 0) return;
    this.processedOffset = this.safeFed;
    if (this.ackWanted && this.socket) {
      this.ackWanted = false;
      this.sendAck(this.socket);
    }
    const waiter = this.idleWaiter;
    this.idleWaiter = undefined;
    waiter?.();
  }

  private sendAck(socket: Socket): void {
    if (this.state !== 'connected' || !socket.writable) return;
    socket.write(encodeCommand(['REPLCONF', 'ACK', String(this.processedOffset)]));
  }

  /** After a session: let the client finish what it was given, then drop it and the socket. */
  private async endSession(): Promise<void> {
    this.socket?.destroy();
    this.socket = undefined;
    const client = this.client;
    if (client) {
      const settled = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), SETTLE_MS);
        this.idleWaiter = () => {
          clearTimeout(timer);
          resolve(true);
        };
        this.checkApplied();
      });
      client.destroy();
      // A client that could not finish leaves the offset unknown: the next sync is a full one.
      if (!settled) this.masterReplId = '?';
    }
    this.client = undefined;
    this.streamSocket = undefined;
    this.pending = Buffer.alloc(0);
    this.ackWanted = false;
    if (this.state === 'sync') this.masterReplId = '?'; // a load cut short: start over
    if (this.state === 'connected') this.downSince = Date.now();
    this.state = 'connect';
  }
}
