// The Node floor for the `redis` scenario: the least a Redis-protocol server written for Node's
// event loop can do. It parses each multibulk request (lengths read, arguments sliced, nothing
// copied) and answers from constants: SET with +OK, GET with one fixed 100-byte value, PING with
// +PONG. No store, no durability, no command table. Whatever it cannot reach under
// redis-benchmark, no single-threaded Node daemon can, kvd included: its rate is the ceiling
// that kvd's rate is read against. Its sockets read into one buffer, as kvd's do. Run as its
// own process: `node resp-floor.js PORT`.

import { createServer, Socket, type SocketConstructorOpts } from 'node:net';

const CR = 13;
const OK = Buffer.from('+OK\r\n');
const PONG = Buffer.from('+PONG\r\n');
/** The GET reply: a 100-byte bulk string, the size redis-benchmark's `-d 100` stores. */
const VALUE = Buffer.from(`$100\r\n${'x'.repeat(100)}\r\n`);
const EMPTY_ARRAY = Buffer.from('*0\r\n');
const UNKNOWN = Buffer.from('-ERR unknown command\r\n');

/** The reply to one request, picked by its first argument's bytes. */
function replyTo(name: Buffer): Buffer {
  const first = name[0]! | 0x20;
  if (name.length === 3 && first === 0x73) return OK; // set
  if (name.length === 3 && first === 0x67) return VALUE; // get
  if (name.length === 4 && first === 0x70) return PONG; // ping
  if (name.length === 6 && first === 0x63) return EMPTY_ARRAY; // config (redis-benchmark asks)
  return UNKNOWN;
}

/** Parses a decimal length in `buf[start, end)`; NaN when malformed. */
function readLength(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return end > start ? n : Number.NaN;
}

/**
 * Answers every complete request in `buf`; returns the offset of the first incomplete one.
 * Replies are gathered and written once per chunk, as kvd does per batch.
 */
function answer(socket: Socket, buf: Buffer): number {
  let pos = 0;
  const replies: Buffer[] = [];
  parse: while (pos < buf.length) {
    const start = pos;
    let cr = buf.indexOf(CR, pos);
    if (cr < 0 || buf[pos] !== 0x2a) break;
    const count = readLength(buf, pos + 1, cr);
    pos = cr + 2;
    let name: Buffer | undefined;
    for (let i = 0; i < count; i++) {
      cr = buf.indexOf(CR, pos);
      if (cr < 0) {
        pos = start;
        break parse;
      }
      const length = readLength(buf, pos + 1, cr);
      pos = cr + 2;
      if (pos + length + 2 > buf.length) {
        pos = start;
        break parse;
      }
      if (i === 0) name = buf.subarray(pos, pos + length);
      pos += length + 2;
    }
    replies.push(name ? replyTo(name) : UNKNOWN);
  }
  if (replies.length === 1) socket.write(replies[0]!);
  else if (replies.length > 1) socket.write(Buffer.concat(replies));
  return pos;
}

const port = Number(process.argv[2]);
/** The read buffer of every socket (Node's `onread`): a read is answered before the next. */
const readBuffer = Buffer.allocUnsafe(64 * 1024);
// Paused, so that no read is made before its socket reads into `readBuffer` instead.
createServer({ pauseOnConnect: true }, (accepted) => {
  let rest: Buffer | undefined;
  // A socket on the accepted one's handle, made with `onread` (which a server cannot pass on):
  // Node allocates no buffer a read, as kvd's sockets (src/shared/socket-reads.ts).
  const handle = (accepted as unknown as { _handle: unknown })._handle;
  const options = {
    handle,
    readable: true,
    writable: true,
    onread: {
      buffer: readBuffer,
      callback: (bytes: number): boolean => {
        const chunk = readBuffer.subarray(0, bytes);
        const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
        const used = answer(socket, buf);
        rest = used < buf.length ? Buffer.from(buf.subarray(used)) : undefined; // its own bytes
        return true;
      },
    },
  };
  const socket = new Socket(options as SocketConstructorOpts);
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
}).listen(port, '127.0.0.1');
