// Owns one protocol-fuzz session against the daemon: a fresh TCP connection, a sequence of
// generated inputs written in randomly split pieces, and the replies counted until it closes.

import { connect } from 'node:net';
import { parseReply } from '../../test/fixtures/resp-client.js';

/** What one session saw. */
export interface SessionResult {
  /** Replies received. */
  readonly replies: number;
  /** Error replies among them (protocol errors included). */
  readonly errors: number;
  /** The server answered a protocol error (and so closed the connection). */
  readonly protocolError: boolean;
  /** No reply and no close within the session's time limit: the connection was cut. */
  readonly stalled: boolean;
  /** A reply that is not valid RESP, if one came (the session stops there). */
  readonly badReply: string | undefined;
}

/**
 * A mixed session closes its side once nothing has come back for this long after its last
 * write: the server drops the replies it still owes a client that has closed its side (as Redis
 * does), so closing at once would hide them.
 */
const IDLE_END_MS = 50;

/**
 * Runs one session on 127.0.0.1:`port`. A `clean` session holds valid requests only: it waits
 * for exactly one reply per input before closing its side. A mixed one writes everything, then
 * reads until the server closes (after a protocol error) or stays silent for `IDLE_END_MS`
 * (its parser may be waiting for the rest of a bulk string), and then closes its side.
 * `random` splits the writes. Never rejects.
 */
export function runSession(
  port: number,
  inputs: readonly Buffer[],
  clean: boolean,
  random: () => number,
  timeoutMs: number,
): Promise<SessionResult> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    let replies = 0;
    let errors = 0;
    let protocolError = false;
    let stalled = false;
    let badReply: string | undefined;
    const timer = setTimeout(() => {
      stalled = true;
      socket.destroy();
    }, timeoutMs);
    let idle: NodeJS.Timeout | undefined;
    let written = false;
    const endWhenIdle = (): void => {
      if (clean || !written) return;
      clearTimeout(idle);
      idle = setTimeout(() => socket.end(), IDLE_END_MS);
    };
    socket.on('error', () => {}); // EPIPE/ECONNRESET after a protocol error: expected
    socket.on('connect', () => {
      const pieces = split(Buffer.concat(inputs), random);
      const last = pieces.pop()!;
      for (const piece of pieces) socket.write(piece);
      socket.write(last, () => {
        written = true;
        endWhenIdle();
      });
    });
    socket.on('data', (chunk: Buffer) => {
      endWhenIdle();
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      try {
        for (let parsed = parseReply(pending, 0); parsed; parsed = parseReply(pending, 0)) {
          pending = pending.subarray(parsed.end);
          replies++;
          if (parsed.reply.type === 'error') {
            errors++;
            if (parsed.reply.value.startsWith('ERR Protocol error')) protocolError = true;
          }
        }
      } catch (cause) {
        badReply = cause instanceof Error ? cause.message : String(cause);
        socket.destroy();
        return;
      }
      if (clean && replies === inputs.length) socket.end();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      clearTimeout(idle);
      resolve({ replies, errors, protocolError, stalled, badReply });
    });
  });
}

/** Cuts `bytes` into pieces (at least one): a few of 1–8 bytes, most of up to 512, some of up to 64 KiB. */
function split(bytes: Buffer, random: () => number): Buffer[] {
  if (bytes.length === 0) return [bytes];
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const r = random();
    const max = r < 0.1 ? 8 : r < 0.7 ? 512 : 64 * 1024;
    const size = 1 + Math.floor(random() * max);
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}
