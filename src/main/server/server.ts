// Owns the daemon's lifecycle: open the Store, listen (TCP, TLS, Unix socket), accept clients up
// to the limit, and shut down gracefully: stop accepting, answer what is in flight, then close
// the Store (flush + fsync) so nothing acknowledged is lost.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { heapTrim, socketFds } from '../../shared/file-map.js';
import { withOwnReadBuffer } from '../../shared/socket-reads.js';
import { DEFAULTS, Store } from '../index.js';
import { storeLogger } from '../store-logger.js';
import { BackgroundSave } from './background-save.js';
import type { ClientSession } from './client-session.js';
import { type ServerContext, ServerCounters, type ServerSettings } from './command-context.js';
import { CommandLookup } from './command-lookup.js';
import { CommandStats } from './command-stats.js';
import { createCommandGroups, createCommandTable } from './commands/command-table.js';
import { Connection } from './connection.js';
import type { ConnectionOptions } from './connection-options.js';
import { IdleTrim } from './idle-trim.js';
import { type Listeners, openListeners } from './listeners.js';
import { type MetricsEndpoint, startMetricsEndpoint } from './metrics-endpoint.js';
import { createDaemonMetrics } from './metrics-registry.js';
import { checkNetworkThreads, resolveNetworkThreads } from './network-thread-count.js';
import { NetworkThreads } from './network-threads.js';
import { PlainGets } from './plain-gets.js';
import { PubSub } from './pubsub.js';
import { runRemoteRequests } from './remote-command.js';
import type { MasterClient } from './replication/master-link.js';
import { ReplicationState } from './replication/replication-state.js';
import type { StreamSocket } from './replication/stream-socket.js';
import { DEFAULT_PARSER_LIMITS, defaultMaxBulkBytes } from './resp-parser.js';
import { ScanCursors } from './scan-cursors.js';
import { checkServerOptions } from './server-option-checks.js';
import type { KvdServer, ServerOptions } from './server-options.js';
import { ThreadReturn } from './thread-return.js';

export type { KvdServer, ServerOptions };

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 6380;
/** After the Store has closed, clients that do not read their last replies are cut off. */
const LINGER_MS = 2_000;

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/**
 * Opens the Store in `options.dir` and starts serving it. Main thread. Rejects with
 * `KV_INVALID_ARGUMENT` for an unknown option or a bad value (before anything opens), the
 * Store's `KvError` (`KV_LOCKED` if another process has the directory), the listen error
 * (`EADDRINUSE`, …) or the replica's start-up error; after a failed start nothing stays open
 * and the directory is free again.
 */
export async function startServer(options: ServerOptions): Promise<KvdServer> {
  checkServerOptions(options);
  const log = storeLogger(options.logger).of('server');
  const threadCount = resolveNetworkThreads(options.networkThreads ?? 1, {
    cores: availableParallelism(),
    addon: socketFds !== undefined,
    plainClients:
      options.tls === undefined || options.port === false || options.unixPath !== undefined,
  });
  checkNetworkThreads(threadCount);
  const expected = options.requirepass === undefined ? undefined : digest(options.requirepass);
  const store = await Store.open(options.dir, { logger: options.logger, ...options.store });
  const connections = new Set<Connection>();
  const whenNoClients: (() => void)[] = [];
  const counters = new ServerCounters();
  const connectionOptions: ConnectionOptions = {
    parserLimits: {
      ...DEFAULT_PARSER_LIMITS,
      ...options.limits,
      maxBulkBytes:
        options.limits?.maxBulkBytes ??
        defaultMaxBulkBytes(
          options.store?.maxKeyBytes ?? DEFAULTS.maxKeyBytes,
          options.store?.maxValueBytes ?? DEFAULTS.maxValueBytes,
        ),
    },
    maxPendingReplies: options.maxPendingReplies ?? 1024,
    idleTimeoutMs: (options.idleTimeoutSeconds ?? 0) * 1000,
  };
  const maxClients = options.maxClients ?? 10_000;
  const host = options.port === false ? undefined : (options.host ?? DEFAULT_HOST);
  let nextClientId = 1;
  let closing: Promise<void> | undefined;
  // Complete before the first listener opens (a client may connect while the next one opens);
  // the bound port and socket path are filled in once known.
  const settings: { -readonly [K in keyof ServerSettings]: ServerSettings[K] } = {
    version: VERSION,
    host,
    port: undefined,
    unixPath: undefined,
    tls: options.tls !== undefined,
    maxClients,
    idleTimeoutSeconds: options.idleTimeoutSeconds ?? 0,
    passwordRequired: expected !== undefined,
    durability: options.store?.durability ?? DEFAULTS.durability,
    maxBulkBytes: connectionOptions.parserLimits.maxBulkBytes,
    maxKeyBytes: options.store?.maxKeyBytes ?? DEFAULTS.maxKeyBytes,
    maxValueBytes: options.store?.maxValueBytes ?? DEFAULTS.maxValueBytes,
    networkThreads: threadCount,
  };

  const commands = createCommandTable();
  const commandStats = new CommandStats(commands.keys());
  const threads =
    threadCount > 1
      ? new NetworkThreads({
          threads: threadCount,
          reader: store.readerInit(),
          maxKeyBytes: settings.maxKeyBytes,
          parserLimits: connectionOptions.parserLimits,
          idleTimeoutMs: connectionOptions.idleTimeoutMs,
          passwordRequired: expected !== undefined,
          timed: options.metrics !== undefined,
          loneClients: options.loneClients ?? 'when-cores-busy',
          log,
          unixPath: () => settings.unixPath,
          run: (session, requests) => runRemoteRequests(context, store, session, requests),
          onHandback: (id, socket, session) => serve(socket, id, session),
        })
      : undefined;

  const replication = new ReplicationState({
    store,
    log,
    masterAuth: options.masterAuth,
    masterUser: options.masterUser,
    options: options.replication,
    listeningPort: () => settings.port ?? 0,
    attachMasterClient: (socket) => attachMasterClient(socket),
  });
  // Freed memory goes back to the system once the daemon is idle (idle-trim.ts): idle of
  // commands and of background jobs, whose end (a merge's worker, its install) frees as much.
  const collect = globalThis.gc;
  const idleTrim =
    heapTrim || collect
      ? new IdleTrim(
          heapTrim,
          () => {
            threads?.collect(counters, commandStats); // a network thread's GETs are activity too
            return counters.commandsProcessed + store.backgroundJobsEnded();
          },
          collect &&
            (() => {
              const before = process.memoryUsage().heapTotal;
              threads?.collectGarbage(); // their heaps grew under the same load
              collect();
              const after = process.memoryUsage().heapTotal;
              log.debug({ heapTotalBefore: before, heapTotalAfter: after }, 'idle: collected');
            }),
        )
      : undefined;
  const context: ServerContext = {
    settings,
    log,
    counters,
    idleTrim,
    startedAt: Date.now(),
    commands,
    commandLookup: new CommandLookup(commands),
    plainGets:
      options.plainGets === false
        ? undefined
        : new PlainGets(store, settings.maxKeyBytes, counters, commandStats),
    commandGroups: createCommandGroups(),
    commandStats,
    scans: new ScanCursors(),
    backgroundSave: new BackgroundSave(
      resolvePath(options.backupDir ?? `${resolvePath(options.dir)}.backup`),
      store,
      log,
      options.backupBytesPerSecond,
    ),
    replication,
    pubsub: new PubSub(),
    clientCount: () => connections.size + (threads?.clientCount ?? 0),
    sessions: () => [...connections].map((c) => c.session).concat([...(threads?.sessions() ?? [])]),
    networkThreadClients: () => threads?.clientCount ?? 0,
    collectCounters: () => threads?.collect(counters, commandStats),
    runId: randomBytes(20).toString('hex'),
    checkPassword: (password) =>
      expected !== undefined && timingSafeEqual(digest(password), expected),
    shutdown: () => {
      close().catch(() => {}); // logged by close(), reported by `closed`
    },
  };

  function onSocket(socket: Socket): void {
    counters.connectionsReceived++;
    if (closing !== undefined) {
      socket.destroy();
      return;
    }
    if (context.clientCount() >= maxClients) {
      counters.rejectedConnections++;
      log.warn({ maxClients }, 'refusing a client: max number of clients reached');
      socket.on('error', () => {});
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    const id = nextClientId++;
    // Served here, it reads into the thread's read buffer (socket-reads.ts).
    if (!threads?.offer(socket, id)) serve(withOwnReadBuffer(socket), id);
  }

  /** Serves `socket` on this thread; `carried`: its session on a network thread, if it had one. */
  function serve(socket: Socket, id: number, carried?: ClientSession): void {
    if (closing !== undefined) {
      socket.destroy();
      return;
    }
    const onClose = (gone: Connection): void => {
      connections.delete(gone);
      if (connections.size === 0) for (const resolve of whenNoClients.splice(0)) resolve();
    };
    // A client a network thread handed back may go to one again (thread-return.ts).
    const returning =
      carried !== undefined && threads !== undefined
        ? new ThreadReturn(carried.threadReturns, (s, session, bytes) =>
            threads.returnToThread(s, session, bytes),
          )
        : undefined;
    connections.add(
      new Connection(socket, id, context, store, connectionOptions, onClose, carried, returning),
    );
  }

  /**
   * The client that applies a master's stream: a Connection like any other (same ordering,
   * transactions and commands), reading the stream from `socket`, its replies dropped. It is
   * authenticated whatever `--requirepass` says and may write on a replica.
   */
  function attachMasterClient(socket: StreamSocket): MasterClient {
    const masterContext: ServerContext = {
      ...context,
      settings: { ...settings, passwordRequired: false },
    };
    // One cast: the Connection reads and writes a StreamSocket as it would a net.Socket.
    const connection = new Connection(
      socket as unknown as Socket,
      nextClientId++,
      masterContext,
      store,
      { ...connectionOptions, idleTimeoutMs: 0 },
      (gone) => connections.delete(gone),
    );
    connection.session.isMaster = true;
    connections.add(connection);
    const client: MasterClient = {
      idle: () => {
        const info = connection.info();
        return info.pendingReplies === 0 && info.inputBytes === 0;
      },
      destroy: () => connection.destroy(),
      onKillRequest: undefined,
    };
    // CLIENT KILL asks the link, which lets the client finish what it was given first.
    connection.session.raw = { ...connection.session.raw, close: () => client.onKillRequest?.() };
    return client;
  }

  let opened: Listeners | undefined;
  let metrics: MetricsEndpoint | undefined;
  try {
    if (options.metrics) {
      // Before the first client: every command it sends is counted and timed.
      context.commandStats.enableLatency();
      metrics = await startMetricsEndpoint(
        {
          host: options.metrics.host ?? options.host ?? DEFAULT_HOST,
          port: options.metrics.port,
          log,
        },
        createDaemonMetrics({
          store,
          commandStats: context.commandStats,
          collectCounters: context.collectCounters,
          clientCount: context.clientCount,
          replication: () => replication.figures(),
        }),
      );
    }
    opened = await openListeners(
      {
        host: options.host ?? DEFAULT_HOST,
        port: options.port ?? DEFAULT_PORT,
        unixPath: options.unixPath,
        tls: options.tls,
        log,
      },
      onSocket,
    );
    settings.port = opened.port;
    settings.unixPath = opened.unixPath;
    if (options.replicaOf) await replication.startAsReplicaOf(options.replicaOf);
  } catch (cause) {
    // Nothing stays open after a failed start, and the directory is free again.
    await replication.close().catch(() => {});
    await metrics?.close();
    await opened?.close();
    for (const c of connections) c.destroy();
    await threads?.close();
    await store.close();
    throw cause;
  }
  const listeners: Listeners = opened;
  log.info(
    {
      dir: store.dir,
      host,
      port: listeners.port,
      unix: listeners.unixPath,
      tls: settings.tls,
      metrics: metrics?.url,
      networkThreads: threadCount,
    },
    'kvd serving',
  );
  idleTrim?.start();

  /** Clients that have not closed LINGER_MS after the Store closed are cut off. */
  async function lingerThenDestroy(): Promise<void> {
    if (connections.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => whenNoClients.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, LINGER_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    for (const c of connections) c.destroy();
  }

  async function shutdown(): Promise<void> {
    log.info({ clients: connections.size }, 'shutting down: no new clients, finishing requests');
    idleTrim?.stop();
    const listenersClosed = listeners.close();
    const metricsClosed = metrics?.close(); // a scrape in progress is cut off
    await replication.close(); // no more writes from a master
    await Promise.all([...connections].map((c) => c.drain()));
    for (const c of connections) c.end();
    await threads?.close();
    try {
      await store.close(); // stops a BGSAVE in progress, which then removes its staging copy
      await context.backgroundSave.settled();
      log.info({ dir: store.dir }, 'kvd stopped');
    } catch (cause) {
      log.error({ err: cause }, 'closing the store failed');
      throw cause;
    } finally {
      await lingerThenDestroy();
      await listenersClosed;
      await metricsClosed;
    }
  }

  let settleClosed: { resolve: () => void; reject: (cause: unknown) => void } | undefined;
  const closed = new Promise<void>((resolve, reject) => {
    settleClosed = { resolve, reject };
  });
  closed.catch(() => {}); // observed through close() or `closed`; never unhandled

  function close(): Promise<void> {
    if (!closing) {
      closing = shutdown();
      closing.then(settleClosed!.resolve, settleClosed!.reject);
    }
    return closing;
  }

  return {
    store,
    port: listeners.port,
    host,
    unixPath: listeners.unixPath,
    metrics: metrics && { host: metrics.host, port: metrics.port, url: metrics.url },
    closed,
    close,
    clients: () => [...connections].map((c) => c.info()),
    allClients: async () => {
      const remote = (await threads?.clientInfos()) ?? [];
      // Read after the threads answered: a client they handed back meanwhile is listed here.
      const local = [...connections].map((c) => c.info());
      const here = new Set(local.map((info) => info.id));
      return [...local, ...remote.filter((info) => !here.has(info.id))];
    },
  };
}

function digest(secret: string | Uint8Array): Buffer {
  return createHash('sha256').update(secret).digest();
}
