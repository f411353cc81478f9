// Owns the shapes of the daemon's public surface: the options `startServer` takes (checked by
// server-option-checks.ts) and the running server it returns (server.ts).

import type { Logger, Store, StoreOptions } from '../index.js';
import type { ConnectionInfo } from './connection-options.js';
import type { NetworkThreadsSetting } from './network-thread-count.js';
import type { MasterAddress, ReplicationOptions } from './replication/replication-state.js';
import type { RespParserLimits } from './resp-parser.js';

/** Options of `startServer`. Only `dir` is required. */
export interface ServerOptions {
  /** Store directory (created if missing). */
  readonly dir: string;
  /** TCP host (default 127.0.0.1). */
  readonly host?: string;
  /** TCP port (default 6380); 0 picks a free port; false: no TCP listener. */
  readonly port?: number | false;
  /** Also listen on this Unix socket path. */
  readonly unixPath?: string;
  /** PEM certificate and key: TCP clients must use TLS. */
  readonly tls?: {
    /** The certificate chain, PEM. */
    readonly cert: string | Buffer;
    /** The private key, PEM. */
    readonly key: string | Buffer;
  };
  /** Password clients must give with AUTH or HELLO … AUTH before any other command. */
  readonly requirepass?: string;
  /** Most clients connected at once (default 10,000); more are refused with an error. */
  readonly maxClients?: number;
  /** Close clients idle this many seconds (default 0: never). */
  readonly idleTimeoutSeconds?: number;
  /** Requests one client may have parsed and unanswered before it stops being read (default 1,024). */
  readonly maxPendingReplies?: number;
  /**
   * Request size limits (defaults: `DEFAULT_PARSER_LIMITS`, except `maxBulkBytes`, which
   * defaults to `defaultMaxBulkBytes` of the store's `maxKeyBytes` and `maxValueBytes`).
   */
  readonly limits?: Partial<RespParserLimits>;
  /** Options of the Store the server opens. */
  readonly store?: StoreOptions;
  /** Where BGSAVE writes its backup (default: `<dir>.backup`, beside the store directory). */
  readonly backupDir?: string;
  /** Bytes a second BGSAVE copies at most (`BackupOptions.bytesPerSecond`; default 0: no limit). */
  readonly backupBytesPerSecond?: number;
  /**
   * Serve Prometheus metrics over HTTP at `/metrics` on this port (0: a free one) and host
   * (default: `host`). Absent: no metrics listener, and commands are not timed into histograms.
   */
  readonly metrics?: {
    /** The port to listen on; 0 picks a free one. */
    readonly port: number;
    /** The host to listen on (default: the server's `host`). */
    readonly host?: string;
  };
  /** Start as a replica of this master (REPLICAOF at runtime changes it). */
  readonly replicaOf?: MasterAddress;
  /** The password the master asks replicas for (`--masterauth`). */
  readonly masterAuth?: string;
  /** The ACL user the replica authenticates as with `masterAuth` (`--masteruser`). */
  readonly masterUser?: string;
  /** As a master: the backlog's size and the min-replicas-to-write guard. */
  readonly replication?: ReplicationOptions;
  /**
   * Threads that serve clients, the main thread included (default 1 in-process; `kvd serve`
   * defaults to `'auto'`). With more, new clients are shared out in turn, and a network thread
   * answers a client's GETs and a few other reads (MGET, EXISTS, STRLEN, GETRANGE, TTL, …)
   * itself until it sends anything else (network-threads.ts). A number above 1 needs the
   * native addon. TLS clients stay on the main thread. `'auto'`: one per CPU core, at most
   * 4; 1 without the addon or when every listener speaks TLS (`resolveNetworkThreads`).
   */
  readonly networkThreads?: NetworkThreadsSetting;
  /**
   * Where the server's lines go (clients refused, protocol errors, idle clients closed, start
   * and stop, a command that failed unexpectedly): an object with `debug`, `info`, `warn` and
   * `error` methods taking `(fields, message)`, or `true` for kvd's JSON lines on stderr at
   * KVD_LOG_LEVEL (what `kvd serve` does). The store logs there too unless `store.logger`
   * says otherwise. Default: nothing is logged.
   */
  readonly logger?: Logger | boolean;
  /**
   * @internal Whether the main thread answers plain GETs straight from a client's bytes
   * (plain-gets.ts). Default true; off, every GET on the main thread takes the general path
   * (tests compare the two).
   */
  readonly plainGets?: boolean;
  /**
   * @internal When a network thread hands a client that waits for each reply (64 reads in a row
   * of one request) to the main thread: `'when-cores-busy'` (the default: while the machine's
   * cores spent under 15% of the last second idle, core-load.ts) or `'always'` (tests).
   */
  readonly loneClients?: 'when-cores-busy' | 'always';
}

/** A running daemon. */
export interface KvdServer {
  /** The open Store (for in-process use alongside the daemon). */
  readonly store: Store;
  /** The bound TCP port, or undefined without TCP. */
  readonly port: number | undefined;
  /** The TCP host it listens on, or undefined without TCP. */
  readonly host: string | undefined;
  /** The Unix socket's path, or undefined without one. */
  readonly unixPath: string | undefined;
  /** Where the metrics listener listens (`options.metrics`), or undefined without one. */
  readonly metrics:
    | {
        /** The metrics listener's host. */
        readonly host: string;
        /** Its bound port. */
        readonly port: number;
        /** The `/metrics` URL to scrape. */
        readonly url: string;
      }
    | undefined;
  /** Settles when the server has closed (by `close()` or SHUTDOWN); rejects if closing the Store failed. */
  readonly closed: Promise<void>;
  /** Graceful shutdown; idempotent; same outcome as `closed`. */
  close(): Promise<void>;
  /**
   * The state of every client the main thread serves, read synchronously. A network thread's
   * clients are not here (their state lives on their thread): `allClients` asks for them.
   */
  clients(): ConnectionInfo[];
  /**
   * The state of every client, the network threads' included (each thread reports its own;
   * `thread` says which). A client moving between threads as the call runs may be missing.
   */
  allClients(): Promise<ConnectionInfo[]>;
}
