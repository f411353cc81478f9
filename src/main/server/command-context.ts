// Owns what a command handler may touch: the store (through a narrow interface), the client's
// session, and the server's shared state and counters.

import type { Durability, Logger, Store } from '../index.js';
import type { BackgroundSave } from './background-save.js';
import type { ClientSession } from './client-session.js';
import type { CommandLookup } from './command-lookup.js';
import type { CommandStats } from './command-stats.js';
import type { CommandSpec } from './commands/command-spec.js';
import type { IdleTrim } from './idle-trim.js';
import type { PlainGets } from './plain-gets.js';
import type { PubSub } from './pubsub.js';
import type { ReplicationState } from './replication/replication-state.js';
import type { ScanCursors } from './scan-cursors.js';

/** The part of `Store` the commands use. */
export type CommandStore = Pick<
  Store,
  | 'get'
  | 'getSync'
  | 'getMany'
  | 'has'
  | 'set'
  | 'delete'
  | 'batch'
  | 'stats'
  | 'dir'
  | 'incrBy'
  | 'append'
  | 'setWith'
  | 'getDelete'
  | 'expire'
  | 'persist'
  | 'expirySync'
  | 'keys'
  | 'range'
  | 'clear'
  | 'compact'
  | 'version'
  | 'sequence'
  | 'entrySync'
  | 'randomKey'
  | 'checkpoint'
  | 'setDurability'
>;

/**
 * The store as a connection holds it: the commands' part, and the target-taking reads and
 * writes it serves GET and plain SET with (not given to handlers: EXEC runs them on a
 * transaction's store).
 */
export type ConnectionStore = CommandStore & Pick<Store, 'getFor' | 'setFor' | 'localReaderIfOpen'>;

/** Server-wide counters, as INFO reports them. Main thread. */
export class ServerCounters {
  connectionsReceived = 0;
  rejectedConnections = 0;
  commandsProcessed = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  protocolErrors = 0;
  /**
   * Commands the network threads answered (THREAD_COMMANDS, network-messages.ts; INFO
   * kvd_network_thread_gets), added by `collectCounters`.
   */
  networkThreadGets = 0;

  /** CONFIG RESETSTAT: zeroes every counter. */
  reset(): void {
    this.connectionsReceived = 0;
    this.rejectedConnections = 0;
    this.commandsProcessed = 0;
    this.keyspaceHits = 0;
    this.keyspaceMisses = 0;
    this.protocolErrors = 0;
    this.networkThreadGets = 0;
  }
}

/** The listening addresses and limits, as INFO and HELLO report them. */
export interface ServerSettings {
  readonly version: string;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly unixPath: string | undefined;
  readonly tls: boolean;
  readonly maxClients: number;
  readonly idleTimeoutSeconds: number;
  readonly passwordRequired: boolean;
  /** The store's durability mode (CONFIG SET appendfsync changes it). */
  durability: Durability;
  /** Largest argument in a request (`--max-bulk-bytes`, Redis's proto-max-bulk-len). */
  readonly maxBulkBytes: number;
  /** The store's `maxKeyBytes` (a transaction checks its keys as the store would). */
  readonly maxKeyBytes: number;
  /** The store's `maxValueBytes` (a transaction checks its values as the store would). */
  readonly maxValueBytes: number;
  /** Threads serving clients, the main one included (`networkThreads`). */
  readonly networkThreads: number;
}

/** What the server shares with every command. Main thread. */
export interface ServerContext {
  readonly settings: ServerSettings;
  /** Where the server's lines go (`ServerOptions.logger`; silent by default). */
  readonly log: Logger;
  readonly counters: ServerCounters;
  /** Gives freed memory back when the daemon is idle (INFO memory counts its work). */
  readonly idleTrim?: IdleTrim;
  /** When the server started (ms since the epoch). */
  readonly startedAt: number;
  /** The command table, by lower-case name. */
  readonly commands: ReadonlyMap<string, CommandSpec>;
  /** The same table, looked up by a request's name bytes in any case (no string made). */
  readonly commandLookup: CommandLookup;
  /** Answers plain GETs from the bytes a main-thread client sent (plain-gets.ts); off: undefined. */
  readonly plainGets?: PlainGets;
  /** Each command's group (Redis's group names: `string`, `generic`, …), by lower-case name. */
  readonly commandGroups: ReadonlyMap<string, string>;
  /** Per-command counters (INFO commandstats), counted by the connections. */
  readonly commandStats: CommandStats;
  /** SCAN's live cursors. */
  readonly scans: ScanCursors;
  /** BGSAVE: the background backup, its directory and how the last one went. */
  readonly backgroundSave: BackgroundSave;
  /** The replication role (master, or replica of a master) and the link to the master. */
  readonly replication: ReplicationState;
  /** Publish/subscribe: channels, patterns and their listeners. */
  readonly pubsub: PubSub;
  /** Connected clients right now. */
  clientCount(): number;
  /** Every connected client's session (CLIENT LIST, CLIENT KILL). */
  sessions(): Iterable<ClientSession>;
  /** Clients a network thread serves now (they have sent only what a thread serves so far). */
  networkThreadClients(): number;
  /** Adds what the network threads counted (GETs, hits, misses) to `counters` and `commandStats`. */
  collectCounters(): void;
  /** 40 hex characters, new each time the server starts (INFO's run_id, which Sentinel reads). */
  readonly runId: string;
  /** Whether `password` is the server's (`--requirepass`), compared in constant time. */
  checkPassword(password: Uint8Array): boolean;
  /** Starts a graceful shutdown (SHUTDOWN); never throws. */
  shutdown(): void;
}

/** The arguments every command handler gets. */
export interface CommandContext {
  readonly store: CommandStore;
  readonly client: ClientSession;
  readonly server: ServerContext;
}
