// Owns the daemon's network threads (`networkThreads` > 1): starting them, giving them newly
// accepted clients in turn with the main thread (a socket moves by a copy of its fd), running
// here the requests a thread's client sends that the thread does not answer (writes, SCAN, AUTH,
// …: remote-command.ts), taking a client back when it sends one that needs its own connection
// here (MULTI, WATCH, SUBSCRIBE, QUIT, …) or when it mostly writes or waits for each reply
// (get-connection.ts), moving such a client to a thread again once it pipelines the thread's
// reads (thread-return.ts), and standing for the clients they serve in CLIENT LIST, CLIENT
// KILL, `allClients`, INFO's client count and counters, the metrics, and maxclients. How many
// threads run: network-thread-count.ts.
//
// Why: a GET-only load is bound by one thread's socket work, and the machine has cores left
// (bench/ANALYSIS.md, "How much of the two cores each server uses"). Every command but the
// thread's reads runs on the main thread, and every client that sends one that needs its
// connection moves there, so MULTI, WATCH, pub/sub, key turns, the writer's queue and
// replication see one thread as before. A network thread reads through the shared
// index as the reader pool does, so it sees every write the writer has published.

import { Buffer } from 'node:buffer';
import { closeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { socketFds } from '../../shared/file-map.js';
import type { Logger } from '../../shared/logger.js';
import type { ReaderInit } from '../../shared/messages.js';
import {
  BLOCK_CALLS,
  BLOCK_LATENCY_BUCKETS,
  BLOCK_LATENCY_SECONDS,
  BLOCK_USEC,
  COMMAND_BLOCK,
  COUNTER_HITS,
  COUNTER_MISSES,
  commandCounter,
  type FromNetworkThread,
  NETWORK_COUNTERS,
  type NetworkClientState,
  type NetworkThreadInit,
  THREAD_COMMANDS,
  type ToNetworkThread,
} from '../../shared/network-messages.js';
import { socketOnFd } from '../../shared/socket-reads.js';
import { threadExecArgv } from '../thread-exec-argv.js';
import { ClientSession, type RawSocket, socketAddresses } from './client-session.js';
import type { ServerCounters } from './command-context.js';
import type { CommandStats } from './command-stats.js';
import type { ConnectionInfo } from './connection-options.js';
import { CoreLoad, type LoneClientsHandBack } from './core-load.js';
import type { RemoteReplies } from './remote-command.js';
import type { RespParserLimits } from './resp-parser.js';

/** What the network threads need from the server. */
export interface NetworkThreadsOptions {
  /** Threads in all, the main thread included (2 or more). */
  readonly threads: number;
  readonly reader: ReaderInit;
  readonly maxKeyBytes: number;
  /** The connections' request limits. */
  readonly parserLimits: RespParserLimits;
  readonly idleTimeoutMs: number;
  /** Clients must AUTH before they read (`requirepass`). */
  readonly passwordRequired: boolean;
  /** Count latencies for the metrics endpoint (`CommandStats.enableLatency`). */
  readonly timed: boolean;
  /** When a thread hands a client that waits for each reply to the main thread (core-load.ts). */
  readonly loneClients: LoneClientsHandBack;
  readonly log: Logger;
  /** The Unix socket's path, for a Unix client's address (as the Connection names it). */
  readonly unixPath: () => string | undefined;
  /**
   * Runs a client's requests on the main thread, for its session here, up to the first it does
   * not run for a thread's client (`runRemoteRequests`).
   */
  readonly run: (session: ClientSession, requests: Buffer[][]) => Promise<RemoteReplies>;
  /**
   * A client comes back to the main thread: serve `socket` (its unread bytes put back), with
   * what `session` holds (name, library, authentication, protocol, age) carried over.
   */
  readonly onHandback: (id: number, socket: Socket, session: ClientSession) => void;
}

const EMPTY = Buffer.alloc(0);

/** A thread's client has no socket here: bytes that are not replies go nowhere. */
const UNSOCKETED: RawSocket = {
  write: () => false,
  drained: () => Promise.resolve(),
  close: () => {},
  pending: () => 0,
};

interface RemoteClient {
  readonly session: ClientSession;
  readonly thread: Worker;
}

/** A `list` sent to a thread, settled by its `listed` (or with nothing, if the thread exits). */
interface Listing {
  readonly thread: Worker;
  readonly settle: (clients: readonly NetworkClientState[]) => void;
}

/** The running network threads. Main thread. */
export class NetworkThreads {
  private readonly threads: Worker[] = [];
  private readonly clients = new Map<number, RemoteClient>();
  private readonly counters: Float64Array;
  /** The counters' values last added to the server's (`collect`). */
  private readonly collected: Float64Array;
  /** Which thread takes the next client: 0 the main thread, i the (i−1)th network thread. */
  private turn = 0;
  private closing = false;
  private readonly exited: Promise<void>[] = [];
  /** `list` requests awaiting their thread's `listed`, by request number. */
  private readonly listings = new Map<number, Listing>();
  private nextListing = 0;
  private readonly coreLoad: CoreLoad;

  constructor(private readonly options: NetworkThreadsOptions) {
    this.coreLoad = new CoreLoad(options.loneClients);
    const extra = options.threads - 1;
    const shared = new SharedArrayBuffer(extra * NETWORK_COUNTERS * 8);
    this.counters = new Float64Array(shared);
    this.collected = new Float64Array(this.counters.length);
    for (let slot = 0; slot < extra; slot++) {
      const init: NetworkThreadInit = {
        ...options.reader,
        maxKeyBytes: options.maxKeyBytes,
        parserLimits: options.parserLimits,
        idleTimeoutMs: options.idleTimeoutMs,
        counters: shared,
        slot,
        timed: options.timed,
        coreLoad: this.coreLoad.shared,
      };
      const thread = new Worker(new URL('../../workers/network-thread.js', import.meta.url), {
        workerData: init,
        execArgv: threadExecArgv(),
      });
      thread.on('message', (message: FromNetworkThread) => this.onMessage(thread, message));
      thread.on('error', (err) => options.log.error({ err }, 'network thread crashed'));
      this.exited.push(
        new Promise((resolve) =>
          thread.once('exit', () => {
            this.forget(thread);
            resolve();
          }),
        ),
      );
      thread.unref();
      this.threads.push(thread);
    }
  }

  /** Clients the network threads serve now. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Their sessions (id, addresses, age), for CLIENT LIST and CLIENT KILL. */
  sessions(): Iterable<ClientSession> {
    return [...this.clients.values()].map((c) => c.session);
  }

  /**
   * Gives the newly accepted `socket` to a network thread if it is that thread's turn (returns
   * true: the socket is closed here, its copy lives on there), else returns false: the main
   * thread serves it. TLS sockets always stay: their TLS state lives here.
   */
  offer(socket: Socket, id: number): boolean {
    const turn = this.turn;
    this.turn = (turn + 1) % (this.threads.length + 1);
    const thread = this.threads[turn - 1];
    const copy = thread === undefined ? undefined : this.fdCopy(socket);
    if (thread === undefined || copy === undefined) return false;
    const { address, local } = socketAddresses(socket, this.options.unixPath());
    const session = new ClientSession(id, address, this.options.passwordRequired, local);
    this.hand(socket, copy, session, thread, EMPTY);
    return true;
  }

  /**
   * Moves a client the main thread serves to the network thread with the fewest clients
   * (thread-return.ts): `bytes`, read and not parsed, are the first it takes. Returns true once
   * `socket` is destroyed here (its fd's copy lives on there), false if it stays.
   */
  returnToThread(socket: Socket, session: ClientSession, bytes: Buffer): boolean {
    const copy = this.threads.length === 0 ? undefined : this.fdCopy(socket);
    if (copy === undefined) return false;
    const served = new Map(this.threads.map((thread) => [thread, 0]));
    for (const client of this.clients.values())
      served.set(client.thread, (served.get(client.thread) ?? 0) + 1);
    const [thread] = [...served].reduce((least, next) => (next[1] < least[1] ? next : least));
    session.threadReturns++;
    this.hand(socket, copy, session, thread, bytes);
    return true;
  }

  /**
   * A copy of `socket`'s fd for a network thread, or undefined: while closing, for a TLS socket
   * (its TLS state lives here), or if it has no fd or the copy failed.
   */
  private fdCopy(socket: Socket): number | undefined {
    if (this.closing || 'encrypted' in socket) return undefined;
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (fd === undefined || fd < 0) return undefined;
    const copy = socketFds!.dupFd(fd);
    return typeof copy === 'number' ? copy : undefined;
  }

  /** Serves `session`'s client on `thread` from `fd` (a copy of `socket`'s) and `bytes` on. */
  private hand(
    socket: Socket,
    fd: number,
    session: ClientSession,
    thread: Worker,
    bytes: Buffer,
  ): void {
    const id = session.id;
    session.ioThread = this.threads.indexOf(thread) + 1;
    session.raw = { ...UNSOCKETED, close: () => this.post(thread, { kind: 'kill', id }) };
    this.clients.set(id, { session, thread });
    socket.destroy(); // the copy keeps the connection open
    this.post(thread, {
      kind: 'adopt',
      id,
      fd,
      authenticated: session.authenticated,
      protocol: session.protocol,
      bytes: Uint8Array.from(bytes), // its own memory: a view would carry its whole buffer
    });
  }

  /**
   * The state of every client the network threads serve (`KvdServer.allClients`): each thread
   * reports its clients, and their sessions here add address and name. A client the thread
   * listed and has since handed back or lost is left out.
   */
  async clientInfos(): Promise<ConnectionInfo[]> {
    const lists = await Promise.all(this.threads.map((thread) => this.listOf(thread)));
    const infos: ConnectionInfo[] = [];
    for (const state of lists.flat()) {
      const session = this.clients.get(state.id)?.session;
      if (session !== undefined)
        infos.push({
          ...state,
          address: session.address,
          name: session.name,
          thread: session.ioThread,
        });
    }
    return infos;
  }

  private listOf(thread: Worker): Promise<readonly NetworkClientState[]> {
    if (this.closing) return Promise.resolve([]);
    const request = this.nextListing++;
    return new Promise((settle) => {
      this.listings.set(request, { thread, settle });
      this.post(thread, { kind: 'list', request });
    });
  }

  /** Adds what the network threads counted since the last call to the server's counters. */
  collect(counters: ServerCounters, commandStats: CommandStats): void {
    const now = this.counters;
    const before = this.collected;
    // Each counter's growth since the last call, summed over the threads' slots.
    const grown = new Float64Array(NETWORK_COUNTERS);
    for (let at = 0; at < now.length; at++) grown[at % NETWORK_COUNTERS]! += now[at]! - before[at]!;
    before.set(now);
    counters.keyspaceHits += grown[COUNTER_HITS]!;
    counters.keyspaceMisses += grown[COUNTER_MISSES]!;
    THREAD_COMMANDS.forEach((name, command) => {
      const calls = grown[commandCounter(command, BLOCK_CALLS)]!;
      counters.commandsProcessed += calls;
      counters.networkThreadGets += calls;
      const stats = commandStats.of(name);
      stats.calls += calls;
      stats.usec += grown[commandCounter(command, BLOCK_USEC)]!;
      const buckets = commandCounter(command, BLOCK_LATENCY_BUCKETS);
      stats.latency?.observeMany(
        calls,
        grown[commandCounter(command, BLOCK_LATENCY_SECONDS)]!,
        grown.subarray(buckets, commandCounter(command, COMMAND_BLOCK)),
      );
    });
  }

  /** Has every network thread run a full garbage collection (the daemon is idle: idle-trim.ts). */
  collectGarbage(): void {
    for (const thread of this.threads) this.post(thread, { kind: 'collect' });
  }

  /** Ends every network thread's clients (their answered replies sent) and the threads. */
  async close(): Promise<void> {
    this.closing = true;
    this.coreLoad.close();
    // Held until they exit: with the listeners closed, an unref'd thread would let the process
    // end before its clients have their last replies (and `kvd serve` would exit 13, its
    // awaited close unsettled).
    for (const thread of this.threads) {
      thread.ref();
      this.post(thread, { kind: 'close' });
    }
    await Promise.all(this.exited);
  }

  private post(thread: Worker, message: ToNetworkThread, transfer?: ArrayBuffer[]): void {
    thread.postMessage(message, transfer);
  }

  private onMessage(thread: Worker, message: FromNetworkThread): void {
    switch (message.kind) {
      case 'gone':
        this.clients.delete(message.id);
        break;
      case 'run': {
        const client = this.clients.get(message.id);
        if (client === undefined) break;
        const requests = message.requests.map((args) =>
          args.map((a) => Buffer.from(a.buffer, a.byteOffset, a.length)),
        );
        void this.options.run(client.session, requests).then(({ reply, answered }) => {
          if (this.clients.get(message.id) !== client) return;
          // Moved, not copied: a KEYS reply can be megabytes (its buffer is its own).
          this.post(
            thread,
            {
              kind: 'ran',
              id: message.id,
              reply,
              answered,
              authenticated: client.session.authenticated,
              protocol: client.session.protocol,
            },
            [reply.buffer as ArrayBuffer],
          );
        });
        break;
      }
      case 'handback': {
        const session = this.clients.get(message.id)?.session;
        this.clients.delete(message.id);
        if (this.closing) {
          closeSync(message.fd);
          break;
        }
        const socket = socketOnFd(message.fd);
        const bytes = message.bytes;
        if (bytes.length > 0)
          socket.unshift(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
        this.options.onHandback(
          message.id,
          socket,
          session ?? new ClientSession(message.id, '', this.options.passwordRequired),
        );
        break;
      }
      case 'collected':
        this.options.log.debug(
          {
            thread: this.threads.indexOf(thread) + 1,
            heapTotalBefore: message.heapBefore,
            heapTotalAfter: message.heapAfter,
          },
          'idle: network thread collected',
        );
        break;
      case 'listed':
        this.listings.get(message.request)?.settle(message.clients);
        this.listings.delete(message.request);
        break;
      case 'closed':
        thread.terminate().catch(() => {});
        break;
    }
  }

  /** A thread that exited takes its clients with it. */
  private forget(thread: Worker): void {
    for (const [id, client] of this.clients) if (client.thread === thread) this.clients.delete(id);
    for (const [request, listing] of this.listings)
      if (listing.thread === thread) {
        listing.settle([]);
        this.listings.delete(request);
      }
    const at = this.threads.indexOf(thread);
    if (at >= 0 && !this.closing) {
      this.options.log.error({ thread: at + 1 }, 'a network thread exited; its clients are gone');
      this.threads.splice(at, 1);
    }
  }
}
