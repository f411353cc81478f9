// Owns the read commands a network thread answers from its own reader besides plain GETs (MGET,
// EXISTS, STRLEN, TYPE, TTL, PTTL), replied to in RESP2 exactly as the main thread replies; whether the
// main thread must answer one instead (a wrong arity, a key over `maxKeyBytes`, a read that
// threw); and the bulk-string reply encoding the thread's GETs share.

import type { IndexTable } from '../shared/index-table.js';
import { KEY_GROUP } from '../shared/key-groups.js';
import { THREAD_COMMANDS } from '../shared/network-messages.js';
import type { RecordReader } from '../shared/record-reader.js';

/** A null bulk string: the reply to a GET of a missing key. */
export const NULL_REPLY = Buffer.from('$-1\r\n');
const CRLF_BYTES = 2;
const STRING_REPLY = Buffer.from('+string\r\n');
const NONE_REPLY = Buffer.from('+none\r\n');

/** Places in THREAD_COMMANDS (network-messages.ts). */
export const COMMAND_GET = THREAD_COMMANDS.indexOf('get');
const COMMAND_MGET = THREAD_COMMANDS.indexOf('mget');
const COMMAND_EXISTS = THREAD_COMMANDS.indexOf('exists');
const COMMAND_STRLEN = THREAD_COMMANDS.indexOf('strlen');
const COMMAND_TYPE = THREAD_COMMANDS.indexOf('type');
const COMMAND_TTL = THREAD_COMMANDS.indexOf('ttl');
const COMMAND_PTTL = THREAD_COMMANDS.indexOf('pttl');
/** The commands of one key (the others take one or more). */
const SINGLE_KEY = new Set(['strlen', 'type', 'ttl', 'pttl']);

/** Whether `name` (lower case) is one of the commands `ThreadCommands` answers. */
export function isThreadCommand(name: string): boolean {
  return name !== 'get' && (THREAD_COMMANDS as readonly string[]).includes(name);
}

/** A command answered: its reply, its place in THREAD_COMMANDS, and the keys it found and missed. */
export interface ThreadAnswer {
  readonly reply: Buffer;
  readonly command: number;
  /** Keys found and not found, for INFO keyspace_hits/misses (MGET only, as on the main thread). */
  readonly hits: number;
  readonly misses: number;
}

/** The thread's answers to MGET, EXISTS, STRLEN, TYPE, TTL and PTTL. Network thread only. */
export class ThreadCommands {
  constructor(
    private readonly reader: RecordReader,
    private readonly index: IndexTable,
    private readonly maxKeyBytes: number,
  ) {}

  /**
   * The answer to `args` (a command `isThreadCommand` names), or undefined if the main thread
   * must answer it: a wrong arity, a key longer than `maxKeyBytes`, or a read that threw (damage
   * or an I/O error: the main thread answers each key's error).
   */
  answer(name: string, args: readonly Buffer[]): ThreadAnswer | undefined {
    const keys = args.slice(1);
    const single = SINGLE_KEY.has(name);
    if (keys.length === 0 || (single && keys.length !== 1)) return undefined;
    for (const key of keys) if (key.length > this.maxKeyBytes) return undefined;
    try {
      switch (name) {
        case 'mget':
          return this.mget(keys);
        case 'exists':
          return {
            reply: integerReply(this.count(keys)),
            command: COMMAND_EXISTS,
            hits: 0,
            misses: 0,
          };
        case 'strlen': {
          const value = this.reader.get(keys[0]!);
          const reply = integerReply(value?.length ?? 0);
          return { reply, command: COMMAND_STRLEN, hits: 0, misses: 0 };
        }
        case 'type': {
          const reply = this.reader.has(keys[0]!) ? STRING_REPLY : NONE_REPLY;
          return { reply, command: COMMAND_TYPE, hits: 0, misses: 0 };
        }
        case 'ttl':
        case 'pttl': {
          const inMs = name === 'pttl';
          const reply = integerReply(this.timeLeft(keys[0]!, inMs));
          return { reply, command: inMs ? COMMAND_PTTL : COMMAND_TTL, hits: 0, misses: 0 };
        }
      }
    } catch {
      return undefined;
    }
    return undefined;
  }

  /**
   * TTL/PTTL: the time left before `key` expires (seconds, rounded; or ms), -1 if it has no
   * expiry, -2 if it does not exist, as the main thread's `ttl.ts` computes it.
   */
  private timeLeft(key: Buffer, inMs: boolean): number {
    const at = this.reader.getWithExpiry(key)?.expiresAt;
    if (at === undefined) return -2;
    if (at === 0) return -1;
    const ms = Math.max(0, at - Date.now());
    return inMs ? ms : Math.floor((ms + 500) / 1000);
  }

  /** MGET: every key read while no atomic batch is half published, as the main thread reads them. */
  private mget(keys: readonly Buffer[]): ThreadAnswer {
    const reader = this.reader;
    const values = this.index.readWithoutHalfBatches(() => {
      const read: (Buffer | undefined)[] = [];
      for (let from = 0; from < keys.length; from += KEY_GROUP) {
        reader.hashAhead(keys, from);
        const to = Math.min(keys.length, from + KEY_GROUP);
        for (let i = from; i < to; i++) read.push(reader.get(keys[i]!, i - from));
      }
      return read;
    });
    let bytes = 0;
    let hits = 0;
    for (const value of values) {
      bytes += bulkReplyBytes(value);
      if (value !== undefined) hits++;
    }
    const reply = encodeBulkReplies(values, bytes, `*${values.length}\r\n`);
    return { reply, command: COMMAND_MGET, hits, misses: values.length - hits };
  }

  /** EXISTS: how many of `keys` exist (a key named twice counts twice), all read at one moment. */
  private count(keys: readonly Buffer[]): number {
    const reader = this.reader;
    if (keys.length === 1) return reader.has(keys[0]!) ? 1 : 0;
    return this.index.readWithoutHalfBatches(() => {
      let found = 0;
      for (let from = 0; from < keys.length; from += KEY_GROUP) {
        reader.hashAhead(keys, from);
        const to = Math.min(keys.length, from + KEY_GROUP);
        for (let i = from; i < to; i++) if (reader.has(keys[i]!, i - from)) found++;
      }
      return found;
    });
  }
}

/** The bytes of the RESP2 bulk-string reply to `value` (a null bulk string when undefined). */
export function bulkReplyBytes(value: Buffer | undefined): number {
  if (value === undefined) return NULL_REPLY.length;
  return 1 + decimalDigits(value.length) + CRLF_BYTES + value.length + CRLF_BYTES;
}

/** `header` then the RESP2 bulk-string replies to `values` (`bytes` long in all), as one buffer. */
export function encodeBulkReplies(
  values: readonly (Buffer | undefined)[],
  bytes: number,
  header: string,
): Buffer {
  const out = Buffer.allocUnsafe(header.length + bytes);
  let at = out.write(header, 0, 'latin1');
  for (const value of values) {
    if (value === undefined) {
      at += NULL_REPLY.copy(out, at);
      continue;
    }
    out[at++] = 36; // '$'
    at += out.write(String(value.length), at, 'latin1');
    out[at++] = 13;
    out[at++] = 10;
    at += value.copy(out, at);
    out[at++] = 13;
    out[at++] = 10;
  }
  return out;
}

/** The RESP2 integer reply `:n`. */
function integerReply(n: number): Buffer {
  return Buffer.from(`:${n}\r\n`, 'latin1');
}

/** How many decimal digits `n` (≥ 0) has. */
export function decimalDigits(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}
