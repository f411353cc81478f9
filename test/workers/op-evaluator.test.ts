// Unit tests of src/workers/op-evaluator.ts: what each read-modify-write operation appends and
// answers for a given current value, including refusals, which must append nothing.

import { describe, expect, it } from 'vitest';
import {
  decodeHeader,
  RECORD_HEADER_BYTES,
  TYPE_DELETE,
  TYPE_PUT,
} from '../../dist/shared/format.js';
import {
  EXPIRE_IF_EARLIER,
  EXPIRE_IF_LATER,
  EXPIRE_IF_NONE,
  EXPIRE_IF_SET,
  OP_APPEND,
  OP_EXPIRE,
  OP_GETDEL,
  OP_INCRBY,
  OP_SET,
  parseInteger,
  SET_IF_ABSENT,
  SET_IF_PRESENT,
  SET_KEEP_EXPIRY,
  SET_RETURN_PREVIOUS,
} from '../../dist/shared/write-ops.js';
import { type CurrentValue, evaluate, type Operation } from '../../dist/workers/op-evaluator.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const NOW = 1_700_000_000_000;

function op(type: number, argument = '', flags = 0, expiresAt = 0): Operation {
  return { type, flags, key: enc('k'), argument: enc(argument), expiresAt };
}

function cur(value: string, expiresAt = 0): CurrentValue {
  return { value: enc(value), expiresAt };
}

/** The record an evaluation appends, decoded. */
function record(r: Uint8Array | undefined) {
  if (!r) return undefined;
  const h = decodeHeader(r, 0);
  const value = Buffer.from(r.subarray(RECORD_HEADER_BYTES + h.keyLength)).toString();
  return { type: h.type, expiresAt: h.expiresAt, value };
}

describe('evaluate', () => {
  it('increments integers, keeping the expiry, and refuses non-integers and overflow', () => {
    const a = evaluate(op(OP_INCRBY, '5'), cur('10', NOW + 5), 100, NOW);
    expect(a.result).toEqual({ applied: true, integer: 15n });
    expect(record(a.record)).toEqual({ type: TYPE_PUT, expiresAt: NOW + 5, value: '15' });
    expect(evaluate(op(OP_INCRBY, '-2'), undefined, 100, NOW).result.integer).toBe(-2n);
    for (const bad of ['abc', '01', ' 1', '+1', '1.5', '']) {
      const e = evaluate(op(OP_INCRBY, '1'), cur(bad), 100, NOW);
      expect(e.record).toBeUndefined();
      expect(e.result.error?.code).toBe('KV_NOT_INTEGER');
    }
    const overflow = evaluate(op(OP_INCRBY, '1'), cur('9223372036854775807'), 100, NOW);
    expect(overflow.result.error?.code).toBe('KV_NOT_INTEGER');
    expect(evaluate(op(OP_INCRBY, 'x'), undefined, 100, NOW).result.error?.code).toBe(
      'KV_NOT_INTEGER',
    );
  });

  it('appends, keeping the expiry, and refuses a result over the size limit', () => {
    const a = evaluate(op(OP_APPEND, 'def'), cur('abc', NOW + 1), 6, NOW);
    expect(a.result.integer).toBe(6n);
    expect(record(a.record)).toEqual({ type: TYPE_PUT, expiresAt: NOW + 1, value: 'abcdef' });
    expect(evaluate(op(OP_APPEND, 'x'), undefined, 6, NOW).result.integer).toBe(1n);
    const big = evaluate(op(OP_APPEND, 'defg'), cur('abc'), 6, NOW);
    expect(big.record).toBeUndefined();
    expect(big.result.error?.code).toBe('KV_VALUE_TOO_LARGE');
  });

  it('sets conditionally, answering the previous value when asked', () => {
    const nx = evaluate(op(OP_SET, 'v', SET_IF_ABSENT | SET_RETURN_PREVIOUS), cur('old'), 100, NOW);
    expect(nx).toEqual({ result: { applied: false, previous: enc('old') } });
    const xx = evaluate(op(OP_SET, 'v', SET_IF_PRESENT), undefined, 100, NOW);
    expect(xx).toEqual({ result: { applied: false } });
    const keep = evaluate(
      op(OP_SET, 'v', SET_KEEP_EXPIRY, NOW + 99),
      cur('old', NOW + 7),
      100,
      NOW,
    );
    expect(record(keep.record)).toEqual({ type: TYPE_PUT, expiresAt: NOW + 7, value: 'v' });
    const ttl = evaluate(op(OP_SET, 'v', 0, NOW + 99), cur('old', NOW + 7), 100, NOW);
    expect(record(ttl.record)).toEqual({ type: TYPE_PUT, expiresAt: NOW + 99, value: 'v' });
    expect(ttl.result).toEqual({ applied: true });
  });

  it('gets and deletes', () => {
    expect(evaluate(op(OP_GETDEL), undefined, 100, NOW)).toEqual({ result: { applied: false } });
    const g = evaluate(op(OP_GETDEL), cur('x'), 100, NOW);
    expect(g.result).toEqual({ applied: true, previous: enc('x') });
    expect(record(g.record)?.type).toBe(TYPE_DELETE);
  });

  it('sets, removes and applies expiries', () => {
    expect(evaluate(op(OP_EXPIRE, '', 0, NOW + 5), undefined, 100, NOW).result.applied).toBe(false);
    const set = evaluate(op(OP_EXPIRE, '', 0, NOW + 5), cur('v'), 100, NOW);
    expect(record(set.record)).toEqual({ type: TYPE_PUT, expiresAt: NOW + 5, value: 'v' });
    const past = evaluate(op(OP_EXPIRE, '', 0, NOW - 5), cur('v'), 100, NOW);
    expect(record(past.record)?.type).toBe(TYPE_DELETE);
    expect(evaluate(op(OP_EXPIRE, '', 0, 0), cur('v'), 100, NOW)).toEqual({
      result: { applied: false },
    });
    const persist = evaluate(op(OP_EXPIRE, '', 0, 0), cur('v', NOW + 5), 100, NOW);
    expect(record(persist.record)).toEqual({ type: TYPE_PUT, expiresAt: 0, value: 'v' });
  });

  it('applies an expiry only when its NX/XX/GT/LT condition holds', () => {
    const at = (flags: number, current: CurrentValue, next: number) =>
      evaluate(op(OP_EXPIRE, '', flags, next), current, 100, NOW).result.applied;
    const none = cur('v');
    const set = cur('v', NOW + 100);
    expect(at(EXPIRE_IF_NONE, none, NOW + 5)).toBe(true);
    expect(at(EXPIRE_IF_NONE, set, NOW + 5)).toBe(false);
    expect(at(EXPIRE_IF_SET, none, NOW + 5)).toBe(false);
    expect(at(EXPIRE_IF_SET, set, NOW + 5)).toBe(true);
    expect(at(EXPIRE_IF_LATER, none, NOW + 500)).toBe(false);
    expect(at(EXPIRE_IF_LATER, set, NOW + 50)).toBe(false);
    expect(at(EXPIRE_IF_LATER, set, NOW + 500)).toBe(true);
    expect(at(EXPIRE_IF_EARLIER, none, NOW + 500)).toBe(true);
    expect(at(EXPIRE_IF_EARLIER, set, NOW + 500)).toBe(false);
    expect(at(EXPIRE_IF_EARLIER, set, NOW + 50)).toBe(true);
    expect(at(EXPIRE_IF_SET | EXPIRE_IF_EARLIER, none, NOW + 50)).toBe(false);
  });

  it('refuses an unknown operation type', () => {
    expect(evaluate(op(0x99), undefined, 100, NOW).result.error?.code).toBe('KV_INTERNAL');
  });

  it('parses integers the way Redis does', () => {
    expect(parseInteger(enc('-9223372036854775808'))).toBe(-(2n ** 63n));
    expect(parseInteger(enc('9223372036854775808'))).toBeUndefined();
    expect(parseInteger(enc('0'))).toBe(0n);
    expect(parseInteger(enc('-0'))).toBeUndefined();
  });
});
