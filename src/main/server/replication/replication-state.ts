// Owns the daemon's replication role: master (the default) or replica of a master (REPLICAOF,
// `--replicaof`), the link to that master, the ids and offsets, and what INFO replication and
// ROLE report. Main thread.

import { randomBytes } from 'node:crypto';
import type { Logger, Store } from '../../index.js';
import type { ClientSession } from '../client-session.js';
import type { CommandSpec } from '../commands/command-spec.js';
import { array, bulk, error, integer, type RespValue } from '../resp-value.js';
import { type MasterClient, MasterLink } from './master-link.js';
import { saveReplicaOffset, takeReplicaOffset } from './replica-offset-file.js';
import type { StreamSocket } from './stream-socket.js';

/** Where a master listens. */
export interface MasterAddress {
  readonly host: string;
  readonly port: number;
}

/** What the replication role needs from the server. */
export interface ReplicationDeps {
  readonly store: Store;
  readonly log: Logger;
  /** The password for the master (`--masterauth`). */
  readonly masterAuth: string | undefined;
  /** The port this server listens on, announced to the master (REPLCONF listening-port). */
  listeningPort(): number;
  /** Makes the client that applies the master's stream, reading from `socket`. */
  attachMasterClient(socket: StreamSocket): MasterClient;
}

const READONLY = error("READONLY You can't write against a read only replica.");

/** A replication id: 40 hex characters. */
function newReplId(): string {
  return randomBytes(20).toString('hex');
}

/** The daemon's role and, as a replica, its link. */
export class ReplicationState {
  /** This server's replication id as a master. */
  private replId = newReplId();
  /** The id it had before (as a replica: its master's), and the offset from which it holds. */
  private replId2 = '0'.repeat(40);
  private secondOffset = -1;
  /** Bytes of the replication stream this server has applied (as master: 0, nothing streamed). */
  private offset = 0;
  private link: MasterLink | undefined;
  /** Keys of other types skipped in full resyncs, by Redis type (INFO `kvd_skipped_*`). */
  readonly skippedTypes = new Map<string, number>();

  constructor(private readonly deps: ReplicationDeps) {}

  /** Whether this server is a replica (then clients may not write). */
  get isReplica(): boolean {
    return this.link !== undefined;
  }

  /** The master this server replicates, if it does. */
  get master(): MasterAddress | undefined {
    return this.link?.address;
  }

  /**
   * Becomes a replica of `address` (dropping any link it had: a full or partial resync
   * follows), or a master again with undefined (REPLICAOF NO ONE: the data stays; the old
   * master's id becomes the second id, as in Redis).
   */
  replicaOf(address: MasterAddress | undefined): void {
    this.follow(address, undefined);
  }

  /**
   * At start-up (`--replicaof`): becomes a replica of `address`, continuing from the id and
   * offset a clean stop kept (replica-offset-file.ts) when it names the same master.
   */
  async startAsReplicaOf(address: MasterAddress): Promise<void> {
    const saved = await takeReplicaOffset(this.deps.store.dir, address);
    this.follow(address, saved && { replId: saved.replId, offset: saved.offset });
  }

  private follow(
    address: MasterAddress | undefined,
    resume: { readonly replId: string; readonly offset: number } | undefined,
  ): void {
    const old = this.link;
    if (old && address && old.address.host === address.host && old.address.port === address.port) {
      return;
    }
    this.link = undefined;
    if (old) {
      void old.stop();
      if (!address) {
        this.replId2 = old.masterReplId === '?' ? this.replId : old.masterReplId;
        this.secondOffset = old.processedOffset + 1;
        this.offset = Math.max(0, old.processedOffset);
        this.replId = newReplId();
      }
    }
    if (!address) return;
    this.link = new MasterLink(address, {
      store: this.deps.store,
      log: this.deps.log,
      auth: this.deps.masterAuth,
      listeningPort: this.deps.listeningPort,
      attach: this.deps.attachMasterClient,
      skippedTypes: this.skippedTypes,
      resume,
    });
    this.link.start();
  }

  /**
   * On a replica, the reply refusing a write from anyone but the master (READONLY), which also
   * fails the transaction it would have joined, as in Redis; undefined when it may run.
   */
  refusal(session: ClientSession, spec: CommandSpec): RespValue | undefined {
    if (!this.link || session.isMaster || !spec.flags.includes('write')) return undefined;
    if (session.transaction.open) session.transaction.fail();
    return READONLY;
  }

  /**
   * Stops the link (shutdown). A replica that knows how far it applied its master's stream
   * flushes the store, then keeps the id and offset for its next start.
   */
  async close(): Promise<void> {
    const link = this.link;
    if (!link) return;
    await link.stop();
    if (link.masterReplId === '?' || link.processedOffset < 0) return;
    await this.deps.store.flush();
    await saveReplicaOffset(this.deps.store.dir, {
      master: link.address,
      replId: link.masterReplId,
      offset: link.processedOffset,
    });
  }

  /** INFO replication's fields, named as Redis names them. */
  infoFields(): (readonly [string, string | number])[] {
    const link = this.link;
    const skipped = [...this.skippedTypes].map(
      ([type, n]) => [`kvd_skipped_${type}_keys`, n] as const,
    );
    if (!link) {
      return [
        ['role', 'master'],
        ['connected_slaves', 0],
        ['master_failover_state', 'no-failover'],
        ['master_replid', this.replId],
        ['master_replid2', this.replId2],
        ['master_repl_offset', this.offset],
        ['second_repl_offset', this.secondOffset],
        ['repl_backlog_active', 0],
        ['repl_backlog_size', 1_048_576],
        ['repl_backlog_first_byte_offset', 0],
        ['repl_backlog_histlen', 0],
        ...skipped,
      ];
    }
    const offset = Math.max(0, link.processedOffset);
    return [
      ['role', 'slave'],
      ['master_host', link.address.host],
      ['master_port', link.address.port],
      ['master_link_status', link.up ? 'up' : 'down'],
      ['master_last_io_seconds_ago', link.lastIoSecondsAgo()],
      ['master_sync_in_progress', link.syncing ? 1 : 0],
      ['slave_read_repl_offset', Math.max(0, link.readOffset)],
      ['slave_repl_offset', offset],
      ['slave_priority', 100],
      ['slave_read_only', 1],
      ['replica_announced', 1],
      ['connected_slaves', 0],
      ['master_failover_state', 'no-failover'],
      ['master_replid', link.masterReplId === '?' ? this.replId : link.masterReplId],
      ['master_replid2', this.replId2],
      ['master_repl_offset', offset],
      ['second_repl_offset', this.secondOffset],
      ['repl_backlog_active', 0],
      ['repl_backlog_size', 1_048_576],
      ['repl_backlog_first_byte_offset', 0],
      ['repl_backlog_histlen', 0],
      ['kvd_full_syncs', link.fullSyncs],
      ['kvd_partial_syncs', link.partialSyncs],
      ['kvd_last_sync_keys', link.lastSyncKeys],
      ...skipped,
    ];
  }

  /** ROLE's reply: `master offset []`, or `slave host port state offset`. */
  roleReply(): RespValue {
    const link = this.link;
    if (!link) return array([bulk('master'), integer(this.offset), array([])]);
    return array([
      bulk('slave'),
      bulk(link.address.host),
      integer(link.address.port),
      bulk(link.state),
      integer(Math.max(-1, link.processedOffset)),
    ]);
  }
}
