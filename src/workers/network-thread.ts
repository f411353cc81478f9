// Entry point of one of the daemon's network threads (`kvd serve --network-threads N`): it
// serves the clients the main thread gives it (by fd) for as long as they send only plain
// GETs, read from the shared index with its own RecordReader, and connection-setup requests,
// which the main thread runs for it; it gives each one back (by fd) at its first other request. Its counters are float64s in shared memory, read by INFO.

import { Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { socketFds } from '../shared/file-map.js';
import { IndexTable } from '../shared/index-table.js';
import {
  COUNTER_GETS,
  COUNTER_HITS,
  COUNTER_MISSES,
  COUNTER_USEC,
  type FromNetworkThread,
  NETWORK_COUNTERS,
  type NetworkThreadInit,
  type ToNetworkThread,
} from '../shared/network-messages.js';
import { RecordReader } from '../shared/record-reader.js';
import { GetConnection, type GetConnectionHost } from './get-connection.js';
import { GetRequestScan } from './get-request-scan.js';

const init = workerData as NetworkThreadInit;
const port = parentPort!;
const counters = new Float64Array(
  init.counters,
  init.slot * NETWORK_COUNTERS * 8,
  NETWORK_COUNTERS,
);
const reader = new RecordReader(init.dir, new IndexTable(init.index), init.readMode);
// Retired segments' fds (and their disk space) are let go within a second, as a reader's are.
const sweeper = setInterval(() => reader.sweep(), 1000);
const clients = new Map<number, GetConnection>();
let closing = false;
/** After `close`, clients that have not closed within this long are cut off (as the main thread's are). */
const LINGER_MS = 2_000;

function send(message: FromNetworkThread): void {
  port.postMessage(message);
}

/** The fd under a socket (Node keeps it on the handle; Unix only, as is this thread). */
function fdOf(socket: Socket): number {
  return (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
}

const host: GetConnectionHost = {
  reader,
  scan: new GetRequestScan(init.maxKeyBytes),
  idleTimeoutMs: init.idleTimeoutMs,
  count(gets, hits, usec) {
    counters[COUNTER_GETS] += gets;
    counters[COUNTER_HITS] += hits;
    counters[COUNTER_MISSES] += gets - hits;
    counters[COUNTER_USEC] += usec;
  },
  run(connection, args) {
    send({ kind: 'run', id: connection.id, args });
  },
  handBack(connection, socket, bytes) {
    const copy = socketFds!.dupFd(fdOf(socket));
    clients.delete(connection.id);
    socket.removeAllListeners('close');
    socket.destroy();
    if (typeof copy !== 'number') {
      send({ kind: 'gone', id: connection.id }); // the client sees its connection close
      return;
    }
    send({ kind: 'handback', id: connection.id, fd: copy, bytes });
  },
  gone(connection) {
    if (clients.delete(connection.id)) send({ kind: 'gone', id: connection.id });
    if (closing && clients.size === 0) finish();
  },
};

function adopt(id: number, fd: number): void {
  let socket: Socket;
  try {
    socket = new Socket({ fd, readable: true, writable: true });
  } catch {
    send({ kind: 'gone', id });
    return;
  }
  if (closing) {
    socket.destroy();
    send({ kind: 'gone', id });
    return;
  }
  clients.set(id, new GetConnection(id, socket, host));
}

function finish(): void {
  clearInterval(sweeper);
  reader.close();
  send({ kind: 'closed' });
  port.close();
}

port.on('message', (message: ToNetworkThread) => {
  switch (message.kind) {
    case 'adopt':
      adopt(message.id, message.fd);
      break;
    case 'kill':
      clients.get(message.id)?.destroy();
      break;
    case 'ran': {
      const reply = message.reply;
      clients.get(message.id)?.ran(Buffer.from(reply.buffer, reply.byteOffset, reply.length));
      break;
    }
    case 'close':
      closing = true;
      if (clients.size === 0) finish();
      else {
        for (const client of clients.values()) client.end();
        setTimeout(() => {
          for (const client of clients.values()) client.destroy();
        }, LINGER_MS).unref();
      }
      break;
  }
});
