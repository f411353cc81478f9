// Owns how the store's changes (its change feed) become the master's replication stream: RESP
// commands that give the same result on any replica, redis-server or kvd: SET key value [PXAT
// ms] for a set (its whole value and absolute expiry), DEL for a delete, MULTI … EXEC around an
// atomic batch.

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

/** One change's command (a commit gives none: `ChangeEncoder` wraps batches). */
function changeCommand(change: StoreChange): Buffer | undefined {
  if (change.type === 'set') {
    return change.expiresAt > 0
      ? encodeCommand(['SET', change.key, change.value, 'PXAT', String(change.expiresAt)])
      : encodeCommand(['SET', change.key, change.value]);
  }
  if (change.type === 'delete') return encodeCommand(['DEL', change.key]);
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
