// Owns kvd as a master: the replication stream made from the store's change feed (SET with PXAT,
// DEL, MULTI/EXEC; a PING every `repl-ping-replica-period`), its offset and ids, the backlog,
// and the replicas: PSYNC answered with +CONTINUE from the backlog or +FULLRESYNC and an RDB
// file made from a snapshot (diskless `$EOF:<mark>` or `$<len>`) while writes go on; REPLCONF
// ACK; WAIT. Main thread.

import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { RdbWriter } from '../../../shared/rdb-format.js';
import type { ChangeWatch, Logger, Snapshot, Store, StoreChange } from '../../index.js';
import type { ClientSession } from '../client-session.js';
import { ChangeEncoder, encodeCommand } from './change-commands.js';
import { ReplBacklog } from './repl-backlog.js';
import {
  DEFAULT_REPLICA_BUFFER_LIMIT,
  type ReplicaBufferLimit,
  ReplicaPeer,
} from './replica-peer.js';

/** Redis's default backlog size and replica ping period. */
const DEFAULT_BACKLOG_BYTES = 1024 * 1024;
const DEFAULT_PING_PERIOD_SECONDS = 10;

/** How the master streams to its replicas (Redis's settings of the same names). */
export interface MasterSettings {
  /** `repl-backlog-size`: stream bytes kept for partial resyncs (default 1 MiB). */
  readonly backlogBytes?: number;
  /** `repl-ping-replica-period`: seconds between PINGs in the stream (default 10). */
  readonly pingPeriodSeconds?: number;
  /** `client-output-buffer-limit replica`: when a replica that lags is dropped. */
  readonly replicaBufferLimit?: ReplicaBufferLimit;
}
/** Keys written into the RDB file between two turns of the event loop. */
const RDB_KEYS_PER_TURN = 1_000;
/** Sequence-number-to-offset entries kept (to place a full resync in the stream). */
const SEQ_OFFSETS_KEPT = 100_000;
const PING = encodeCommand(['PING']);
const GETACK = encodeCommand(['REPLCONF', 'GETACK', '*']);

/** A replication id: 40 hex characters. */
export function newReplId(): string {
  return randomBytes(20).toString('hex');
}

interface AckWaiter {
  readonly target: number;
  readonly wanted: number;
  readonly resolve: (count: number) => void;
}

/** The master side of replication. */
export class MasterRole {
  replId = newReplId();
  replId2 = '0'.repeat(40);
  secondOffset = -1;
  /** Bytes of stream made so far. */
  offset = 0;
  /** Full resyncs served, partial resyncs accepted and refused (INFO stats, Redis's names). */
  syncFull = 0;
  syncPartialOk = 0;
  syncPartialErr = 0;
  /** Replicas dropped for leaving too much stream unsent (INFO stats, Redis's name). */
  bufferLimitDisconnections = 0;
  private readonly peers = new Map<ClientSession, ReplicaPeer>();
  private backlog: ReplBacklog | undefined;
  private watch: ChangeWatch | undefined;
  private feedStarting: Promise<void> | undefined;
  private readonly encoder = new ChangeEncoder();
  /** [sequence number, stream offset after it], oldest first. */
  private seqOffsets: [number, number][] = [];
  private fedSeq = 0;
  private seqWaiters: { seq: number; resolve: () => void }[] = [];
  private ackWaiters: AckWaiter[] = [];
  private pinger: NodeJS.Timeout | undefined;

  private readonly backlogBytes: number;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly settings: MasterSettings = {},
  ) {
    this.backlogBytes = settings.backlogBytes ?? DEFAULT_BACKLOG_BYTES;
  }

  /** The replicas, for INFO and ROLE. */
  replicas(): ReplicaPeer[] {
    return [...this.peers.values()];
  }

  /** Whether a backlog exists (a replica attached once), and its span. */
  backlogInfo(): { active: boolean; size: number; first: number; length: number } {
    const b = this.backlog;
    return {
      active: b !== undefined,
      size: this.backlogBytes,
      first: b ? b.firstOffset : 0,
      length: b ? b.length : 0,
    };
  }

  /**
   * PSYNC replid offset (SYNC: `?` -1) from the client `session`, which becomes a replica: its
   * replies are dropped from now on. Continues from the backlog when it can, else starts a full
   * resync. Resolves once the first line (+CONTINUE or +FULLRESYNC) is decided.
   */
  async psync(session: ClientSession, replId: string, offset: number): Promise<void> {
    session.muted = true;
    const peer = new ReplicaPeer(
      session,
      this.settings.replicaBufferLimit ?? DEFAULT_REPLICA_BUFFER_LIMIT,
      (why) => {
        this.bufferLimitDisconnections++;
        this.peers.delete(session);
        this.log.warn({ replica: session.address, why }, 'replica dropped: too far behind');
      },
    );
    session.closeHooks.push(() => this.peers.delete(session));
    await this.startFeed();
    const canContinue =
      replId === this.replId || (replId === this.replId2 && offset <= this.secondOffset);
    // Redis numbers the stream's bytes from 1: the replica asks for byte `offset` on, which is
    // 0-based `offset - 1`.
    const rest = canContinue ? this.backlog?.from(offset - 1) : undefined;
    if (rest) {
      this.syncPartialOk++;
      session.raw.write(Buffer.from(`+CONTINUE ${this.replId}\r\n`));
      peer.goOnline();
      this.peers.set(session, peer);
      if (rest.length > 0) session.raw.write(rest);
      this.log.info({ replica: session.address, offset }, 'replica continues (partial resync)');
      return;
    }
    if (replId !== '?') this.syncPartialErr++;
    this.syncFull++;
    void this.fullSync(peer).catch((error: unknown) => {
      this.log.warn({ err: error, replica: session.address }, 'full resync failed');
      this.peers.delete(session);
      session.raw.close();
    });
  }

  /** REPLCONF ACK offset from a replica. */
  ack(session: ClientSession, offset: number): void {
    const peer = this.peers.get(session);
    if (!peer) return;
    if (peer.rdbSent && peer.state === 'sync') peer.goOnline();
    peer.ackOffset = Math.max(peer.ackOffset, offset);
    peer.lastAckAt = Date.now();
    this.ackWaiters = this.ackWaiters.filter((w) => {
      const count = this.countAcked(w.target);
      if (count < w.wanted) return true;
      w.resolve(count);
      return false;
    });
  }

  /**
   * WAIT numreplicas timeout: resolves with how many replicas acknowledged everything written
   * before it, once `wanted` have or after `timeoutMs` (0: no limit).
   */
  wait(wanted: number, timeoutMs: number): Promise<number> {
    const target = this.offset;
    const now = this.countAcked(target);
    if (now >= wanted || this.peers.size === 0) return Promise.resolve(now);
    this.appendStream(GETACK);
    return new Promise((resolve) => {
      const waiter: AckWaiter = { target, wanted, resolve };
      this.ackWaiters.push(waiter);
      if (timeoutMs > 0) {
        setTimeout(() => {
          if (!this.ackWaiters.includes(waiter)) return;
          this.ackWaiters = this.ackWaiters.filter((w) => w !== waiter);
          resolve(this.countAcked(target));
        }, timeoutMs).unref();
      }
    });
  }

  /**
   * Becomes a master after being a replica of the master `oldReplId`, having applied its stream
   * to `offset`: a new id, the old one kept as the second (its replicas may continue from it),
   * and a backlog from `offset` on.
   */
  async promote(oldReplId: string, offset: number): Promise<void> {
    this.replId2 = oldReplId;
    this.secondOffset = offset + 1;
    this.offset = offset;
    this.replId = newReplId();
    await this.startFeed();
  }

  /** Stops being a master (REPLICAOF host port): replicas are dropped, the feed stops. */
  async stop(): Promise<void> {
    for (const peer of this.peers.values()) peer.session.raw.close();
    this.peers.clear();
    clearInterval(this.pinger);
    this.pinger = undefined;
    const watch = this.watch;
    this.watch = undefined;
    this.feedStarting = undefined;
    this.backlog = undefined;
    this.seqOffsets = [];
    for (const w of this.ackWaiters) w.resolve(0);
    this.ackWaiters = [];
    if (watch && !this.store.isClosed) await watch.stop();
  }

  private countAcked(target: number): number {
    let count = 0;
    for (const peer of this.peers.values()) if (peer.ackOffset >= target) count++;
    return count;
  }

  /** Turns the change feed on (once): from then on every change is in the stream. */
  private startFeed(): Promise<void> {
    this.feedStarting ??= (async () => {
      this.backlog = new ReplBacklog(this.backlogBytes, this.offset);
      const watch = await this.store.watchChanges((changes) => {
        this.streamChanges(changes);
        const last = changes.at(-1);
        if (last) this.fed(last.seq);
      });
      this.watch = watch;
      this.seqOffsets = [[watch.since, this.offset]];
      this.fed(watch.since);
      this.pinger = setInterval(
        () => {
          if (this.peers.size > 0) this.appendStream(PING);
        },
        (this.settings.pingPeriodSeconds ?? DEFAULT_PING_PERIOD_SECONDS) * 1000,
      );
      this.pinger.unref();
    })();
    return this.feedStarting;
  }

  /**
   * Adds a group commit's changes to the stream: one write to the backlog and to each replica,
   * and the offset after each change (or batch) noted by its sequence number.
   */
  private streamChanges(changes: readonly StoreChange[]): void {
    const pieces = this.encoder.encode(changes);
    if (pieces.length === 0) return;
    let offset = this.offset;
    for (const piece of pieces) {
      offset += piece.bytes.length;
      this.seqOffsets.push([piece.lastSeq, offset]);
    }
    if (this.seqOffsets.length > SEQ_OFFSETS_KEPT * 2) {
      this.seqOffsets = this.seqOffsets.slice(-SEQ_OFFSETS_KEPT);
    }
    this.appendStream(
      pieces.length === 1 ? pieces[0]!.bytes : Buffer.concat(pieces.map((p) => p.bytes)),
    );
  }

  private appendStream(bytes: Buffer): void {
    this.backlog?.append(bytes);
    this.offset += bytes.length;
    for (const peer of this.peers.values()) peer.stream(bytes);
  }

  private fed(seq: number): void {
    this.fedSeq = Math.max(this.fedSeq, seq);
    this.seqWaiters = this.seqWaiters.filter((w) => {
      if (w.seq > this.fedSeq) return true;
      w.resolve();
      return false;
    });
  }

  private whenFed(seq: number): Promise<void> {
    if (seq <= this.fedSeq) return Promise.resolve();
    return new Promise((resolve) => this.seqWaiters.push({ seq, resolve }));
  }

  /** The stream offset right after every change up to `seq`. */
  private offsetAt(seq: number): number | undefined {
    let found: number | undefined;
    for (const [s, offset] of this.seqOffsets) {
      if (s > seq) break;
      found = offset;
    }
    return found;
  }

  /**
   * +FULLRESYNC: a snapshot of the store becomes the RDB file; the replica's stream starts at the
   * offset right after the snapshot's last change (what came since is held back until the file
   * is sent).
   */
  private async fullSync(peer: ReplicaPeer): Promise<void> {
    const session = peer.session;
    const snapshot = this.store.snapshot();
    try {
      await this.whenFed(snapshot.sequence);
      const start = this.offsetAt(snapshot.sequence);
      const since = start === undefined ? undefined : this.backlog?.from(start);
      if (start === undefined || since === undefined) {
        throw new Error('the stream since the snapshot is no longer held; the replica will retry');
      }
      if (peer.isClosed) return;
      peer.stream(since);
      this.peers.set(session, peer);
      session.raw.write(Buffer.from(`+FULLRESYNC ${this.replId} ${start}\r\n`));
      const started = Date.now();
      const keys = await this.sendRdb(peer, snapshot, start);
      // After a diskless transfer the stream waits for the replica's first ACK, as Redis 7 does:
      // a replica loading straight from the socket may read past the file's end.
      if (session.replicaCapaEof) peer.rdbSent = true;
      else peer.goOnline();
      this.log.info(
        { replica: session.address, keys, offset: start, ms: Date.now() - started },
        'replica synced (full resync)',
      );
    } finally {
      snapshot.release();
    }
  }

  /** Sends the snapshot as an RDB file, diskless (`$EOF:<mark>`) when the replica takes it. */
  private async sendRdb(peer: ReplicaPeer, snapshot: Snapshot, offset: number): Promise<number> {
    const writer = new RdbWriter();
    const eof = peer.session.replicaCapaEof;
    const mark = randomBytes(20).toString('hex');
    const held: Buffer[] = [];
    const out = async (pieces: Buffer[]) => {
      if (!eof) held.push(...pieces);
      else await peer.send(Buffer.concat(pieces));
    };
    if (eof) await peer.send(Buffer.from(`$EOF:${mark}\r\n`));
    await out(writer.header({ replId: this.replId, replOffset: offset }));
    let keys = 0;
    const now = Date.now();
    for (const { key, value, expiresAt } of snapshot.entriesWithExpiry()) {
      if (expiresAt !== 0 && expiresAt <= now) continue;
      writer.add(key, value, expiresAt);
      if (++keys % RDB_KEYS_PER_TURN === 0) {
        await out([writer.take()]);
        await new Promise((resolve) => setImmediate(resolve)); // writes go on meanwhile
      }
    }
    await out([writer.take(), ...writer.end()]);
    if (eof) {
      await peer.send(Buffer.from(mark));
    } else {
      const file = Buffer.concat(held);
      await peer.send(Buffer.from(`$${file.length}\r\n`));
      await peer.send(file);
    }
    return keys;
  }
}
