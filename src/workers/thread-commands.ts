// Owns the read commands a network thread answers from its own reader besides plain GETs (MGET,
// EXISTS, TOUCH, STRLEN, TYPE, TTL, PTTL, EXPIRETIME, PEXPIRETIME, GETRANGE, SUBSTR, GETBIT,
// BITCOUNT, BITPOS, LCS, BITFIELD_RO, DBSIZE), replied to in the client's protocol (RESP2, or
// RESP3 after HELLO 3) exactly as the main thread replies (the same pure functions compute
// both); whether the main
// thread must answer one instead (a wrong arity, an argument it would refuse, a key over
// `maxKeyBytes`, a read that threw); and the bulk-string reply encoding the thread's GETs share.

import { Buffer } from 'node:buffer';
import {
  bitCountOf,
  bitPosOf,
  parseBitCount,
  parseBitPos,
} from '../main/server/commands/bits/bit-queries.js';
import { bitAt } from '../main/server/commands/bits/bit-string.js';
import { applyFieldOps, parseFieldOps } from '../main/server/commands/bits/bitfield-ops.js';
import { lcsReply, parseLcsRequest } from '../main/server/commands/strings/lcs-reply.js';
import { substringRange } from '../main/server/commands/strings/substring-range.js';
import { array, type RespValue } from '../main/server/resp-value.js';
import { type RespProtocol, RespWriter } from '../main/server/resp-writer.js';
import type { IndexTable } from '../shared/index-table.js';
import { KEY_GROUP } from '../shared/key-groups.js';
import { THREAD_COMMANDS } from '../shared/network-messages.js';
import type { RecordReader } from '../shared/record-reader.js';
import { parseInteger } from '../shared/write-ops.js';

/** A null bulk string, the reply to a GET of a missing key, by protocol (RESP2, RESP3). */
const NULL_REPLIES = { 2: Buffer.from('$-1\r\n'), 3: Buffer.from('_\r\n') } as const;
const EMPTY_REPLY = Buffer.from('$0\r\n\r\n');
const CRLF_BYTES = 2;
const STRING_REPLY = Buffer.from('+string\r\n');
const EMPTY = Buffer.alloc(0);
const NONE_REPLY = Buffer.from('+none\r\n');

/** Places in THREAD_COMMANDS (network-messages.ts). */
export const COMMAND_GET = THREAD_COMMANDS.indexOf('get');
const COMMAND_MGET = THREAD_COMMANDS.indexOf('mget');
const COMMAND_LCS = THREAD_COMMANDS.indexOf('lcs');
/**
 * Each command's arity, its name included, as the main thread's table gives it: n exactly, or
 * −n for n or more.
 */
const ARITY: ReadonlyMap<string, number> = new Map([
  ['mget', -2],
  ['exists', -2],
  ['touch', -2],
  ['strlen', 2],
  ['type', 2],
  ['ttl', 2],
  ['pttl', 2],
  ['expiretime', 2],
  ['pexpiretime', 2],
  ['getrange', 4],
  ['substr', 4],
  ['getbit', 3],
  ['bitcount', -2],
  ['bitpos', -3],
  ['lcs', -3],
  ['bitfield_ro', -2],
  ['dbsize', 1],
]);
/** The commands whose arguments are all keys (the others have one key, the first). */
const KEY_LISTS: ReadonlySet<string> = new Set(['mget', 'exists', 'touch']);

/** The keys `args` (a command of ARITY) names. */
function keysOf(name: string, args: readonly Buffer[]): readonly Buffer[] {
  if (KEY_LISTS.has(name)) return args.slice(1);
  if (name === 'lcs') return args.slice(1, 3);
  return name === 'dbsize' ? [] : args.slice(1, 2);
}

/** Whether `name` (lower case) is one of the commands `ThreadCommands` answers. */
export function isThreadCommand(name: string): boolean {
  return name !== 'get' && (THREAD_COMMANDS as readonly string[]).includes(name);
}

/** A command answered: its reply, its place in THREAD_COMMANDS, and the keys it found and missed. */
export interface ThreadAnswer {
  readonly reply: Buffer;
  readonly command: number;
  /**
   * Keys found and not found, for INFO keyspace_hits/misses (MGET and the value reads: GETRANGE,
   * SUBSTR, GETBIT, BITCOUNT, BITPOS; as on the main thread).
   */
  readonly hits: number;
  readonly misses: number;
}

/** The thread's answers to the commands of THREAD_COMMANDS but GET. Network thread only. */
export class ThreadCommands {
  /** Encodes the replies that are more than one value (LCS, BITFIELD_RO). */
  private readonly writer = new RespWriter();

  constructor(
    private readonly reader: RecordReader,
    private readonly index: IndexTable,
    private readonly maxKeyBytes: number,
    /** The bulk limit (`--max-bulk-bytes`): GETBIT refuses an offset whose byte is past it. */
    private readonly maxBulkBytes: number,
  ) {}

  /**
   * The answer to `args` (a command `isThreadCommand` names), or undefined if the main thread
   * must answer it: a wrong arity, an argument it would refuse (a start, end or bit offset that
   * is not an integer in range), a key longer than `maxKeyBytes`, or a read that threw (damage or
   * an I/O error: the main thread answers each key's error).
   */
  answer(name: string, args: readonly Buffer[], protocol: RespProtocol): ThreadAnswer | undefined {
    const arity = ARITY.get(name) ?? 0;
    if (arity === 0 || (arity > 0 ? args.length !== arity : args.length < -arity)) return undefined;
    const keys = keysOf(name, args);
    for (const key of keys) if (key.length > this.maxKeyBytes) return undefined;
    const command = THREAD_COMMANDS.indexOf(name as (typeof THREAD_COMMANDS)[number]);
    const key = keys[0]!;
    const answered = (reply: Buffer, found?: boolean): ThreadAnswer => ({
      reply,
      command,
      hits: found === true ? 1 : 0,
      misses: found === false ? 1 : 0,
    });
    try {
      switch (name) {
        case 'mget':
          return this.mget(keys, protocol);
        case 'exists':
        case 'touch':
          return answered(integerReply(this.count(keys)));
        case 'strlen':
          return answered(integerReply(this.reader.get(key)?.length ?? 0));
        case 'type':
          return answered(this.reader.has(key) ? STRING_REPLY : NONE_REPLY);
        case 'ttl':
        case 'pttl':
          return answered(integerReply(this.timeLeft(key, name === 'pttl')));
        case 'expiretime':
        case 'pexpiretime':
          return answered(integerReply(this.expiryTime(key, name === 'pexpiretime')));
        case 'getrange':
        case 'substr': {
          const [start, end] = [parseInteger(args[2]!), parseInteger(args[3]!)];
          if (start === undefined || end === undefined) return undefined;
          const value = this.reader.get(key);
          const range = value && substringRange(value.length, start, end);
          if (!range) return answered(EMPTY_REPLY, value !== undefined);
          const part = value!.subarray(range[0], range[1] + 1);
          return answered(encodeBulkReplies([part], bulkReplyBytes(part, 2), '', 2), true);
        }
        case 'getbit': {
          const offset = parseInteger(args[2]!);
          if (offset === undefined || offset < 0n) return undefined;
          if (offset >> 3n >= BigInt(this.maxBulkBytes)) return undefined;
          const value = this.reader.get(key);
          return answered(integerReply(value ? bitAt(value, Number(offset)) : 0), !!value);
        }
        case 'bitcount': {
          const request = parseBitCount(args);
          if (typeof request === 'string') return undefined;
          const value = this.reader.get(key);
          return answered(integerReply(bitCountOf(value, request)), value !== undefined);
        }
        case 'bitpos': {
          const request = parseBitPos(args);
          if (typeof request === 'string') return undefined;
          const value = this.reader.get(key);
          return answered(integerReply(bitPosOf(value, request)), value !== undefined);
        }
        case 'lcs':
          return this.lcs(args, protocol);
        case 'bitfield_ro': {
          // A SET or INCRBY (refused by BITFIELD_RO) or a bad argument: the main thread answers.
          const plan = parseFieldOps(this.maxBulkBytes, args);
          if ('kind' in plan || plan.writeBytes > 0) return undefined;
          const value = this.reader.get(key);
          const replies = applyFieldOps(value ?? EMPTY, plan.ops).replies;
          return answered(this.encode(array(replies), protocol), value !== undefined);
        }
        case 'dbsize':
          return answered(integerReply(this.index.count));
      }
    } catch {
      return undefined;
    }
    return undefined;
  }

  /**
   * EXPIRETIME/PEXPIRETIME: when `key` expires, as a Unix time (seconds, rounded; or ms), -1 if
   * it has no expiry, -2 if it does not exist, as the main thread's `expiretime.ts` computes it.
   */
  private expiryTime(key: Buffer, inMs: boolean): number {
    const at = this.reader.getWithExpiry(key)?.expiresAt;
    if (at === undefined) return -2;
    if (at === 0) return -1;
    return inMs ? at : Math.floor((at + 500) / 1000);
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

  /** LCS of two values read at one moment (as the main thread's `getMany` reads them). */
  private lcs(args: readonly Buffer[], protocol: RespProtocol): ThreadAnswer | undefined {
    const request = parseLcsRequest(args);
    if ('kind' in request) return undefined; // a bad option: the main thread answers
    const reader = this.reader;
    const [a, b] = this.index.readWithoutHalfBatches(() => [
      reader.get(args[1]!),
      reader.get(args[2]!),
    ]);
    const found = (a === undefined ? 0 : 1) + (b === undefined ? 0 : 1);
    return {
      reply: this.encode(lcsReply(request, a ?? EMPTY, b ?? EMPTY, this.maxBulkBytes), protocol),
      command: COMMAND_LCS,
      hits: found,
      misses: 2 - found,
    };
  }

  /** `value` encoded in `protocol`. */
  private encode(value: RespValue, protocol: RespProtocol): Buffer {
    this.writer.write(value, protocol);
    const parts = this.writer.take();
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** MGET: every key read while no atomic batch is half published, as the main thread reads them. */
  private mget(keys: readonly Buffer[], protocol: RespProtocol): ThreadAnswer {
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
      bytes += bulkReplyBytes(value, protocol);
      if (value !== undefined) hits++;
    }
    const reply = encodeBulkReplies(values, bytes, `*${values.length}\r\n`, protocol);
    return { reply, command: COMMAND_MGET, hits, misses: values.length - hits };
  }

  /** EXISTS and TOUCH: how many of `keys` exist (a key named twice counts twice), all read at one moment. */
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

/** The bytes of the bulk-string reply to `value` (a null when undefined) in `protocol`. */
export function bulkReplyBytes(value: Buffer | undefined, protocol: RespProtocol): number {
  if (value === undefined) return NULL_REPLIES[protocol].length;
  return 1 + decimalDigits(value.length) + CRLF_BYTES + value.length + CRLF_BYTES;
}

/**
 * `header` then the bulk-string replies to `values` in `protocol` (`bytes` long in all), as one
 * buffer.
 */
export function encodeBulkReplies(
  values: readonly (Buffer | undefined)[],
  bytes: number,
  header: string,
  protocol: RespProtocol,
): Buffer {
  const nullReply = NULL_REPLIES[protocol];
  const out = Buffer.allocUnsafe(header.length + bytes);
  let at = out.write(header, 0, 'latin1');
  for (const value of values) {
    if (value === undefined) {
      at += nullReply.copy(out, at);
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
