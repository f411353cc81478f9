// Owns what a daemon network thread does (src/workers/network-thread.ts is its entry): adopt
// clients by fd, serve them with GetConnection over its own RecordReader, count the commands it
// answers in its shared counters, send their setup requests to the main thread, hand them back
// by fd, CLIENT KILL, report their state, and shutdown. Runs on any thread over any MessagePort, so tests drive it
// in place.

import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { MessagePort } from 'node:worker_threads';
import { coresBusy } from '../main/server/core-load.js';
import type { RespParserLimits } from '../main/server/resp-parser.js';
import { latencyBucket } from '../shared/command-latency-bounds.js';
import { socketFds } from '../shared/file-map.js';
import { GetRequestScan } from '../shared/get-request-scan.js';
import { IndexTable } from '../shared/index-table.js';
import {
  BLOCK_CALLS,
  BLOCK_LATENCY_BUCKETS,
  BLOCK_LATENCY_SECONDS,
  BLOCK_USEC,
  COUNTER_HITS,
  COUNTER_MISSES,
  commandCounter,
  type FromNetworkThread,
  NETWORK_COUNTERS,
  type NetworkThreadInit,
  type ToNetworkThread,
} from '../shared/network-messages.js';
import { RecordReader } from '../shared/record-reader.js';
import { socketOnFd } from '../shared/socket-reads.js';
import { GetConnection, type GetConnectionHost } from './get-connection.js';
import { ThreadCommands } from './thread-commands.js';

/** After `close`, clients that have not closed within this long are cut off (as the main thread's are). */
const LINGER_MS = 2_000;

/** The fd under a socket (Node keeps it on the handle; Unix only, as is this thread). */
function fdOf(socket: Socket): number {
  return (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
}

/** One network thread's clients and reader, driven by the messages on `port`. */
export class NetworkService implements GetConnectionHost {
  readonly reader: RecordReader;
  readonly commands: ThreadCommands;
  readonly scan: GetRequestScan;
  readonly idleTimeoutMs: number;
  readonly parserLimits: RespParserLimits;
  private readonly counters: Float64Array;
  private readonly timed: boolean;
  private readonly coreLoad: Int32Array;
  private readonly clients = new Map<number, GetConnection>();
  private readonly sweeper: NodeJS.Timeout;
  private closing = false;

  constructor(
    init: NetworkThreadInit,
    private readonly port: MessagePort,
  ) {
    this.coreLoad = new Int32Array(init.coreLoad);
    this.counters = new Float64Array(
      init.counters,
      init.slot * NETWORK_COUNTERS * 8,
      NETWORK_COUNTERS,
    );
    const index = new IndexTable(init.index);
    this.reader = new RecordReader(init.dir, index, init.readMode);
    this.commands = new ThreadCommands(
      this.reader,
      index,
      init.maxKeyBytes,
      init.parserLimits.maxBulkBytes,
    );
    this.scan = new GetRequestScan(init.maxKeyBytes);
    this.idleTimeoutMs = init.idleTimeoutMs;
    this.parserLimits = init.parserLimits;
    this.timed = init.timed;
    // Retired segments' fds (and their disk space) are let go within a second, as a reader's are.
    this.sweeper = setInterval(() => this.reader.sweep(), 1000);
    this.sweeper.unref();
    port.on('message', (message: ToNetworkThread) => this.receive(message));
  }

  count(command: number, calls: number, hits: number, misses: number, usec: number): void {
    const counters = this.counters;
    counters[COUNTER_HITS] += hits;
    counters[COUNTER_MISSES] += misses;
    counters[commandCounter(command, BLOCK_CALLS)] += calls;
    counters[commandCounter(command, BLOCK_USEC)] += usec;
    if (this.timed) {
      // Each call of a batch waited for the whole batch, as a pipelined GET on the main thread
      // is timed from its burst's start to its reply.
      const seconds = usec / 1_000_000;
      counters[commandCounter(command, BLOCK_LATENCY_SECONDS)] += seconds * calls;
      counters[commandCounter(command, BLOCK_LATENCY_BUCKETS + latencyBucket(seconds))] += calls;
    }
  }

  run(connection: GetConnection, requests: Buffer[][]): void {
    this.send({ kind: 'run', id: connection.id, requests });
  }

  handBack(connection: GetConnection, socket: Socket, bytes: Buffer): void {
    const copy = socketFds!.dupFd(fdOf(socket));
    this.clients.delete(connection.id);
    socket.removeAllListeners('close');
    socket.destroy();
    if (typeof copy !== 'number') {
      this.send({ kind: 'gone', id: connection.id }); // the client sees its connection close
      return;
    }
    this.send({ kind: 'handback', id: connection.id, fd: copy, bytes });
  }

  coresBusy(): boolean {
    return coresBusy(this.coreLoad);
  }

  gone(connection: GetConnection): void {
    if (this.clients.delete(connection.id)) this.send({ kind: 'gone', id: connection.id });
    if (this.closing && this.clients.size === 0) this.finish();
  }

  private send(message: FromNetworkThread): void {
    this.port.postMessage(message);
  }

  private receive(message: ToNetworkThread): void {
    switch (message.kind) {
      case 'adopt':
        this.adopt(message);
        break;
      case 'kill':
        this.clients.get(message.id)?.destroy();
        break;
      case 'ran': {
        const reply = message.reply;
        this.clients
          .get(message.id)
          ?.ran(
            Buffer.from(reply.buffer, reply.byteOffset, reply.length),
            message.answered,
            message.authenticated,
            message.protocol,
          );
        break;
      }
      case 'collect': {
        const heapBefore = process.memoryUsage().heapTotal;
        (globalThis.gc as (() => void) | undefined)?.();
        this.send({ kind: 'collected', heapBefore, heapAfter: process.memoryUsage().heapTotal });
        break;
      }
      case 'list':
        this.send({
          kind: 'listed',
          request: message.request,
          clients: [...this.clients.values()].map((c) => c.state()),
        });
        break;
      case 'close':
        this.closing = true;
        if (this.clients.size === 0) this.finish();
        else {
          for (const client of this.clients.values()) client.end();
          setTimeout(() => {
            for (const client of this.clients.values()) client.destroy();
          }, LINGER_MS).unref();
        }
        break;
    }
  }

  private adopt(message: ToNetworkThread & { kind: 'adopt' }): void {
    const { id, fd, bytes } = message;
    let socket: Socket;
    try {
      socket = socketOnFd(fd);
    } catch {
      this.send({ kind: 'gone', id });
      return;
    }
    if (this.closing) {
      socket.destroy();
      this.send({ kind: 'gone', id });
      return;
    }
    // Read first, before what the socket reads (as the main thread puts a handed-back client's).
    if (bytes.length > 0) socket.unshift(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
    const client = new GetConnection(id, socket, this, message.authenticated, message.protocol);
    this.clients.set(id, client);
  }

  private finish(): void {
    clearInterval(this.sweeper);
    this.reader.close();
    this.send({ kind: 'closed' });
    this.port.close();
  }
}
