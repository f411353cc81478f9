// Owns BITFIELD's subcommands: parsing GET/SET/INCRBY/OVERFLOW into operations (Redis's errors and
// their order), and applying them in order to a value with Redis's overflow rules: WRAP (modulo
// the field's width), SAT (clamp to its range), FAIL (answer null, write nothing). Pure but for
// the settings it reads (the offset bound).

import { parseInteger } from '../../../../shared/write-ops.js';
import { error, integer, NULL, type RespValue } from '../../resp-value.js';
import { NOT_AN_INTEGER, SYNTAX_ERROR } from '../error-replies.js';
import { keyword } from '../keyword.js';
import { parseBitOffset } from './bit-offset.js';
import { readField, writeField } from './bit-string.js';

/** What a SET or INCRBY does when its result does not fit the field. */
export type Overflow = 'wrap' | 'sat' | 'fail';

/** One GET, SET or INCRBY, with the overflow rule in effect where it stands. */
export interface FieldOp {
  readonly op: 'get' | 'set' | 'incrby';
  readonly signed: boolean;
  readonly bits: number;
  readonly offset: number;
  /** SET's value or INCRBY's increment (0 for GET). */
  readonly value: bigint;
  readonly overflow: Overflow;
}

/** BITFIELD's operations, and the byte length a value needs for every SET and INCRBY to fit. */
export interface FieldPlan {
  readonly ops: readonly FieldOp[];
  /** 0 when there is no SET or INCRBY. */
  readonly writeBytes: number;
}

const BAD_TYPE = error(
  'ERR Invalid bitfield type. Use something like i16 u8. ' +
    'Note that u64 is not supported but i64 is.',
);
const BAD_OVERFLOW = error('ERR Invalid OVERFLOW type specified');
const ARGUMENTS: Readonly<Record<string, number>> = { get: 2, set: 3, incrby: 3 };

/** `i<1..64>` or `u<1..63>` (lower-case letter) as signedness and width, else undefined. */
function parseType(arg: Buffer): { signed: boolean; bits: number } | undefined {
  const sign = arg[0];
  if (sign !== 0x69 && sign !== 0x75) return undefined; // 'i', 'u'
  const signed = sign === 0x69;
  const bits = parseInteger(arg.subarray(1));
  if (bits === undefined || bits < 1n || bits > (signed ? 64n : 63n)) return undefined;
  return { signed, bits: Number(bits) };
}

/**
 * Parses the subcommands after the key (`maxBulkBytes`: proto-max-bulk-len, which bounds the
 * offsets); the first error found is the reply.
 */
export function parseFieldOps(
  maxBulkBytes: number,
  args: readonly Buffer[],
): FieldPlan | RespValue {
  const ops: FieldOp[] = [];
  let overflow: Overflow = 'wrap';
  let writeBytes = 0;
  for (let i = 2; i < args.length; i++) {
    const name = keyword(args[i]!);
    const remaining = args.length - i - 1;
    if (name === 'overflow' && remaining >= 1) {
      const rule = keyword(args[++i]!);
      if (rule !== 'wrap' && rule !== 'sat' && rule !== 'fail') return BAD_OVERFLOW;
      overflow = rule;
      continue;
    }
    const needed = ARGUMENTS[name];
    if (needed === undefined || remaining < needed) return SYNTAX_ERROR;
    const op = name as FieldOp['op'];
    const type = parseType(args[i + 1]!);
    if (type === undefined) return BAD_TYPE;
    const offset = parseBitOffset(maxBulkBytes, args[i + 2]!, type.bits);
    if (typeof offset !== 'number') return offset;
    let value = 0n;
    if (op !== 'get') {
      const parsed = parseInteger(args[i + 3]!);
      if (parsed === undefined) return NOT_AN_INTEGER;
      value = parsed;
      writeBytes = Math.max(writeBytes, Math.floor((offset + type.bits - 1) / 8) + 1);
    }
    ops.push({ op, ...type, offset, value, overflow });
    i += needed;
  }
  return { ops, writeBytes };
}

/** 2^63. */
const SIGN_BIT_64 = 1n << 63n;

/**
 * `wanted` made to fit a field of the op's type under its overflow rule: the value to store, or
 * undefined for FAIL when it does not fit.
 */
function fitField(op: FieldOp, wanted: bigint): bigint | undefined {
  const width = 1n << BigInt(op.bits);
  const min = op.signed ? -(width >> 1n) : 0n;
  const max = op.signed ? (width >> 1n) - 1n : width - 1n;
  if (wanted >= min && wanted <= max) return wanted;
  if (op.overflow === 'fail') return undefined;
  if (op.overflow === 'sat') {
    // Redis computes `max - value` in 64 bits for a signed SET; for a value at or below
    // max - 2^63 that wraps negative and Redis saturates to max, not min (i5 SET of
    // -9223372036854775808 stores 15). Followed so that a replica of redis-server stays equal.
    if (op.signed && op.op === 'set' && op.bits < 64 && wanted <= max - SIGN_BIT_64) return max;
    return wanted > max ? max : min;
  }
  const wrapped = ((wanted % width) + width) % width;
  return op.signed && wrapped > max ? wrapped - width : wrapped;
}

/**
 * Applies `ops` in order to `value` (in place; it must already hold every SET and INCRBY field).
 * Answers one reply per op (GET: the field; SET: its old value; INCRBY: its new value; null when
 * FAIL refused it) and how many SETs and INCRBYs wrote.
 */
export function applyFieldOps(
  value: Buffer,
  ops: readonly FieldOp[],
): { replies: RespValue[]; written: number } {
  const replies: RespValue[] = [];
  let written = 0;
  for (const op of ops) {
    const old = readField(value, op.offset, op.bits, op.signed);
    if (op.op === 'get') {
      replies.push(integer(old));
      continue;
    }
    // An unsigned SET reads its 64-bit argument as unsigned, as Redis does: -1 is 2^64 - 1.
    const asked = op.op === 'incrby' ? old + op.value : op.value;
    const wanted = op.op === 'set' && !op.signed && asked < 0n ? asked + (1n << 64n) : asked;
    const stored = fitField(op, wanted);
    if (stored === undefined) {
      replies.push(NULL);
      continue;
    }
    writeField(value, op.offset, op.bits, stored);
    written++;
    replies.push(integer(op.op === 'set' ? old : stored));
  }
  return { replies, written };
}
