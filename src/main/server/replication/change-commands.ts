// Owns how the store's changes (its change feed) become the master's replication stream: RESP
// commands that give the same result on any replica, redis-server or kvd: SET key value [PXAT
// ms] for a set (its whole value and absolute expiry), DEL for a delete, MULTI … EXEC around an
// atomic batch.

import { Buffer } from 'node:buffer';
import type { StoreChange } from '../../index.js';

/** Encodes a command of byte arguments as RESP. */
export function encodeCommand(args: readonly (Buffer | string)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n');
const MULTI = encodeCommand(['MULTI']);
const EXEC = encodeCommand(['EXEC']);

/** Bytes of `n` written as decimal digits. */
function digits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : String(n).length;
}

/** Bytes of a bulk string of `length` bytes: `$<length>\r\n<bytes>\r\n`. */
function bulkBytes(length: number): number {
  return 1 + digits(length) + 2 + length + 2;
}

/** Writes `$<bytes.length>\r\n<bytes>\r\n` at `at`; returns where it ends. */
function writeBulk(out: Buffer, at: number, bytes: Uint8Array): number {
  at += out.write(`$${bytes.length}\r\n`, at, 'latin1');
  out.set(bytes, at);
  at += bytes.length;
  out[at++] = 0x0d;
  out[at++] = 0x0a;
  return at;
}

const SET_HEAD = Buffer.from('$3\r\nSET\r\n');
const DEL_HEAD = Buffer.from('*2\r\n$3\r\nDEL\r\n');
const PXAT_HEAD = Buffer.from('$4\r\nPXAT\r\n');

/**
 * One change's command (a commit gives none), encoded in one allocation: SET key value [PXAT ms]
 * or DEL key.
 */
function changeCommand(change: StoreChange): Buffer | undefined {
  if (change.type === 'set') {
    const expiry = change.expiresAt > 0 ? String(change.expiresAt) : undefined;
    const size =
      4 +
      SET_HEAD.length +
      bulkBytes(change.key.length) +
      bulkBytes(change.value.length) +
      (expiry === undefined ? 0 : PXAT_HEAD.length + bulkBytes(expiry.length));
    const out = Buffer.allocUnsafe(size);
    let at = out.write(expiry === undefined ? '*3\r\n' : '*5\r\n', 0, 'latin1');
    at += SET_HEAD.copy(out, at);
    at = writeBulk(out, at, change.key);
    at = writeBulk(out, at, change.value);
    if (expiry !== undefined) {
      at += PXAT_HEAD.copy(out, at);
      at = writeBulk(out, at, Buffer.from(expiry, 'latin1'));
    }
    return out;
  }
  if (change.type === 'delete') {
    const out = Buffer.allocUnsafe(DEL_HEAD.length + bulkBytes(change.key.length));
    writeBulk(out, DEL_HEAD.copy(out, 0), change.key);
    return out;
  }
  return undefined;
}

/** A piece of the stream and the last change (by sequence number) it carries. */
export interface StreamPiece {
  readonly bytes: Buffer;
  readonly lastSeq: number;
}

/**
 * Turns groups of changes into stream pieces, one per change or per batch (so a replica never
 * sees half a batch), keeping a batch open across groups until its commit.
 */
export class ChangeEncoder {
  private batch: Buffer[] = [];

  /** The pieces for `changes`, in order. */
  encode(changes: readonly StoreChange[]): StreamPiece[] {
    const pieces: StreamPiece[] = [];
    for (const change of changes) {
      if (change.type === 'commit') {
        pieces.push({ bytes: Buffer.concat([MULTI, ...this.batch, EXEC]), lastSeq: change.seq });
        this.batch = [];
        continue;
      }
      const command = changeCommand(change)!;
      if (change.batch) this.batch.push(command);
      else pieces.push({ bytes: command, lastSeq: change.seq });
    }
    return pieces;
  }
}
