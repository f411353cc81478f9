// Owns the daemon's replication role: master (the default) or replica of a master (REPLICAOF,
// `--replicaof`), the link to that master, the ids and offsets, and what INFO replication and
// ROLE report. Main thread.

import type { Logger, Store } from '../../index.js';
import type { ClientSession } from '../client-session.js';
import type { CommandSpec } from '../commands/command-spec.js';
import { array, bulk, error, integer, type RespValue } from '../resp-value.js';
import { type MasterClient, MasterLink } from './master-link.js';
import { MasterRole } from './master-role.js';
import {
  removeReplicaOffset,
  saveReplicaOffset,
  takeReplicaOffset,
} from './replica-offset-file.js';
import type { ReplicaBufferLimit } from './replica-peer.js';
import type { StreamSocket } from './stream-socket.js';

/** Where a master listens. */
export interface MasterAddress {
  /** The master's host name or IP address. */
  readonly host: string;
  /** The master's TCP port. */
  readonly port: number;
}

/** What the replication role needs from the server. */
export interface ReplicationDeps {
  readonly store: Store;
  readonly log: Logger;
  /** The password for the master (`--masterauth`). */
  readonly masterAuth: string | undefined;
  /** The ACL user for the master (`--masteruser`, Redis 6+ masters with ACLs). */
  readonly masterUser?: string | undefined;
  /** The port this server listens on, announced to the master (REPLCONF listening-port). */
  listeningPort(): number;
  /** Makes the client that applies the master's stream, reading from `socket`. */
  attachMasterClient(socket: StreamSocket): MasterClient;
  /** The master's settings (`ReplicationOptions`). */
  readonly options?: ReplicationOptions;
}

/** How this server replicates as a master (Redis's settings of the same names). */
export interface ReplicationOptions {
  /** Bytes of stream the backlog keeps for partial resyncs (`repl-backlog-size`, default 1 MiB). */
  readonly backlogBytes?: number;
  /**
   * Writes are refused (`-NOREPLICAS`) unless at least this many replicas acknowledged within
   * `minReplicasMaxLag` seconds (`min-replicas-to-write`; default 0: never refused).
   */
  readonly minReplicasToWrite?: number;
  /** Seconds since a replica's last ACK within which it counts as good (default 10). */
  readonly minReplicasMaxLag?: number;
  /** Seconds between the PINGs the stream carries (`repl-ping-replica-period`, default 10). */
  readonly pingPeriodSeconds?: number;
  /**
   * When a replica that lags is dropped (`client-output-buffer-limit replica`; default 256 MiB
   * unsent at once, or 64 MiB for 60 s).
   */
  readonly replicaBufferLimit?: ReplicaBufferLimit;
  /**
   * As a replica, the address and port to announce to the master instead of the connection's
   * address and the port it listens on (`replica-announce-ip`, `replica-announce-port`: behind
   * NAT or in containers, where Sentinel must reach the replica).
   */
  readonly announceIp?: string;
  /** The port announced with `announceIp` (see there); default: the port it listens on. */
  readonly announcePort?: number;
}

const READONLY = error("READONLY You can't write against a read only replica.");
const NOREPLICAS = error('NOREPLICAS Not enough good replicas to write.');

/** Replication's figures for the metrics. */
export interface ReplicationFigures {
  readonly role: 'master' | 'replica';
  /** As master: bytes of stream made; as replica: bytes of the master's stream applied. */
  readonly offset: number;
  /** As replica: whether the stream from the master is flowing. */
  readonly linkUp: boolean;
  /** As replica: seconds since the master last sent anything. */
  readonly lastIoSeconds: number;
  /** As master: each replica (`ip:port`), how far behind its last ACK is, and how long ago it was. */
  readonly replicas: readonly { name: string; lagBytes: number; lagSeconds: number }[];
}

/** The daemon's role and, as a replica, its link. */
export class ReplicationState {
  /** The master side: this server's stream, ids, backlog and replicas. */
  readonly master: MasterRole;
  private link: MasterLink | undefined;
  private changing: Promise<void> = Promise.resolve();
  private readonly minReplicas: number;
  private readonly maxLagSeconds: number;
  /** Keys of other types skipped in full resyncs, by Redis type (INFO `kvd_skipped_*`). */
  readonly skippedTypes = new Map<string, number>();

  constructor(private readonly deps: ReplicationDeps) {
    this.master = new MasterRole(deps.store, deps.log, deps.options);
    this.minReplicas = deps.options?.minReplicasToWrite ?? 0;
    this.maxLagSeconds = deps.options?.minReplicasMaxLag ?? 10;
  }

  /** Whether this server is a replica (then clients may not write). */
  get isReplica(): boolean {
    return this.link !== undefined;
  }

  /** The master this server replicates, if it does. */
  get masterAddress(): MasterAddress | undefined {
    return this.link?.address;
  }

  /**
   * Becomes a replica of `address` (dropping any link it had: a full or partial resync
   * follows), or a master again with undefined (REPLICAOF NO ONE: the data stays; the old
   * master's id becomes the second id, as in Redis).
   */
  replicaOf(address: MasterAddress | undefined): Promise<void> {
    return this.change(() => this.follow(address, undefined));
  }

  /**
   * At start-up (`--replicaof`): becomes a replica of `address`, continuing from the id and
   * offset a clean stop kept (replica-offset-file.ts) when it names the same master.
   */
  startAsReplicaOf(address: MasterAddress): Promise<void> {
    return this.change(async () => {
      const saved = await takeReplicaOffset(this.deps.store.dir, address);
      await this.follow(address, saved && { replId: saved.replId, offset: saved.offset });
    });
  }

  /** Role changes, one at a time. */
  private change(step: () => Promise<void>): Promise<void> {
    const next = this.changing.then(step, step);
    this.changing = next.catch(() => undefined);
    return next;
  }

  private async follow(
    address: MasterAddress | undefined,
    resume: { readonly replId: string; readonly offset: number } | undefined,
  ): Promise<void> {
    const old = this.link;
    if (old && address && old.address.host === address.host && old.address.port === address.port) {
      return;
    }
    if (address) {
      await this.master.stop(); // a replica serves no replicas: they are dropped
      await old?.stop();
      if (old) await removeReplicaOffset(this.deps.store.dir);
      this.link = new MasterLink(address, {
        store: this.deps.store,
        log: this.deps.log,
        auth: this.deps.masterAuth,
        authUser: this.deps.masterUser,
        listeningPort: () => this.deps.options?.announcePort ?? this.deps.listeningPort(),
        announceIp: this.deps.options?.announceIp,
        attach: this.deps.attachMasterClient,
        skippedTypes: this.skippedTypes,
        resume,
      });
      this.link.start();
      return;
    }
    if (!old) return;
    // NO ONE: the master client finishes what it was given; the stream this server makes from
    // now on continues the old master's offsets under a new id (the old one is the second id).
    await old.stop();
    // Once the link has stopped (no checkpoint is being written any more): the checkpoint names
    // the old master, and a restart must not continue from it after writes taken as a master.
    await removeReplicaOffset(this.deps.store.dir);
    await this.master.promote(
      old.masterReplId === '?' ? this.master.replId : old.masterReplId,
      Math.max(0, old.processedOffset),
    );
    this.link = undefined; // clients may write from here on, with the feed already on
  }

  /** Whether writes may be refused (a replica, or a master with `minReplicasToWrite`). */
  get guardsWrites(): boolean {
    return this.link !== undefined || this.minReplicas > 0;
  }

  /**
   * The reply refusing a write, which also fails the transaction it would have joined, as in
   * Redis; undefined when it may run. On a replica, a write from anyone but the master
   * (READONLY); on a master with `minReplicasToWrite`, any write while fewer replicas than that
   * acknowledged within `minReplicasMaxLag` seconds (NOREPLICAS).
   */
  refusal(session: ClientSession, spec: CommandSpec): RespValue | undefined {
    if (session.isMaster || !spec.flags.includes('write')) return undefined;
    let refused: RespValue | undefined;
    if (this.link) refused = READONLY;
    else if (this.minReplicas > 0 && this.goodReplicas() < this.minReplicas) refused = NOREPLICAS;
    if (refused && session.transaction.open) session.transaction.fail();
    return refused;
  }

  /** Replicas online whose last ACK is at most `minReplicasMaxLag` seconds old. */
  private goodReplicas(): number {
    const oldest = Date.now() - this.maxLagSeconds * 1000;
    return this.master.replicas().filter((r) => r.state === 'online' && r.lastAckAt >= oldest)
      .length;
  }

  /**
   * Stops the link (shutdown). A replica that knows how far it applied its master's stream
   * flushes the store, then keeps the id and offset for its next start.
   */
  async close(): Promise<void> {
    await this.changing;
    await this.master.stop();
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
    const m = this.master;
    const backlog = m.backlogInfo();
    const backlogFields = [
      ['repl_backlog_active', backlog.active ? 1 : 0],
      ['repl_backlog_size', backlog.size],
      ['repl_backlog_first_byte_offset', backlog.active ? backlog.first + 1 : 0],
      ['repl_backlog_histlen', backlog.length],
    ] as const;
    if (!link) {
      const replicas = m.replicas();
      return [
        ['role', 'master'],
        ['connected_slaves', replicas.length],
        ...replicas.map(
          (r, i) =>
            [
              `slave${i}`,
              `ip=${r.ip},port=${r.session.replicaPort},state=${r.state === 'online' ? 'online' : 'wait_bgsave'},` +
                `offset=${Math.max(0, r.ackOffset)},lag=${Math.floor((Date.now() - r.lastAckAt) / 1000)}`,
            ] as const,
        ),
        ['master_failover_state', 'no-failover'],
        ['master_replid', m.replId],
        ['master_replid2', m.replId2],
        ['master_repl_offset', m.offset],
        ['second_repl_offset', m.secondOffset],
        ...backlogFields,
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
      // While the link is down: for how long (-1: it never came up), as Sentinel reads it.
      ...(link.up
        ? []
        : ([
            [
              'master_link_down_since_seconds',
              link.downSince === undefined ? -1 : Math.floor((Date.now() - link.downSince) / 1000),
            ],
          ] as const)),
      ['slave_read_repl_offset', Math.max(0, link.readOffset)],
      ['slave_repl_offset', offset],
      ['slave_priority', 100],
      ['slave_read_only', 1],
      ['replica_announced', 1],
      ['connected_slaves', 0],
      ['master_failover_state', 'no-failover'],
      ['master_replid', link.masterReplId === '?' ? m.replId : link.masterReplId],
      ['master_replid2', m.replId2],
      ['master_repl_offset', offset],
      ['second_repl_offset', m.secondOffset],
      ...backlogFields,
      ['kvd_full_syncs', link.fullSyncs],
      ['kvd_partial_syncs', link.partialSyncs],
      ['kvd_last_sync_keys', link.lastSyncKeys],
      ...skipped,
    ];
  }

  /** The figures the metrics export (metrics-registry.ts). */
  figures(): ReplicationFigures {
    const link = this.link;
    if (link) {
      return {
        role: 'replica',
        offset: Math.max(0, link.processedOffset),
        linkUp: link.up,
        lastIoSeconds: link.lastIoSecondsAgo(),
        replicas: [],
      };
    }
    const offset = this.master.offset;
    return {
      role: 'master',
      offset,
      linkUp: false,
      lastIoSeconds: 0,
      replicas: this.master.replicas().map((r) => ({
        name: `${r.ip}:${r.session.replicaPort}`,
        lagBytes: Math.max(0, offset - Math.max(0, r.ackOffset)),
        lagSeconds: Math.floor((Date.now() - r.lastAckAt) / 1000),
      })),
    };
  }

  /** ROLE's reply: `master offset []`, or `slave host port state offset`. */
  roleReply(): RespValue {
    const link = this.link;
    if (!link) {
      const replicas = this.master
        .replicas()
        .filter((r) => r.state === 'online')
        .map((r) =>
          array([
            bulk(r.ip),
            bulk(String(r.session.replicaPort)),
            bulk(String(Math.max(0, r.ackOffset))),
          ]),
        );
      return array([bulk('master'), integer(this.master.offset), array(replicas)]);
    }
    return array([
      bulk('slave'),
      bulk(link.address.host),
      integer(link.address.port),
      bulk(link.state),
      integer(Math.max(-1, link.processedOffset)),
    ]);
  }
}
